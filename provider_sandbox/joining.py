"""The provider's partner sign-up (docs/protocol.md §3, docs/policy.md J1–J3): a merchant applies, the
provider reviews (심사), and on approval issues the API ID's hash key once — shown once on the applicant's page
and mailed.

The API ID is issued at application (extension), so a shop can follow its application with getAccumRate's
serviceStatus (REVIEW until approved) and this page's status.
"""

import secrets
from urllib.parse import urlencode, urlsplit

from django import forms
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .models import Application, ApplicationStatus, Merchant

REVIEWER_SESSION_KEY = "sandbox_reviewer"


def business_no_ok(value: str) -> bool:
    """사업자등록번호 (123-45-67890): ten digits whose last is the check digit of the national rule."""
    digits = [int(ch) for ch in value if ch.isascii() and ch.isdigit()]
    if len(digits) != 10 or len(value.replace("-", "")) != 10:
        return False
    weights = (1, 3, 7, 1, 3, 7, 1, 3, 5)
    total = sum(d * w for d, w in zip(digits, weights, strict=False)) + digits[8] * 5 // 10
    return (10 - total % 10) % 10 == digits[9]


class ApplicationForm(forms.ModelForm):
    shop_url = forms.URLField(label="쇼핑몰 URL", assume_scheme="https")

    class Meta:
        model = Application
        fields = ["company", "ceo", "business_no", "shop_url", "contact_name", "email", "phone", "done_url_host"]

    def clean_business_no(self):
        value = self.cleaned_data["business_no"].strip()
        if not business_no_ok(value):
            raise forms.ValidationError("사업자등록번호가 올바르지 않습니다 (10자리, 검증번호 확인). "
                                        "(Not a valid business registration number.)")
        return value

    def clean_done_url_host(self):
        value = self.cleaned_data["done_url_host"].strip().lower()
        host = urlsplit(value if "//" in value else f"//{value}").hostname or ""
        if not host or any(ch in host for ch in " /?#@"):
            raise forms.ValidationError("doneUrl의 호스트를 입력해 주세요 (예: shop.example.com).")
        return host

    def clean_phone(self):
        value = self.cleaned_data["phone"].strip()
        if not all(ch.isascii() and (ch.isdigit() or ch == "-") for ch in value) or len(value) < 9:
            raise forms.ValidationError("연락처를 숫자와 - 로 입력해 주세요.")
        return value


def _new_api_id() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        api_id = "".join(secrets.choice(alphabet) for _ in range(6))
        if not Merchant.objects.filter(api_id=api_id).exists():
            return api_id


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    """가입신청: the shop's 가입신청하기 button lands here (`return` brings the applicant back to the shop)."""
    back = request.GET.get("return", "") or request.POST.get("return", "")
    form = ApplicationForm(request.POST or None, initial={"shop_url": request.GET.get("shop", "")})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            application = form.save(commit=False)
            application.api_id, application.token = _new_api_id(), secrets.token_urlsafe(24)
            # the merchant exists from now on, under review, with a key nobody knows yet
            application.merchant = Merchant.objects.create(api_id=application.api_id, profile=settings.SANDBOX_PROFILE, hash_key=secrets.token_hex(20),
                                                           name=application.company, service_status="REVIEW")
            application.save()
        target = redirect("join-status", token=application.token)
        if back.startswith(("http://", "https://")):
            target["Location"] += "?" + urlencode({"return": back})
        return target
    return render(request, "sandbox/join_apply.html", {"form": form, "back": back},
                  status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def status(request: HttpRequest, token: str) -> HttpResponse:
    """The applicant's page: the state, the reason of a rejection (with the form to correct and send again), and
    once approved the keys — the hash key shown this one time."""
    application = get_object_or_404(Application, token=token)
    back = request.GET.get("return", "")
    form = None
    if application.status == ApplicationStatus.REJECTED:
        form = ApplicationForm(request.POST or None, instance=application)
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                application = form.save(commit=False)
                application.status, application.reject_reason = ApplicationStatus.REVIEW, ""
                application.save()
            return redirect("join-status", token=token)
    show_key = application.status == ApplicationStatus.APPROVED and not application.keys_shown
    if show_key:
        Application.objects.filter(pk=application.pk).update(keys_shown=True)
    if back.startswith(("http://", "https://")):
        back = f"{back}{'&' if '?' in back else '?'}{urlencode({'apiId': application.api_id})}"
    return render(request, "sandbox/join_status.html", {
        "application": application, "form": form, "show_key": show_key, "back": back},
        status=400 if request.method == "POST" and form is not None else 200)


@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    """The provider's reviewer: the queue of applications, approve or reject with a reason."""
    if not request.session.get(REVIEWER_SESSION_KEY):
        error = ""
        if request.method == "POST":
            if secrets.compare_digest(request.POST.get("password", "").encode(),
                                      settings.SANDBOX_REVIEWER_PASSWORD.encode()):
                request.session[REVIEWER_SESSION_KEY] = True
                return redirect("join-review")
            error = "비밀번호가 올바르지 않습니다."
        return render(request, "sandbox/join_review_login.html", {"error": error}, status=400 if error else 200)
    message = ""
    if request.method == "POST":
        application = get_object_or_404(Application, pk=request.POST.get("application", "0")
                                        if (request.POST.get("application", "") or "0").isdigit() else 0)
        action, reason = request.POST.get("action", ""), request.POST.get("reason", "").strip()[:300]
        if application.status != ApplicationStatus.REVIEW:
            message = "이미 심사가 끝난 신청입니다."
        elif action == "reject" and not reason:
            message = "반려 사유를 입력해 주세요."
        elif action == "reject":
            _reject(application, reason)
            message = f"{application.company}: 반려했습니다."
        elif action == "approve":
            _approve(application)
            message = f"{application.company}: 승인했습니다. 인증키가 발급되었습니다."
    return render(request, "sandbox/join_review.html", {
        "waiting": Application.objects.filter(status=ApplicationStatus.REVIEW),
        "done": Application.objects.exclude(status=ApplicationStatus.REVIEW)[:50], "message": message})


def _reject(application: Application, reason: str) -> None:
    application.status, application.reject_reason = ApplicationStatus.REJECTED, reason
    application.reviewed_at = timezone.now()
    application.save(update_fields=["status", "reject_reason", "reviewed_at"])
    send_mail("[네이버 마일리지] 가맹점 가입 신청이 반려되었습니다",
              f"{application.company} 담당자님,\n\n반려 사유: {reason}\n\n신청 내용을 고쳐 다시 보내 주세요.",
              None, [application.email])


def _approve(application: Application) -> None:
    """J2: the two keys — the API ID issued at application and a fresh hash key, issued once."""
    hash_key = secrets.token_hex(20)
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().get(pk=application.merchant_id)
        merchant.hash_key, merchant.service_status, merchant.name = hash_key, "ACTIVE", application.company
        merchant.save(update_fields=["hash_key", "service_status", "name"])
        application.status, application.reviewed_at = ApplicationStatus.APPROVED, timezone.now()
        application.save(update_fields=["status", "reviewed_at"])
    send_mail("[네이버 마일리지] 가맹점 가입이 승인되었습니다 — 인증키 안내",
              f"{application.company} 담당자님,\n\n가맹점 API ID: {application.api_id}\n해쉬키(인증키): {hash_key}\n\n"
              f"쇼핑몰 운영자 화면의 노출설정 및 셋팅에 두 인증키를 입력해 주세요. 해쉬키는 다른 사람에게 알려 주지 마세요.",
              None, [application.email])

