"""접속기록 of the shop's business details (Wagtail admin › 설정 › 사업자 정보): each save that changes them appends a
record naming the fields changed, never their values, as the mileage settings' save does. django-auditlog keeps
the values' 변경 이력 apart."""

import copy

from wagtail import hooks

from cms_pages.models import MerchantDetails

from .models import AccessAction
from .services import REASON_BUSINESS_DETAILS, access_record, changed_fields

_BEFORE = "_merchant_details_before"


@hooks.register("before_edit_setting")
def remember_business_details(request, instance):
    if isinstance(instance, MerchantDetails) and request.method == "POST":
        setattr(request, _BEFORE, copy.copy(instance))  # the row as stored, before the form writes into it


@hooks.register("after_edit_setting")
def log_business_details_change(request, instance):
    before = getattr(request, _BEFORE, None)
    if before is None or not isinstance(instance, MerchantDetails):
        return
    saved = MerchantDetails.objects.get(pk=instance.pk)
    changed = changed_fields(before, saved, skip=("site",))
    if changed:
        access_record(action=AccessAction.SETTINGS, request=request, targets=changed, reason=REASON_BUSINESS_DETAILS)
