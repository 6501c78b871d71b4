"""상점관리 › 네이버 마일리지 › "네이버 마일리지란?" (manual §1, docs/policy.md J1–J3): the service explained (the CMS's 서비스 소개
page, edited by merchant editors), the 가입신청하기 button to the provider's partner sign-up, and the application's
state as the provider tells it (미가입 / 심사중 / 반려 with the reason / 승인)."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from cms_pages.models import ServiceOverviewPage
from cms_pages.selectors import live_in_reader_language
from mileage.models import MileageSettings
from mileage.models.settings import ProviderProfile, api_id_validator
from mileage.provider import ProviderError, extensions
from mileage.provider.client import client_for

from .access import OperatorRequiredMixin


@dataclass(frozen=True)
class Application:
    state: str  # none | review | rejected | approved | unknown
    label: str
    reason: str = ""


def application_state(api_id: str, *, has_key: bool = False) -> Application:
    """What the provider says of this shop's API ID: getAccumRate's serviceStatus (and the sign-up's extension
    fields). No API ID yet: 미가입. `has_key`: the shop has entered its hash key (the keys came by mail)."""
    if not api_id:
        return Application("none", _("미가입"))
    try:
        answer = client_for(api_id, "").accum_rate(fresh=True)
    except ProviderError as exc:
        return Application("unknown", _("확인할 수 없음"), _("네이버 마일리지 응답 코드 %(code)s") % {"code": exc.code})
    advertised = extensions.advertised_in(answer.raw)
    if MileageSettings.load().provider_profile == ProviderProfile.STANDARD:
        advertised = frozenset()
    service = extensions.info_from(answer).service_status  # read as the shop reads it
    if extensions.JOIN not in advertised:
        # the standard profile: the provider says nothing of applications; its keys arrive by mail (manual §1).
        # Once both are entered, getAccumRate's serviceStatus says where the shop stands
        if not has_key:
            return Application("manual", _("발급받은 키 입력"))
        if service == "REVIEW":
            return Application("review", _("심사중"))
        if service == "SUSPENDED":
            return Application("suspended", _("이용정지"))
        return Application("approved", _("승인"))
    application = str(answer.raw.get("applicationStatus", ""))
    if application == "REJECTED":
        return Application("rejected", _("반려"), str(answer.raw.get("rejectReason", "")))
    if application == "REVIEW" or service == "REVIEW":
        return Application("review", _("심사중"))
    if service == "SUSPENDED":
        return Application("suspended", _("이용정지"))
    return Application("approved", _("승인"))


class ApplicationIdForm(forms.Form):
    api_id = forms.CharField(label=gettext_lazy("가맹점 API ID (신청번호)"), max_length=6, validators=[api_id_validator],
                             widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}))


class MileageAboutView(OperatorRequiredMixin, View):
    template_name = "console/mileage_about.html"

    def get(self, request):
        current = MileageSettings.load()
        returned = request.GET.get("apiId", "")
        form = ApplicationIdForm(initial={"api_id": returned or current.api_id})
        return self.render(request, current, form)

    def post(self, request):
        current = MileageSettings.load()
        form = ApplicationIdForm(request.POST)
        if current.hash_key:  # the form is not on the page then: said as a message, whatever was sent
            messages.error(request, _("인증키가 이미 입력되어 있습니다. API ID는 노출설정 및 셋팅에서 바꿔 주세요."))
            return redirect("console:mileage-about")
        if not form.is_valid():
            return self.render(request, current, form, status=400)
        current.api_id, current.updated_by = form.cleaned_data["api_id"].upper(), request.user
        current.save(update_fields=["api_id", "updated_by", "updated_at"])
        messages.success(request, _("가맹점 API ID를 저장했습니다. 심사 상태를 네이버 마일리지에서 확인합니다."))
        return redirect("console:mileage-about")

    def render(self, request, current, form, status=200):
        about = request.build_absolute_uri(reverse("console:mileage-about"))
        join_url = (settings.MILEAGE_PARTNER_SIGNUP_URL or f"{settings.MILEAGE_SERVICE_BASE.rstrip('/')}/partner/join/") + "?" + urlencode(
            {"shop": request.build_absolute_uri("/"), "return": about})
        api_id, hash_key = current.api_id, current.hash_key
        return render(request, self.template_name, {
            "page": live_in_reader_language(ServiceOverviewPage), "join_url": join_url, "form": form,
            "application": application_state(api_id, has_key=bool(hash_key)), "api_id": api_id,
            "has_key": bool(hash_key),
        }, status=status)

