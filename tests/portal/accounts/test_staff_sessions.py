"""A staff person's session ends after STAFF_SESSION_IDLE_MINUTES without a request and STAFF_SESSION_MAX_HOURS after
the login (portal/accounts/staff.py); a buyer's session keeps today's behaviour. The clock is moved by patching
django.utils.timezone.now."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from portal.accounts.models import Member

from .test_two_factor import PASSWORD, logged_in, operator_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """Moves Django's clock forward by `minutes` from the real one."""
    real = timezone.now
    offset = {"minutes": 0}
    monkeypatch.setattr(timezone, "now", lambda: real() + timedelta(minutes=offset["minutes"]))

    def move_to(minutes: int) -> None:
        offset["minutes"] = minutes

    return move_to


def _is_logged_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_staff_session_ends_after_thirty_idle_minutes(clock):
    # given an operator at work
    client = logged_in(operator_user())
    assert client.get("/console/orders/").status_code == 200
    # when 29 minutes pass without a request, the console still opens
    clock(29)
    assert client.get("/console/orders/").status_code == 200
    # when 30 minutes pass after that one, the session is over and the login page says why
    clock(29 + 30)
    response = client.get("/console/orders/")
    assert _is_logged_out(response)
    page = client.get(response["Location"]).content.decode()
    assert "30분 동안 사용하지 않아" in page
    assert client.get("/console/orders/").status_code == 302


def test_activity_keeps_a_staff_session_until_its_twelve_hours(clock, settings):
    client = logged_in(operator_user())
    # a request every 20 minutes keeps it going …
    for minutes in range(20, 12 * 60, 20):
        clock(minutes)
        assert client.get("/console/orders/").status_code == 200, minutes
    # … until twelve hours after the login, whatever the activity
    clock(12 * 60)
    response = client.get("/console/orders/")
    assert _is_logged_out(response)
    assert "12시간이 지나" in client.get(response["Location"]).content.decode()


def test_the_periods_are_settings(clock, settings):
    settings.STAFF_SESSION_IDLE_MINUTES = 5
    client = logged_in(operator_user())
    clock(6)
    assert _is_logged_out(client.get("/console/orders/"))


def test_an_ended_staff_session_is_anonymous_everywhere(clock):
    client = logged_in(operator_user())
    clock(31)
    response = client.get("/shop/mypage/")  # not a staff area: the request goes on, logged out
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_buyers_session_keeps_todays_behaviour(clock):
    # given a member logged in
    member = Member.objects.create(user=User.objects.create_user("buyer", password=PASSWORD), name="홍길동")
    client = logged_in(member.user)
    assert "staff_since" not in client.session
    # then hours without a request do not end it
    clock(13 * 60)
    assert client.get("/shop/mypage/").status_code == 200
    assert client.session.get_expire_at_browser_close()  # it still ends with the browser (the inflow)


def test_the_last_request_is_written_once_a_minute_not_on_every_request(clock):
    client = logged_in(operator_user())
    seen = client.session["staff_seen"]
    client.get("/console/orders/")
    assert client.session["staff_seen"] == seen
    clock(2)
    client.get("/console/orders/")
    assert client.session["staff_seen"] >= seen + 120
