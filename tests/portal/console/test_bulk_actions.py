"""주문조회's total, checkboxes and bulk 입금확인/구매확정: each order through its own service, every failure named,
bad input refused without a change; the ship form's carrier select on 주문상세정보."""

import html
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from portal.orders.models import Carrier, Order, OrderStatus

from .bulk_helpers import make_orders, operator_client  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def statuses(orders):
    return dict(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("number", "status"))


def test_the_queue_shows_the_total_and_a_checkbox_per_order(operator_client):  # noqa: F811
    # given
    orders = make_orders(3, OrderStatus.AWAITING_DEPOSIT)
    # when
    page = operator_client.get("/console/orders/", {"status": "awaiting_deposit"}).content.decode()
    plain = operator_client.get("/console/orders/").content.decode()
    # then
    assert '<strong id="order-count">총 3건</strong>' in page
    assert all(f'name="selection" value="{o.pk}"' in page for o in orders)
    assert 'id="select-all"' in page and 'action="/console/orders/bulk/"' in page
    assert 'name="query" value="status=awaiting_deposit"' in page
    assert re.search(r'<strong id="order-count">총 [\d,]+건</strong>', plain) and 'id="select-all"' in plain
    empty = operator_client.get("/console/orders/", {"number": "없는번호"}).content.decode()
    assert "총 0건" in empty and "조건에 맞는 주문이 없습니다." in empty


def test_the_total_is_counted_up_to_a_cap(operator_client, monkeypatch):  # noqa: F811
    make_orders(3, OrderStatus.AWAITING_DEPOSIT)
    monkeypatch.setattr("portal.console.views.ORDER_COUNT_CAP", 2)
    page = operator_client.get("/console/orders/", {"status": "awaiting_deposit"}).content.decode()
    assert '<strong id="order-count">총 2건 이상</strong>' in page
    monkeypatch.setattr("portal.console.views.ORDER_COUNT_CAP", 3)
    page = operator_client.get("/console/orders/", {"status": "awaiting_deposit"}).content.decode()
    assert '<strong id="order-count">총 3건</strong>' in page


def test_bulk_deposit_confirmation_with_one_bad_order(operator_client):  # noqa: F811
    # given: three orders waiting for their deposit and one already paid
    waiting = make_orders(3, OrderStatus.AWAITING_DEPOSIT)
    paid = make_orders(1, OrderStatus.PAID, prefix="20261204-8")[0]
    # when
    response = operator_client.post("/console/orders/bulk/", {
        "action": "confirm_deposit", "selection": [o.pk for o in [*waiting, paid]], "query": "status=awaiting_deposit"})
    # then: the three are paid, the fourth is named with the reason and unchanged
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "입금확인 3건 완료 · 실패 1건" in page
    assert paid.number in page and "이미 결제완료된 주문입니다. 바뀐 것은 없습니다." in page
    assert set(statuses(waiting).values()) == {OrderStatus.PAID}
    assert statuses([paid]) == {paid.number: OrderStatus.PAID}
    assert all(o.status_changes.filter(note="입금확인").count() == 1 for o in waiting)
    assert not paid.status_changes.exists()
    assert 'href="/console/orders/?status=awaiting_deposit"' in page


def test_bulk_purchase_confirmation_with_one_bad_order(operator_client):  # noqa: F811
    # given: two delivered orders and one still 결제완료
    delivered = make_orders(2, OrderStatus.DELIVERED)
    paid = make_orders(1, OrderStatus.PAID, prefix="20261204-8")[0]
    # when
    response = operator_client.post("/console/orders/bulk/", {
        "action": "confirm_purchase", "selection": [paid.pk, *[o.pk for o in delivered]]})
    # then
    page = html.unescape(response.content.decode())
    assert "구매확정 2건 완료 · 실패 1건" in page
    assert paid.number in page and "'결제완료' 상태에서 '구매확정'(으)로 바꿀 수 없습니다." in page
    assert set(statuses(delivered).values()) == {OrderStatus.CONFIRMED}
    assert statuses([paid])[paid.number] == OrderStatus.PAID


