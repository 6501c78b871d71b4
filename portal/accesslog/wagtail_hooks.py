"""접속기록 of the shop's business details (Wagtail admin › 설정 › 사업자 정보): each save that changes them appends a
record naming the fields changed, never their values, as the mileage settings' save does. django-auditlog keeps
the values' 변경 이력 apart."""

from wagtail import hooks

from cms_pages.models import MerchantDetails

from .models import AccessAction
from .services import REASON_BUSINESS_DETAILS, access_record, field_label

_BEFORE = "_merchant_details_before"


def _values(details: MerchantDetails) -> dict[str, object]:
    return {field.name: field.value_from_object(details) for field in details._meta.concrete_fields
            if field.editable and not field.primary_key and field.name != "site"}


@hooks.register("before_edit_setting")
def remember_business_details(request, instance):
    if isinstance(instance, MerchantDetails) and request.method == "POST":
        setattr(request, _BEFORE, _values(instance))


@hooks.register("after_edit_setting")
def log_business_details_change(request, instance):
    before = getattr(request, _BEFORE, None)
    if before is None or not isinstance(instance, MerchantDetails):
        return
    saved = MerchantDetails.objects.get(pk=instance.pk)
    changed = [field_label(MerchantDetails, name) for name, value in _values(saved).items() if before.get(name) != value]
    if changed:
        access_record(action=AccessAction.SETTINGS, request=request, targets=changed, reason=REASON_BUSINESS_DETAILS)
