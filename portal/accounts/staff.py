"""Staff logins (issue 25): the second factor before the staff areas, and a staff session's end.

- The staff areas are the console (/console/), the Wagtail admin (/cms/) and the Django admin (/django-admin/); their
  own login, logout and password-reset pages stay open. With STAFF_2FA_REQUIRED (on in production), a staff person
  (portal.accounts.roles: operator, editor, superuser, Django-admin staff) whose session has no verified code is sent
  to 2단계 인증 — or to 2단계 인증 등록 without a device yet (portal/accounts/two_factor.py) — and comes back where
  they were going. Without the setting (development), a staff person who enrolled by choice is asked for the code
  all the same. Buyers are never asked: the role is read afresh on every staff-area request, so a member made an
  operator mid-session is asked before the console too.
- A staff person's session ends after STAFF_SESSION_IDLE_MINUTES without a request, and STAFF_SESSION_MAX_HOURS after
  the login whatever the activity: the request is then anonymous and the area's own login page asks again, with a
  message saying why. A buyer's session is untouched (it lives as long as the browser: the inflow, POLICY I2).
  The last request's time is written at most once a minute, not on every request.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .roles import is_staff_person
from .two_factor import has_confirmed_device

SINCE = "staff_since"  # epoch seconds of the staff person's login; its presence marks a staff session
SEEN = "staff_seen"  # epoch seconds of the last request (to the minute)
SEEN_RESOLUTION_SECONDS = 60
ENROLLED = "staff_enrolled"  # the staff person had a confirmed device at login: asked for a code even when optional


def _now() -> int:
    return int(timezone.now().timestamp())


def start_staff_session(session) -> None:
    session[SINCE] = session[SEEN] = _now()


@receiver(user_logged_in, dispatch_uid="portal.accounts.staff.login")
def _on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session") and is_staff_person(user):
        start_staff_session(request.session)
        if not settings.STAFF_2FA_REQUIRED and has_confirmed_device(user):
            request.session[ENROLLED] = True  # enrolled by choice: the code is asked all the same


def session_end_reason(session, now: int) -> str | None:
    """Why a staff session is over at `now` (a message for the login page), or None while it goes on."""
    since, seen = session.get(SINCE), session.get(SEEN)
    if since is None:
        return None
    if now - since >= settings.STAFF_SESSION_MAX_HOURS * 3600:
        return _("로그인한 지 %(hours)s시간이 지나 보안을 위해 로그아웃되었습니다. 다시 로그인해 주세요.") % {
            "hours": settings.STAFF_SESSION_MAX_HOURS}
    if now - (seen or since) >= settings.STAFF_SESSION_IDLE_MINUTES * 60:
        return _("%(minutes)s분 동안 사용하지 않아 보안을 위해 로그아웃되었습니다. 다시 로그인해 주세요.") % {
            "minutes": settings.STAFF_SESSION_IDLE_MINUTES}
    return None


class StaffAreas:
    """The staff areas' URL prefixes and their open pages, read from the URLconf once."""

    def __init__(self):
        self._areas: tuple[str, ...] | None = None
        self._open: tuple[str, ...] = ()

    def _load(self) -> None:
        self._areas = (reverse("console:dashboard"), reverse("wagtailadmin_home"), reverse("admin:index"))
        self._open = (reverse("wagtailadmin_login"), reverse("wagtailadmin_logout"),
                      reverse("wagtailadmin_password_reset"), reverse("admin:login"), reverse("admin:logout"))

    def guarded(self, path: str) -> bool:
        if self._areas is None:
            self._load()
        return path.startswith(self._areas) and not path.startswith(self._open)


class StaffAccessMiddleware:
    """After the authentication, django-otp's OTPMiddleware and the messages."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.areas = StaffAreas()

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)  # nobody logged in; the session is left unread (no Vary: Cookie)
        guarded = self.areas.guarded(request.path_info)
        if SINCE in request.session:
            self._keep_or_end(request)
        elif guarded and is_staff_person(request.user):
            start_staff_session(request.session)  # a session that became a staff person's after its login
        if guarded and (settings.STAFF_2FA_REQUIRED or request.session.get(ENROLLED)):
            user = request.user
            if is_staff_person(user) and not user.is_verified():
                return self._ask_for_code(request, user)
        return self.get_response(request)

    @staticmethod
    def _keep_or_end(request) -> None:
        now = _now()
        reason = session_end_reason(request.session, now)
        if reason is not None:
            logout(request)
            messages.info(request, reason)
        elif now - request.session.get(SEEN, 0) >= SEEN_RESOLUTION_SECONDS:
            request.session[SEEN] = now

    @staticmethod
    def _ask_for_code(request, user):
        page = "accounts:otp-verify" if has_confirmed_device(user) else "accounts:otp-setup"
        back = request.get_full_path() if request.method == "GET" else request.path
        return redirect(f"{reverse(page)}?{urlencode({'next': back})}")
