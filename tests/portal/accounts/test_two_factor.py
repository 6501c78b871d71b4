"""Staff logins' second factor (portal/accounts/staff.py, two_factor.py): with STAFF_2FA_REQUIRED, as production has
it, operators, editors and admins enrol an authenticator app and enter its code before the console, /cms/ and
/django-admin/; buyers are never asked; with the setting off (development, the test settings) nothing changes."""

from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import Member
from tests.hardening.test_production_settings import _run

pytestmark = pytest.mark.django_db
PASSWORD = "staff-pw-1234!"


@pytest.fixture
def required(settings):
    settings.STAFF_2FA_REQUIRED = True


def _user(username: str, *, codename: str | None = None, app: str = "", **flags) -> User:
    user = User.objects.create_user(username, password=PASSWORD, **flags)
    if codename:
        group, _ = Group.objects.get_or_create(name=f"group-{codename}")
        group.permissions.add(Permission.objects.get(codename=codename, content_type__app_label=app))
        user.groups.add(group)
    return user


def operator_user(username: str = "op") -> User:
    return _user(username, codename="operate_console", app="orders")


def logged_in(user: User) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[-500:]
    return client


def code_of(device: TOTPDevice, steps: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits, drift=steps):06d}"


def a_wrong_code(device: TOTPDevice) -> str:
    near = {code_of(device, steps) for steps in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in near)


def next_of(response) -> str:
    return parse_qs(urlparse(response["Location"]).query)["next"][0]


def test_an_operator_without_a_device_is_sent_to_enrol_and_gets_in_with_a_correct_code(required):
    # given an operator who logged in with the password only
    client = logged_in(operator_user())
    # when they open the console
    response = client.get("/console/orders/?status=paid")
    # then they are sent to enrol first, and come back where they were going
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/setup/")
    assert next_of(response) == "/console/orders/?status=paid"
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html and "2단계 인증 등록" in html
    device = TOTPDevice.objects.get(user__username="op")
    assert not device.confirmed and page.context["secret"].replace(" ", "") in html.replace(" ", "")
    # when they enter the app's current code
    done = client.post("/accounts/2fa/setup/", {"code": code_of(device), "next": "/console/orders/?status=paid"})
    # then the device is confirmed and the console opens
    assert done.status_code == 302 and done["Location"] == "/console/orders/?status=paid"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/console/orders/").status_code == 200


def test_reloading_the_enrolment_shows_the_same_secret_until_it_is_confirmed(required):
    client = logged_in(operator_user())
    first = client.get("/accounts/2fa/setup/").context["secret"]
    assert client.get("/accounts/2fa/setup/").context["secret"] == first
    assert TOTPDevice.objects.count() == 1


