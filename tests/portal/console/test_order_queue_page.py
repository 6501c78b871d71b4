"""주문조회 as each operator and each request sees it: their own name, path, CSRF tokens and messages around the queue."""

import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from portal.demo.shop import OPERATORS_GROUP
from tests.portal.console.test_screens import many_orders
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db


def _login(username: str, **client_kwargs) -> Client:
    client = Client(**client_kwargs)
    client.force_login(User.objects.get(username=username))
    return client


def _tokens(page: str) -> list[str]:
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)


def test_each_operator_sees_their_own_name_and_each_request_its_own_path():
    load_demo()
    many_orders(3)
    second = User.objects.create_user("operator2", password="x")
    second.groups.add(Group.objects.get(name=OPERATORS_GROUP))
    first_page = _login("operator").get("/console/orders/", {"per_page": "10"}).content.decode()
    second_page = _login("operator2").get("/console/orders/", {"orderer_name": "고객001"}).content.decode()
    assert '<span class="d-none d-sm-inline" id="console-user">operator</span>' in first_page
    assert '<span class="d-none d-sm-inline" id="console-user">operator2</span>' in second_page
    # the language switch returns to the page as it was asked for, query and all
    assert 'name="next" type="hidden" value="/console/orders/?per_page=10"' in first_page
    assert 'name="next" type="hidden" value="/console/orders/?orderer_name=%EA%B3%A0%EA%B0%9D001"' in second_page
    # the menu marks the order queue, the breadcrumb names it, the title too
    assert 'class="nav-link active" href="/console/orders/" aria-current="page"' in second_page
    assert 'aria-current="page">주문조회/취소/교환</li>' in second_page
    assert "<title>주문조회/취소/교환 · " in second_page
    assert "\x00" not in first_page + second_page


def test_the_frames_csrf_tokens_are_this_sessions():
    load_demo()
    client = _login("operator", enforce_csrf_checks=True)
    page = client.get("/console/orders/").content.decode()
    tokens = _tokens(page)
    # the language switch and the logout (the frame's), and the bulk actions' form (the page's own)
    assert len(tokens) == 3 and tokens[0] == tokens[1]
    refused = client.post("/i18n/setlang/", {"language": "en", "next": "/console/orders/"})
    assert refused.status_code == 403
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/console/orders/",
                                              "csrfmiddlewaretoken": tokens[0]})
    assert switched.status_code == 302
    english = client.get("/console/orders/").content.decode()
    assert "<title>Orders · " in english and 'lang="en" selected' in english
    # another browser gets tokens of its own session
    other = _login("operator", enforce_csrf_checks=True)
    assert other.post("/i18n/setlang/", {"language": "en", "csrfmiddlewaretoken": tokens[0]}).status_code == 403


def test_messages_are_shown_once_in_the_frame():
    load_demo()
    order = many_orders(1)[0]
    client = _login("operator")
    client.post(f"/console/orders/{order.number}/action/bogus/")  # "알 수 없는 작업입니다." waits for the next page
    page = client.get("/console/orders/").content.decode()
    assert page.count("알 수 없는 작업입니다.") == 1
    assert page.index("알 수 없는 작업입니다.") < page.index("<h1>주문조회/취소/교환</h1>")
    assert "알 수 없는 작업입니다." not in client.get("/console/orders/").content.decode()


def test_a_phone_typed_in_digits_finds_the_order_and_a_day_typed_otherwise_is_read_or_explained():
    from datetime import timedelta

    from django.utils import timezone

    from portal.orders.models import Order

    load_demo()
    orders = many_orders(3)
    Order.objects.filter(pk=orders[1].pk).update(orderer_phone="010-9876-5432")
    operator = _login("operator")
    for typed in ("010-9876-5432", "01098765432", "0109876"):
        page = operator.get("/console/orders/", {"phone": typed}).content.decode()
        assert orders[1].number in page and orders[0].number not in page, typed
    # 2026.11.01, 20261101 and 2026/11/01 are the same day as 2026-11-01
    day = timezone.localdate() - timedelta(days=1)
    counts = set()
    for typed in (f"{day:%Y-%m-%d}", f"{day:%Y.%m.%d}", f"{day:%Y%m%d}", f"{day:%Y/%m/%d}"):
        page = operator.get("/console/orders/", {"placed_from": typed, "placed_to": typed}).content.decode()
        counts.add(orders[1].number in page and orders[0].number not in page)
    assert counts == {True}
    # a day that is no day says so beside its field, instead of an empty list alone
    page = operator.get("/console/orders/", {"placed_from": "abc"}).content.decode()
    assert "날짜를 2026-11-01 처럼 입력해 주세요." in page
    assert "날짜를 2026-11-01 처럼 입력해 주세요." in operator.get("/console/refunds/",
                                                              {"created_from": "2026.13.01"}).content.decode()
    # and a period that ends before it starts says so, for orders and refunds alike
    backwards = {"placed_from": f"{day:%Y-%m-%d}", "placed_to": f"{day - timedelta(days=3):%Y-%m-%d}"}
    assert "종료일이 시작일보다 앞섭니다" in operator.get("/console/orders/", backwards).content.decode()
    assert "종료일이 시작일보다 앞섭니다" in operator.get("/console/refunds/", {
        "created_from": backwards["placed_from"], "created_to": backwards["placed_to"]}).content.decode()


def test_an_operator_in_the_shop_has_the_console_one_click_away_and_a_buyer_does_not():
    load_demo()
    assert 'id="to-console"' not in _login("hong").get("/shop/").content.decode()
    page = _login("operator").get("/shop/").content.decode()
    assert '<a href="/console/" id="to-console">관리자 콘솔</a>' in page
