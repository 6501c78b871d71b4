"""Finding 4: login and 비회원 주문조회 are throttled (django-axes), the lookup takes the same time whether the
order exists or not, and guest passwords are at least 6 letters and digits."""

from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import hashers
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import ProductFactory, order_for
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def guest_order(db):
    load_demo()
    order = order_for([(ProductFactory(), 1)])
    order.set_guest_password("abcd1234")
    order.save()
    return order


def test_guest_lookup_locks_after_a_handful_of_failures(guest_order, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/shop/guest/", {"number": guest_order.number, "password": "wrong123"})
        assert response.status_code == 400
        assert "주문번호 또는 비밀번호가 올바르지 않습니다" in response.content.decode()
    locked = client.post("/shop/guest/", {"number": guest_order.number, "password": "wrong123"})
    assert locked.status_code == 429
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"마지막 시도 후 {minutes}분이 지나면 다시 시도하실 수 있습니다" in locked.content.decode()
    # then even the right password is refused, and the order is not opened
    right = client.post("/shop/guest/", {"number": guest_order.number, "password": "abcd1234"})
    assert right.status_code == 429
    assert client.get(f"/shop/orders/{guest_order.number}/").status_code == 404
    # an operator unlocks in the Django admin: the attempt is deleted, and the right password works again
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    assert attempts
    page = operator.get("/django-admin/axes/accessattempt/")
    assert page.status_code == 200
    response = operator.post("/django-admin/axes/accessattempt/", {
        "action": "delete_selected", "_selected_action": attempts, "post": "yes"})
    assert response.status_code == 302 and not AccessAttempt.objects.exists()
    assert client.post("/shop/guest/", {"number": guest_order.number, "password": "abcd1234"}).status_code == 302


def test_operator_login_locks_after_a_handful_of_failures(guest_order, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "operator", "password": "nope"})
    response = client.post("/accounts/login/", {"username": "operator", "password": "operator1234!"})
    assert response.status_code == 429
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"{minutes}분이 지나면 다시 시도하실 수 있습니다" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # the page in English
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("en"):
        assert "Too many failed logins" in render_to_string("accounts/locked_out.html")
        english = render_to_string("accounts/locked_out.html", {"cooloff_timedelta": settings.AXES_COOLOFF_TIME})
        assert f"{minutes} minutes" in english


def test_member_login_still_works_below_the_limit(guest_order):
    client = Client()
    client.post("/accounts/login/", {"username": "hong", "password": "nope"})
    response = client.post("/accounts/login/", {"username": "hong", "password": "hong1234!"})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def _hashes_checked(guest_order, missing: str) -> list[str]:
    """The hashes 비회원 주문조회 checks a wrong password against: for the guest's order, then for a missing one."""
    calls = []
    original = hashers.check_password

    def counting(password, encoded, *args, **kwargs):
        calls.append(encoded)
        return original(password, encoded, *args, **kwargs)

    with mock.patch("portal.storefront.views.check_password", counting):
        Client().post("/shop/guest/", {"number": guest_order.number, "password": "wrong123"})
        Client().post("/shop/guest/", {"number": missing, "password": "wrong123"})
    return calls


def test_lookup_runs_the_hasher_whether_or_not_the_order_exists(guest_order):
    calls = _hashes_checked(guest_order, "20991231-9999999")
    assert len(calls) == 2
    assert all(encoded and not encoded.startswith("!") for encoded in calls)  # a real hash both times


def test_a_missing_order_costs_the_same_hashing_as_a_real_one_with_the_real_hasher(guest_order, settings):
    # with the production hasher, the password typed for a missing order is checked against a hash of the same
    # algorithm and work factor as a guest's own, so the answer takes as long either way (counted, not timed)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    guest_order.set_guest_password("abcd1234")
    guest_order.save()
    from portal.storefront import views

    views._dummy_guest_hash.cache_clear()
    real, dummy = _hashes_checked(guest_order, "20991231-9999998")
    summaries = [hashers.identify_hasher(encoded).safe_summary(encoded) for encoded in (real, dummy)]
    assert real != dummy and summaries[0]["algorithm"] == summaries[1]["algorithm"] == "pbkdf2_sha256"
    assert summaries[0]["iterations"] == summaries[1]["iterations"]
    views._dummy_guest_hash.cache_clear()


def _login(client, password, address, **headers):
    return client.post("/accounts/login/", {"username": "operator", "password": password}, REMOTE_ADDR=address,
                       **headers)


def test_wrong_passwords_typed_elsewhere_never_lock_the_real_operator_out(guest_order):
    attacker = Client()
    for _ in range(30):
        _login(attacker, "nope", "203.0.113.9")
    assert _login(attacker, "operator1234!", "203.0.113.9").status_code == 429  # that address is locked
    operator = Client()
    response = _login(operator, "operator1234!", "198.51.100.7")
    assert response.status_code == 302 and "_auth_user_id" in operator.session


def test_one_address_guessing_many_names_is_stopped(guest_order, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    client = Client()
    for n in range(12):
        client.post("/accounts/login/", {"username": f"name{n}", "password": "nope"}, REMOTE_ADDR="203.0.113.10")
    response = client.post("/accounts/login/", {"username": "operator", "password": "operator1234!"},
                           REMOTE_ADDR="203.0.113.10")
    assert response.status_code == 429
    # another address is not affected
    assert _login(Client(), "operator1234!", "198.51.100.8").status_code == 302


def test_a_forged_forwarded_for_is_ignored_without_a_trusted_proxy(guest_order, settings):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "nope", "203.0.113.11", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
    # every try counted against the connection's address, whatever the header claimed
    assert _login(client, "operator1234!", "203.0.113.11", HTTP_X_FORWARDED_FOR="10.9.9.99").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.11"}


def test_behind_the_shops_proxy_each_buyer_counts_alone(guest_order, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "192.0.2.1"
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/shop/guest/", {"number": guest_order.number, "password": "wrong123"}, REMOTE_ADDR=proxy,
                    HTTP_X_FORWARDED_FOR="203.0.113.20")
    locked = client.post("/shop/guest/", {"number": guest_order.number, "password": "abcd1234"}, REMOTE_ADDR=proxy,
                         HTTP_X_FORWARDED_FOR="203.0.113.20")
    assert locked.status_code == 429
    # another buyer behind the same proxy opens the order with the right password
    other = Client().post("/shop/guest/", {"number": guest_order.number, "password": "abcd1234"}, REMOTE_ADDR=proxy,
                          HTTP_X_FORWARDED_FOR="198.51.100.30")
    assert other.status_code == 302


def test_a_wrong_password_is_refused_in_the_shops_words(guest_order):
    response = Client().post("/accounts/login/", {"username": "hong", "password": "nope"})
    assert "아이디 또는 비밀번호가 올바르지 않습니다." in response.content.decode()
    assert "사용자 이름와/과" not in response.content.decode()