def test_a_wrong_code_is_refused_and_the_next_try_is_throttled(required, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a minute before the second try: no race with a slow machine
    client = logged_in(operator_user())
    client.get("/accounts/2fa/setup/")
    device = TOTPDevice.objects.get()
    # when a wrong code is entered
    refused = client.post("/accounts/2fa/setup/", {"code": a_wrong_code(device)})
    # then it is refused with a clear message, and the console stays closed
    assert refused.status_code == 200
    assert "인증 코드가 맞지 않습니다" in refused.content.decode()
    assert client.get("/console/orders/").status_code == 302
    # and even the right code right away is not checked: django-otp's throttle says how long to wait
    throttled = client.post("/accounts/2fa/setup/", {"code": code_of(device)})
    assert "여러 번 잘못 입력했습니다" in throttled.content.decode() and "초 후에" in throttled.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1


def test_a_code_that_is_not_six_digits_is_refused_without_counting(required):
    client = logged_in(operator_user())
    client.get("/accounts/2fa/setup/")
    response = client.post("/accounts/2fa/setup/", {"code": "12ab"})
    assert "6자리 숫자" in response.content.decode()
    assert TOTPDevice.objects.get().throttling_failure_count == 0


def test_an_operator_with_a_device_enters_its_code_once_per_login(required):
    # given an operator with a confirmed device
    user = operator_user()
    device = TOTPDevice.objects.create(user=user, name="인증 앱", confirmed=True)
    client = logged_in(user)
    # when they open the console, they are asked for the code
    response = client.get("/console/orders/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/?")
    assert client.get("/accounts/2fa/setup/")["Location"].startswith("/accounts/2fa/")  # no second device
    wrong = client.post("/accounts/2fa/", {"code": a_wrong_code(device), "next": "/console/orders/"})
    assert wrong.status_code == 200 and "인증 코드가 맞지 않습니다" in wrong.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    ok = client.post("/accounts/2fa/", {"code": code_of(device), "next": "/console/orders/"})
    # then the console opens for the rest of the session
    assert ok.status_code == 302 and ok["Location"] == "/console/orders/"
    assert client.get("/console/orders/").status_code == 200
    assert client.get("/accounts/2fa/")["Location"] == "/console/"  # nothing more to enter


def test_a_new_login_asks_again(required):
    user = operator_user()
    device = TOTPDevice.objects.create(user=user, name="인증 앱", confirmed=True)
    client = logged_in(user)
    client.post("/accounts/2fa/", {"code": code_of(device)})
    assert client.get("/console/orders/").status_code == 200
    client.post("/accounts/logout/")
    again = logged_in(user)
    assert again.get("/console/orders/")["Location"].startswith("/accounts/2fa/?")


def test_the_code_page_never_sends_anyone_off_the_site(required):
    user = operator_user()
    device = TOTPDevice.objects.create(user=user, name="인증 앱", confirmed=True)
    client = logged_in(user)
    response = client.post("/accounts/2fa/", {"code": code_of(device), "next": "https://evil.example/console/"})
    assert response["Location"] == "/console/"


def test_a_post_to_the_console_without_the_code_does_nothing_and_is_sent_to_enrol(required):
    client = logged_in(operator_user())
    response = client.post("/console/orders/bulk/", {"action": "confirm_deposit"})
    assert response.status_code == 302 and next_of(response) == "/console/orders/bulk/"


@pytest.mark.parametrize(("make", "area"), [
    (lambda: _user("editor", codename="access_admin", app="wagtailadmin"), "/cms/"),
    (lambda: _user("admin", is_superuser=True, is_staff=True), "/django-admin/"),
    (lambda: _user("admin", is_superuser=True, is_staff=True), "/cms/"),
    (lambda: _user("admin", is_superuser=True, is_staff=True), "/console/"),
])
def test_editors_and_admins_enrol_before_the_cms_and_the_django_admin(required, make, area):
    client = logged_in(make())
    response = client.get(area)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/setup/")


def test_without_a_page_asked_for_each_goes_to_their_own_area(required):
    editor = _user("editor", codename="access_admin", app="wagtailadmin")
    device = TOTPDevice.objects.create(user=editor, name="인증 앱", confirmed=True)
    client = logged_in(editor)
    assert client.post("/accounts/2fa/", {"code": code_of(device)})["Location"] == "/cms/"


def test_the_admin_login_pages_stay_open(required):
    assert Client().get("/cms/login/").status_code == 200
    assert Client().get("/django-admin/login/").status_code == 200
    client = Client()
    user = _user("editor", codename="access_admin", app="wagtailadmin")
    response = client.post("/cms/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"].startswith("/accounts/2fa/setup/")


def test_a_buyer_is_never_asked(required):
    # given a member (a buyer) logged in
    member = Member.objects.create(user=User.objects.create_user("buyer", password=PASSWORD), name="홍길동")
    client = logged_in(member.user)
    # then the shop is theirs, the console refuses them as before, and the code pages send them home
    assert client.get("/shop/mypage/").status_code == 200
    assert client.get("/console/orders/").status_code == 403
    assert client.get("/accounts/2fa/")["Location"] == "/"
    assert client.get("/accounts/2fa/setup/")["Location"] == "/"
    assert not TOTPDevice.objects.exists()


def test_with_the_setting_off_nothing_changes():
    # given the setting off (development, the test settings) and an operator without a device
    client = logged_in(operator_user())
    # then the console opens with the password alone
    assert client.get("/console/orders/").status_code == 200


def test_with_the_setting_off_an_operator_who_enrolled_by_choice_is_asked_all_the_same():
    # given development (the setting off) and an operator who enrolled an authenticator app anyway
    user = operator_user()
    device = TOTPDevice.objects.create(user=user, name="인증 앱", confirmed=True)
    client = logged_in(user)
    # when they open the console, the code is asked: a second factor chosen is a second factor kept
    response = client.get("/console/orders/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/?")
    ok = client.post("/accounts/2fa/", {"code": code_of(device), "next": "/console/orders/"})
    assert ok.status_code == 302 and client.get("/console/orders/").status_code == 200


def test_a_member_made_operator_mid_session_is_asked_before_the_console(required):
    member = Member.objects.create(user=User.objects.create_user("later", password=PASSWORD), name="김운영")
    client = logged_in(member.user)
    group = Group.objects.create(name="운영자")
    group.permissions.add(Permission.objects.get(codename="operate_console", content_type__app_label="orders"))
    member.user.groups.add(group)
    assert client.get("/console/orders/")["Location"].startswith("/accounts/2fa/setup/")


def test_a_lost_phone_is_reset_by_command_and_the_next_login_enrols_again(required):
    user = operator_user()
    device = TOTPDevice.objects.create(user=user, name="인증 앱", confirmed=True)
    client = logged_in(user)
    client.post("/accounts/2fa/", {"code": code_of(device)})
    assert client.get("/console/orders/").status_code == 200
    call_command("staff_2fa_reset", "op")
    assert not TOTPDevice.objects.exists()
    assert client.get("/console/orders/")["Location"].startswith("/accounts/2fa/setup/")


def test_production_requires_the_second_factor_unless_told_otherwise():
    show = ("shell", "-c", "from django.conf import settings; print('2FA', settings.STAFF_2FA_REQUIRED)")
    assert "2FA True" in _run(*show).stdout
    assert "2FA False" in _run(*show, STAFF_2FA_REQUIRED="0").stdout
