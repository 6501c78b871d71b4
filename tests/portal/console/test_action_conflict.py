"""A button on 주문상세정보 whose transaction the database broke off (a deadlock, a serialization failure) reads as
a message on the order's page, never as a 500: the transaction was rolled back whole."""

import pytest
from django.db import OperationalError

from portal.console import views
from portal.orders.models import Order, OrderStatus
from tests.factories import ProductFactory, paid_order_for
from tests.support.clients import operator_client

pytestmark = pytest.mark.django_db


def test_a_deadlocked_action_says_nothing_changed(monkeypatch):
    order = paid_order_for([(ProductFactory(), 1)])
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    client = operator_client("op-deadlock")

    def deadlocked(**kwargs):
        raise OperationalError("deadlock detected")

    monkeypatch.setitem(views.ACTIONS, "deliver", (deadlocked, "배송완료 처리했습니다."))
    response = client.post(f"/console/orders/{order.number}/action/deliver/", follow=True)
    assert response.status_code == 200
    assert "다른 처리와 겹쳐 이 작업을 마치지 못했습니다." in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


@pytest.mark.parametrize(("status", "form", "says"), [
    (OrderStatus.AWAITING_DEPOSIT, "return", "배송완료된 주문만 반품할 수 있습니다. (처리상태: 입금전)"),
    (OrderStatus.SHIPPED, "return", "배송완료된 주문만 반품할 수 있습니다. (처리상태: 배송중)"),
    (OrderStatus.RETURNED, "return", "환불완료한 뒤에 남은 상품을 반품할 수 있습니다. (처리상태: 반송완료)"),
    (OrderStatus.AWAITING_DEPOSIT, "exchange", "이 주문은 교환할 수 없습니다. (처리상태: 입금전)"),
    (OrderStatus.CANCELLED, "exchange", "이 주문은 교환할 수 없습니다. (처리상태: 주문취소)"),
])
def test_a_return_or_exchange_form_no_action_could_take_is_not_offered(status, form, says):
    order = paid_order_for([(ProductFactory(), 1)])
    Order.objects.filter(pk=order.pk).update(status=status)
    client = operator_client("op-forms")
    response = client.get(f"/console/orders/{order.number}/{form}/")
    assert response.status_code == 302 and response["Location"] == f"/console/orders/{order.number}/"
    assert says in client.get(response["Location"]).content.decode()


def test_the_refund_forms_offer_only_the_ways_this_order_can_be_paid_back():
    # given a guest's bank-transfer order, paid
    order = paid_order_for([(ProductFactory(price_won=8_000), 1)])
    client = operator_client("op-methods")
    page = client.get(f"/console/orders/{order.number}/cancel/").content.decode()
    select = page.split('name="method"', 1)[1].split("</select>", 1)[0]
    # then its cancel form offers 현금환불 only: no card, transfer or mobile cancel, no 적립금 for a guest
    assert 'value="cash"' in select
    assert not any(f'value="{m}"' in select for m in ("card", "transfer", "phone", "points"))
    # and a card sent anyway is still refused with its reason
    response = client.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "8000", "store_points_won": "0", "mileage_won": "0", "shipping_deduction_won": "0",
        "method": "card"})
    assert response.status_code == 400 and "카드취소" in response.content.decode()


def test_a_refund_done_whose_mileage_cancel_the_provider_refused_says_so():
    from django.utils import timezone

    from mileage.models import OutboxMessage
    from portal.aftersales.models import Refund

    # given a refund 환불완료 (its card cancelled) whose mileage cancel the provider refused for good
    order = paid_order_for([(ProductFactory(price_won=5_000), 1)])
    Refund.objects.create(number="C20261206-0000001", order=order, reason="cancel", status="done", method="cash",
                          cash_won=4_500, mileage_won=500, completed_at=timezone.now())
    message = OutboxMessage.objects.create(kind="cancel", order=order, idempotency_key="t-cancel", wire_key="t-w",
                                           status="failed", next_attempt_at=timezone.now(), last_error="[3020]")
    client = operator_client("op-failed")
    # then 환불관리 (done refunds) and 주문상세정보 say the mileage has not come back
    listing = client.get("/console/refunds/", {"status": "done"}).content.decode()
    detail = client.get(f"/console/orders/{order.number}/").content.decode()
    for page in (listing, detail):
        assert "네이버 마일리지 반환 실패" in page
    # and once the call went through, neither does
    OutboxMessage.objects.filter(pk=message.pk).update(status="sent")
    assert "네이버 마일리지 반환 실패" not in client.get("/console/refunds/", {"status": "done"}).content.decode()
