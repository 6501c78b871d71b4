"""A refund the PG cannot take (issue 23: a part of a 실시간계좌이체 or of a 휴대폰결제, any of a 휴대폰결제 after its
payment day) is never sent to the PG: it is paid as 현금환불 to the buyer's account, done only when the operator
records the money sent at 환불완료, and 환불관리 says why. Both gateways follow the rule (portal.orders.rules); the
PortOne emulator refuses such a cancel as the real PG does, so a wrong call fails here."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from portal.aftersales.cancellations import order_cancel_after_payment
from portal.aftersales.common import RefundInput, create_refund
from portal.aftersales.models import Refund, RefundMethod, RefundReason, RefundStatus
from portal.aftersales.refunds import RefundNotPaid, refund_complete
from portal.orders.gateway import get_gateway
from portal.orders.models import Order, OrderStatus, PaymentStatus
from tests.portal.storefront.conftest import GUEST
from tests.portone_process import paid_in_window

from .conftest import place
from .test_payment_cancel import ACCOUNT, gateway_cancelled_won, press_refund_complete, refund_by

pytestmark = pytest.mark.sandbox

PHONE_PART = "휴대폰결제는 부분취소가 되지 않아 현금환불(계좌)로 돌려줍니다."
TRANSFER_PART = "계좌이체는 전액만 취소되어 현금환불(계좌)로 돌려줍니다."
PHONE_DAY = "휴대폰결제는 결제한 당일에만 취소되어 현금환불(계좌)로 돌려줍니다."


def operator_user():
    return User.objects.get(username="operator")


def cancel_with_default_way(order, cash: int, **account) -> Refund:
    """배송전 취소 with no 환불 방식 chosen: the refund pays back the way the order was paid, or as it can."""
    data = RefundInput(cash_won=cash, store_points_won=0, mileage_won=order.mileage_use_won, **account)
    return order_cancel_after_payment(order=Order.objects.get(pk=order.pk), data=data, by=operator_user())


# --- the TEST gateway ------------------------------------------------------------------------------------------------

def test_a_partial_mobile_refund_is_paid_as_cash_and_the_refund_queue_says_why(shop, operator):
    order, _buyer = place(shop, method="phone")
    # the whole order cancelled, 1,000원 kept as 배송비: the payout is a part of the mobile payment
    refund = refund_by(operator, order, "cash", order.payable_won, shipping_deduction_won="1000", **ACCOUNT)
    assert (refund.method, refund.cash_reason) == ("cash", PHONE_PART)
    queue = operator.get("/console/refunds/").content.decode()
    assert PHONE_PART in queue and refund.number in queue
    assert PHONE_PART in operator.get(f"/console/orders/{order.number}/").content.decode()
    press_refund_complete(operator, refund)
    refund.refresh_from_db()
    payment = order.payments.get()
    assert refund.status == RefundStatus.DONE and payment.status == PaymentStatus.PARTIAL
    assert gateway_cancelled_won(payment) == 0  # nothing asked of the PG
    assert list(payment.cancels.values_list("label", "amount_won", "message")) == [
        ("현금환불", order.payable_won - 1_000, "농협 302-1234-5678 홍길동")]


def test_a_card_refund_in_part_and_a_transfer_refund_whole_go_to_the_pg(shop, operator):
    card, _ = place(shop, method="card")
    part = cancel_with_default_way(card, card.payable_won - 1_000)
    assert (part.method, part.cash_reason) == ("card", "")
    transfer, _ = place(shop, code="2", method="realtime")
    whole = cancel_with_default_way(transfer, transfer.payable_won)
    assert (whole.method, whole.cash_reason) == ("transfer", "")
    assert refund_complete(refund=whole, by=operator_user())
    assert gateway_cancelled_won(transfer.payments.get()) == transfer.payable_won


def test_a_partial_transfer_refund_without_a_way_chosen_becomes_cash(shop, operator):
    order, _ = place(shop, method="realtime")
    refund = cancel_with_default_way(order, order.payable_won, shipping_deduction_won=2_000, **ACCOUNT)
    assert (refund.method, refund.cash_reason) == ("cash", TRANSFER_PART)
    assert refund_complete(refund=refund, by=operator_user())
    assert gateway_cancelled_won(order.payments.get()) == 0
    # without an account it is refused when recorded, nothing changes
    other, _ = place(shop, code="2", method="realtime")
    with pytest.raises(Exception, match="환불은행, 계좌번호, 예금주"):
        cancel_with_default_way(other, other.payable_won, shipping_deduction_won=2_000)
    assert Order.objects.get(pk=other.pk).status == OrderStatus.PAID and not other.refunds.exists()


def test_an_exchange_refund_of_part_of_a_mobile_payment_waits_for_the_account_never_done_before(shop, operator):
    order, _ = place(shop, method="phone")
    refund = create_refund(timezone.now(), order=order, reason=RefundReason.EXCHANGE, cash_won=3_000,
                           created_by=operator_user())
    assert (refund.method, refund.cash_reason) == (RefundMethod.CASH, PHONE_PART)
    with pytest.raises(RefundNotPaid, match="현금환불할 계좌가 없습니다"):
        refund_complete(refund=refund, by=operator_user())
    refund.refresh_from_db()
    assert refund.status == RefundStatus.BEFORE and order.payments.get().status == PaymentStatus.APPROVED
    page = operator.get("/console/refunds/").content.decode()
    assert PHONE_PART in page and "현금환불할 계좌가 없습니다" in page
    assert operator.post(f"/console/refunds/{refund.pk}/method/", {"method": "cash", **ACCOUNT}).status_code == 302
    assert refund_complete(refund=refund, by=operator_user())
    assert gateway_cancelled_won(order.payments.get()) == 0


def test_a_mobile_refund_past_its_day_changed_to_cash_says_why(shop, operator):
    order, _ = place(shop, method="phone")
    refund = refund_by(operator, order, "phone", order.payable_won)
    assert refund.cash_reason == ""
    order.payments.update(approved_at=timezone.now() - timedelta(days=1))
    press_refund_complete(operator, refund)
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.BEFORE
    assert operator.post(f"/console/refunds/{refund.pk}/method/", {"method": "cash", **ACCOUNT}).status_code == 302
    refund.refresh_from_db()
    assert refund.cash_reason == PHONE_DAY
    assert PHONE_DAY in operator.get(f"/console/refunds/{refund.pk}/method/").content.decode()
    # and a new refund of such a payment defaults to cash on the form
    other, _ = place(shop, code="2", method="phone")
    other.payments.update(approved_at=timezone.now() - timedelta(days=1))
    form = operator.get(f"/console/orders/{other.number}/cancel/").content.decode()
    assert 'value="cash" selected' in form or 'value="cash" checked' in form


# --- PortOne, against the emulator ---------------------------------------------------------------------------------

def paid_through_portone(emulator, method: str) -> Order:
    client = Client()
    client.post("/shop/cart/add/", {"code": "4", "quantity": "1"})
    client.get("/shop/order/")
    form = {**GUEST, "payment_method": method, "card_number": ""}
    payment_id, token = paid_in_window(emulator, client, form)
    response = client.post("/shop/order/", {**form, "payment_id": payment_id, "payment_token": token})
    assert response.status_code == 302, response.content.decode()[-1500:]
    order = Order.objects.order_by("-id").first()
    assert order.status == OrderStatus.PAID and order.payments.get().gateway == "PortOne"
    return order


def at_pg(order: Order):
    return get_gateway().client.get_payment(payment_id=order.payments.get().gateway_tid)


def test_portone_a_transfer_is_cancelled_whole_at_the_pg_and_a_part_paid_as_cash(shop, operator, portone):
    order = paid_through_portone(portone, "realtime")
    payment = order.payments.get()
    assert type(at_pg(order).method).__name__ == "PaymentMethodTransfer"
    # the PG refuses a part of a transfer: asking it anyway fails
    refused = get_gateway().cancel(tid=payment.gateway_tid, amount_won=1_000, partial=True, idempotency_key="k1")
    assert not refused.approved and "부분취소" in refused.message
    part = cancel_with_default_way(order, order.payable_won, shipping_deduction_won=1_000, **ACCOUNT)
    assert (part.method, part.cash_reason) == ("cash", TRANSFER_PART)
    assert refund_complete(refund=part, by=operator_user())
    assert at_pg(order).amount.cancelled == 0  # paid by the shop, nothing asked of the PG

    whole = paid_through_portone(portone, "realtime")
    refund = cancel_with_default_way(whole, whole.payable_won)
    assert refund.method == "transfer"
    assert refund_complete(refund=refund, by=operator_user())
    assert type(at_pg(whole)).__name__ == "CancelledPayment" and at_pg(whole).amount.cancelled == whole.payable_won


def test_portone_a_mobile_payment_past_its_day_is_paid_as_cash(shop, operator, portone):
    order = paid_through_portone(portone, "phone")
    payment = order.payments.get()
    assert type(at_pg(order).method).__name__ == "PaymentMethodMobile"
    yesterday = timezone.now() - timedelta(days=1)
    portone.control(f"payments/{payment.gateway_tid}/paid-at", paidAt=yesterday.isoformat())
    order.payments.update(approved_at=yesterday)
    refused = get_gateway().cancel(tid=payment.gateway_tid, amount_won=order.payable_won, partial=False,
                                   idempotency_key="k2")
    assert not refused.approved and "당일" in refused.message  # what the PG answers a wrong call
    refund = cancel_with_default_way(order, order.payable_won, **ACCOUNT)
    assert (refund.method, refund.cash_reason) == ("cash", PHONE_DAY)
    assert PHONE_DAY in operator.get("/console/refunds/").content.decode()
    assert refund_complete(refund=refund, by=operator_user())
    assert at_pg(order).amount.cancelled == 0
    assert order.payments.get().status == PaymentStatus.CANCELLED  # the money went back, as cash


def test_portone_a_mobile_payment_on_its_day_is_cancelled_whole_at_the_pg_never_in_part(shop, operator, portone):
    order = paid_through_portone(portone, "phone")
    payment = order.payments.get()
    refused = get_gateway().cancel(tid=payment.gateway_tid, amount_won=1_000, partial=True, idempotency_key="k3")
    assert not refused.approved
    refund = cancel_with_default_way(order, order.payable_won)
    assert refund.method == "phone" and refund_complete(refund=refund, by=operator_user())
    assert type(at_pg(order)).__name__ == "CancelledPayment"
