"""The second factor of staff logins (issue 25): a TOTP authenticator app (django-otp's TOTPDevice).

A staff person without a confirmed device enrols at 2단계 인증 등록 (`accounts:otp-setup`): the app scans a QR code
drawn here (SVG, no third party sees the secret) or takes the secret typed in, and one code from it confirms the
device. With a device, 2단계 인증 (`accounts:otp-verify`) asks for the current code once per login. Wrong codes are
throttled by django-otp (1, 2, 4, 8 … seconds between tries, OTP_TOTP_THROTTLE_FACTOR) under the device's row lock;
the screen says how long to wait. A lost phone: `manage.py staff_2fa_reset LOGIN` removes the devices, and the
next login enrols again. Which requests need the code is decided in portal/accounts/staff.py.
"""

import base64
import math
from dataclasses import dataclass
from datetime import datetime

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import FormView
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .roles import EDITOR_PERMISSION, OPERATOR_PERMISSION, is_staff_person

DEVICE_NAME = "인증 앱"


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("id").first()


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def home_of(user) -> str:
    """Where a staff person goes after the code when no page was asked for: the console, /cms/ or the Django admin."""
    if user.is_superuser or user.has_perm(OPERATOR_PERMISSION):
        return reverse("console:dashboard")
    if user.has_perm(EDITOR_PERMISSION):
        return reverse("wagtailadmin_home")
    return reverse("admin:index")


@dataclass(frozen=True)
class Verification:
    device: TOTPDevice | None  # the device that accepted the code; None when refused
    locked_until: datetime | None = None  # set when the try was not even checked: too many wrong codes


def verify_code(*, device: TOTPDevice, code: str) -> Verification:
    """Check one code under the device's row lock (two tries at once are counted as two); a refused code lengthens
    the wait before the next try (django-otp's throttling)."""
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, info = locked.verify_is_allowed()
        if not allowed:
            return Verification(device=None, locked_until=(info or {}).get("locked_until"))
        return Verification(device=locked if locked.verify_token(code) else None)


def qr_code_data_uri(text: str) -> str:
    """The QR code of `text` as an SVG data URI (the pages' CSP allows data: images, and nothing leaves the shop)."""
    svg = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.to_string()).decode()


def secret_for_typing(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, as authenticator apps take it typed in."""
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("인증 코드"), max_length=12, widget=forms.TextInput(attrs={
        "autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}))

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not code.isascii() or not code.isdigit() or len(code) != 6:
            raise forms.ValidationError(_("인증 앱에 표시된 6자리 숫자를 입력해 주세요."))
        return code


class _StaffCodeView(LoginRequiredMixin, FormView):
    form_class = CodeForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_staff_person(request.user):
            return redirect("/")  # buyers have no second factor
        return super().dispatch(request, *args, **kwargs)

    def next_url(self) -> str:
        wanted = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if url_has_allowed_host_and_scheme(wanted, allowed_hosts={self.request.get_host()},
                                           require_https=self.request.is_secure()):
            return wanted
        return home_of(self.request.user)

    def with_next(self, name: str) -> str:
        return f"{reverse(name)}?{self.request.GET.urlencode()}" if self.request.GET else reverse(name)

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=self.next_url(), **kwargs)

    def verified(self, device: TOTPDevice):
        otp_login(self.request, device)
        self.request.session.cycle_key()  # a new session key with the raised privilege
        return redirect(self.next_url())

    def refused(self, form, result: Verification):
        if result.locked_until is not None:
            seconds = max(1, math.ceil((result.locked_until - timezone.now()).total_seconds()))
            form.add_error("code", ngettext("인증 코드를 여러 번 잘못 입력했습니다. %(seconds)s초 후에 다시 입력해 주세요.",
                                            "인증 코드를 여러 번 잘못 입력했습니다. %(seconds)s초 후에 다시 입력해 주세요.",
                                            seconds) % {"seconds": f"{seconds:,}"})
        else:
            form.add_error("code", _("인증 코드가 맞지 않습니다. 인증 앱에 지금 표시된 코드를 입력해 주세요."))
        return self.form_invalid(form)


class OTPVerifyView(_StaffCodeView):
    """2단계 인증: the current code of the enrolled app, once per login."""

    template_name = "accounts/otp_verify.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and is_staff_person(request.user):
            if request.user.is_verified():
                return redirect(self.next_url())
            if not has_confirmed_device(request.user):
                return redirect(self.with_next("accounts:otp-setup"))
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        result = verify_code(device=confirmed_device(self.request.user), code=form.cleaned_data["code"])
        return self.verified(result.device) if result.device else self.refused(form, result)


class OTPSetupView(_StaffCodeView):
    """2단계 인증 등록: a new device, confirmed by its first code. Once confirmed its secret is never shown again."""

    template_name = "accounts/otp_setup.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and is_staff_person(request.user) and has_confirmed_device(request.user):
            return redirect(self.with_next("accounts:otp-verify"))
        return super().dispatch(request, *args, **kwargs)

    def device(self) -> TOTPDevice:
        """The enrolment under way (the same secret on every reload until it is confirmed), or a new one."""
        user = self.request.user
        device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("id").first()
        return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)

    def get_context_data(self, **kwargs):
        device = self.device()
        return super().get_context_data(qr_code=qr_code_data_uri(device.config_url), secret=secret_for_typing(device),
                                        issuer=settings.OTP_TOTP_ISSUER, **kwargs)

    def form_valid(self, form):
        device = self.device()
        result = verify_code(device=device, code=form.cleaned_data["code"])
        if result.device is None:
            return self.refused(form, result)
        with transaction.atomic():
            TOTPDevice.objects.filter(user=self.request.user, confirmed=False).exclude(pk=device.pk).delete()
            TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        result.device.confirmed = True
        messages.success(self.request, _("2단계 인증이 등록되었습니다. 다음 로그인부터는 인증 앱의 코드를 입력합니다."))
        return self.verified(result.device)
