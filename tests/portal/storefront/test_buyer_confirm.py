"""구매확정 by the buyer (docs/protocol.md §2: "buyer or operator confirms the purchase"): a delivered order is
confirmed from the buyer's own order page — a member logged in, a guest with the order's password — and the
provider is told (confirmed), as when the operator confirms it."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from mileage.models import OutboxMessage
from portal.aftersales.fulfilment import order_deliver, order_ship
from portal.orders.models import Order, OrderStatus

from .test_self_service import CONFIRM, _place

pytestmark = pytest.mark.sandbox


def delivered(order: Order) -> Order:
    order_ship(order=order, invoice_no="123", carrier="cj", by=None)
    return order_deliver(order=Order.objects.get(pk=order.pk), by=None)


def test_a_member_confirms_a_delivered_order_and_the_provider_is_told(shop):
    client = Client()
    client.force_login(User.objects.get(username="hong"))
    order, _buyer = _place(shop, client, member=True, method="card")
    page = client.get(f"/shop/orders/{order.number}/").content.decode()
    assert 'id="confirm-form"' not in page  # paid, not delivered yet: nothing to confirm
    delivered(order)
    page = client.get(f"/shop/orders/{order.number}/").content.decode()
    assert 'id="confirm-form"' in page
    # the box left unticked: nothing changes
    refused = client.post(f"/shop/orders/{order.number}/confirm/", {})
    assert refused.status_code == 400 and "확인란을 선택해 주세요" in refused.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    response = client.post(f"/shop/orders/{order.number}/confirm/", CONFIRM, follow=True)
    assert "구매확정했습니다." in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    change = order.status_changes.get(to_status=OrderStatus.CONFIRMED)
    assert change.changed_by.username == "hong"
    assert OutboxMessage.objects.filter(order=order, kind="confirmed").count() == 1
    # pressed again (a second tab): refused, nothing sent twice
    again = client.post(f"/shop/orders/{order.number}/confirm/", CONFIRM)
    assert again.status_code == 400 and "구매확정할 수 없습니다" in again.content.decode()
    assert OutboxMessage.objects.filter(order=order, kind="confirmed").count() == 1


def test_a_guest_confirms_with_the_orders_password_only(shop):
    client = Client()
    order, _buyer = _place(shop, client, member=False, method="card")
    delivered(order)
    wrong = client.post(f"/shop/orders/{order.number}/confirm/", {**CONFIRM, "password": "wrong-pass1"})
    assert wrong.status_code == 400 and "비밀번호가 올바르지 않습니다" in wrong.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    right = client.post(f"/shop/orders/{order.number}/confirm/", {**CONFIRM, "password": "abcd1234"})
    assert right.status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED


def test_an_order_with_a_return_asked_for_is_not_confirmed(shop):
    client = Client()
    order, _buyer = _place(shop, client, member=False, method="card")
    delivered(order)
    asked = client.post(f"/shop/orders/{order.number}/request/", {
        "kind": "return", "reason": "사이즈가 맞지 않습니다", "password": "abcd1234"})
    assert asked.status_code == 302
    assert 'id="confirm-form"' not in client.get(f"/shop/orders/{order.number}/").content.decode()
    refused = client.post(f"/shop/orders/{order.number}/confirm/", {**CONFIRM, "password": "abcd1234"})
    assert refused.status_code == 400 and "구매확정할 수 없습니다" in refused.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    # nor by the operator, which would leave the buyer's request with nothing to settle it
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    page = operator.post(f"/console/orders/{order.number}/action/confirm_purchase/", follow=True).content.decode()
    assert "신청을 처리하거나 반려한 뒤에 구매확정합니다" in page
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    assert not OutboxMessage.objects.filter(order=order, kind="confirmed").exists()