def test_bad_bulk_input_changes_nothing(operator_client):  # noqa: F811
    orders = make_orders(2, OrderStatus.AWAITING_DEPOSIT)
    before = statuses(orders)
    cases = [
        ({"action": "confirm_deposit"}, "처리할 주문을 선택해 주세요."),
        ({"action": "confirm_deposit", "selection": ["abc", "-1", "１", "99999999999999999999999"]},
         "처리할 주문을 선택해 주세요."),
        ({"action": "delete_everything", "selection": [orders[0].pk]}, "알 수 없는 작업입니다."),
        ({"selection": [orders[0].pk]}, "알 수 없는 작업입니다."),
        ({"action": "confirm_deposit", "selection": list(range(1, 102))}, "한 번에 100건까지 처리할 수 있습니다."),
    ]
    for data, message in cases:
        response = operator_client.post("/console/orders/bulk/", {**data, "query": "x=<script>"}, follow=True)
        assert response.status_code == 200 and message in response.content.decode(), data
        assert response.redirect_chain[0][0] == "/console/orders/?x=%3Cscript%3E"
    assert statuses(orders) == before
    # an id that names no order is named as such; the others still go through
    response = operator_client.post("/console/orders/bulk/", {"action": "confirm_deposit",
                                                              "selection": [orders[0].pk, 987654]})
    assert "입금확인 1건 완료 · 실패 1건" in response.content.decode() and "#987654" in response.content.decode()


def test_bulk_is_post_only_and_operators_only(operator_client):  # noqa: F811
    orders = make_orders(1, OrderStatus.AWAITING_DEPOSIT)
    data = {"action": "confirm_deposit", "selection": [orders[0].pk]}
    assert operator_client.get("/console/orders/bulk/", data).status_code == 405
    anonymous = Client()
    assert anonymous.post("/console/orders/bulk/", data).status_code == 302  # to the login
    buyer = Client()
    buyer.force_login(User.objects.get(username="hong"))
    assert buyer.post("/console/orders/bulk/", data).status_code == 403
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(User.objects.get(username="operator"))
    assert csrf.post("/console/orders/bulk/", data).status_code == 403
    assert statuses(orders)[orders[0].number] == OrderStatus.AWAITING_DEPOSIT


def test_bulk_ship_leads_to_the_upload_with_the_checked_orders(operator_client):  # noqa: F811
    orders = make_orders(2, OrderStatus.PAID)
    waiting = make_orders(1, OrderStatus.AWAITING_DEPOSIT, prefix="20261204-8")[0]
    response = operator_client.post("/console/orders/bulk/", {"action": "ship",
                                                              "selection": [waiting.pk, *[o.pk for o in orders]]})
    page = html.unescape(response.content.decode())
    assert response.status_code == 200 and "선택한 주문 2건" in page
    assert all(f'name="selection" value="{o.pk}"' in page for o in orders)
    # the order that cannot be shipped is named and left out of the template
    assert "결제완료가 아닌 주문 1건은 배송처리할 수 없어 양식에서 뺐습니다." in page
    assert f"{waiting.number} (입금전)" in page and f'name="selection" value="{waiting.pk}"' not in page
    assert statuses([*orders, waiting]) == {**{o.number: OrderStatus.PAID for o in orders},
                                            waiting.number: OrderStatus.AWAITING_DEPOSIT}


def test_the_ship_form_picks_the_carrier_from_the_list(operator_client):  # noqa: F811
    # given
    order = make_orders(1, OrderStatus.PAID)[0]
    # when
    page = operator_client.get(f"/console/orders/{order.number}/").content.decode()
    # then: a select of the carriers, not free text
    select = re.search(r'<select name="carrier"[^>]*>(.*?)</select>', page, re.S)
    assert select, page
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))
    assert options[1:] == [(c.value, c.korean_name) for c in Carrier]
    assert [name for _value, name in options[1:]] == ["CJ대한통운", "롯데택배", "한진택배", "우체국택배", "로젠택배",
                                                       "경동택배", "기타"]
    # a carrier not on the list is refused, nothing changes
    refused = operator_client.post(f"/console/orders/{order.number}/action/ship/",
                                   {"carrier": "DHL", "invoice_no": "123"}, follow=True)
    assert "택배사를 목록에서 골라 주세요." in refused.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.carrier == "" and order.invoice_no == ""
    # the carrier is kept on the order and shown beside the invoice
    shipped = operator_client.post(f"/console/orders/{order.number}/action/ship/",
                                   {"carrier": "hanjin", "invoice_no": "6541111"}, follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED and order.carrier == Carrier.HANJIN and order.invoice_no == "6541111"
    assert "한진택배 6541111" in shipped.content.decode()
    assert order.status_changes.get().note == "한진택배 6541111"
