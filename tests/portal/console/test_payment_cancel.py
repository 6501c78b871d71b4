"""Cancelling the money (manual §7, §8): 카드결제취소 / 카드부분취소, 계좌이체취소, 휴대폰결제취소 (same day only), never
more than was charged, and a second press does nothing."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.orders.models import PaymentCancel, PaymentStatus
from portal.orders.payments import PaymentActionError, payment_cancel

from .conftest import place

pytestmark = pytest.mark.sandbox


def refund_by(operator, order, method: str, cash: int) -> None:
    """주문취소 after payment with the money going back by `method` (카드취소, 계좌이체취소, 휴대폰결제취소)."""
    response = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": str(cash), "store_points_won": "0", "mileage_won": str(order.mileage_use_won),
        "shipping_deduction_won": "0", "method": method})
    assert response.status_code == 302, response.content.decode()[-1500:]


def _form(page: str) -> tuple[str, str]:
    action = re.search(r'action="([^"]+/payments/\d+/cancel/)"', page).group(1)
    key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)
    return action, key


def test_card_partial_then_full_cancel_never_more_than_charged(shop, operator):
    order, _buyer = place(shop, code="4", method="card")  # 20,000원 − 500원 mileage = 19,500원 charged
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    # nothing to cancel before a refund says the money goes back by card
    assert 'name="key"' not in page.split('id="payment-cancel"')[1]
    refund_by(operator, order, "card", 19_500)
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert "카드결제취소" in page and "19,500원" in page
    action, key = _form(page)
    # a partial cancel of 5,000원
    operator.post(action, {"amount_won": "5000", "key": key}, follow=True)
    # the same button pressed again does nothing
    again = operator.post(action, {"amount_won": "5000", "key": key}, follow=True).content.decode()
    assert "이미 처리된" in again
    payment = order.payments.get()
    assert list(payment.cancels.values_list("label", "amount_won")) == [("카드부분취소", 5_000)]
    # more than what is left is refused with the limit, nothing changes
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    action, key = _form(page)
    refused = operator.post(action, {"amount_won": "14501", "key": key}, follow=True).content.decode()
    assert "14,500원까지" in refused and payment.cancels.count() == 1
    # the rest: the whole charge is cancelled and the payment says so
    done = operator.post(action, {"amount_won": "14500", "key": key}, follow=True).content.decode()
    assert "카드결제취소" in done
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED
    assert sum(payment.cancels.values_list("amount_won", flat=True)) == 19_500
    assert 'id="payment-cancel"' in done and "name=\"key\"" not in done.split('id="payment-cancel"')[1]


def test_a_card_cancel_and_a_cash_refund_never_pay_the_same_money_twice(shop, operator):
    order, _ = place(shop, method="card")
    refund_by(operator, order, "cash", order.payable_won)  # 현금환불: the shop pays it, the card stays charged
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert 'name="key"' not in page.split('id="payment-cancel"')[1]
    with pytest.raises(PaymentActionError) as caught:
        payment_cancel(payment=order.payments.get(), amount_won=order.payable_won, key="twice")
    assert "먼저" in caught.value.message and not PaymentCancel.objects.exists()


def test_bad_amount_changes_nothing(shop, operator):
    order, _ = place(shop, method="card")
    refund_by(operator, order, "card", order.payable_won)
    action, key = _form(operator.get(f"/console/orders/{order.number}/").content.decode())
    for amount in ("abc", "-1", "0", "²", "9" * 30):
        response = operator.post(action, {"amount_won": amount, "key": key}, follow=True)
        assert response.status_code == 200
    assert not PaymentCancel.objects.exists()


def test_phone_payment_is_cancelled_on_the_day_only_and_whole(shop, operator):
    order, _ = place(shop, method="phone")
    refund_by(operator, order, "phone", order.payable_won)
    payment = order.payments.get()
    with pytest.raises(PaymentActionError):
        payment_cancel(payment=payment, amount_won=1_000, key="p1")
    with pytest.raises(PaymentActionError) as caught:
        payment_cancel(payment=payment, amount_won=payment.amount_won, key="p2",
                       now=timezone.now() + timedelta(days=1))
    assert "당일" in caught.value.message
    assert payment_cancel(payment=payment, amount_won=payment.amount_won, key="p3").label == "휴대폰결제취소"


def test_bank_transfer_has_no_gateway_cancel(shop, operator):
    order, _ = place(shop, method="bank")
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert "카드결제취소" not in page
    with pytest.raises(PaymentActionError) as caught:
        payment_cancel(payment=order.payments.get(), amount_won=1, key="b1")
    assert "현금환불" in caught.value.message


def test_realtime_transfer_cancels_whole(shop, operator):
    order, _ = place(shop, method="realtime")
    refund_by(operator, order, "transfer", order.payable_won)
    payment = order.payments.get()
    with pytest.raises(PaymentActionError):
        payment_cancel(payment=payment, amount_won=100, key="r1")
    assert payment_cancel(payment=payment, amount_won=payment.amount_won, key="r2").label == "계좌이체취소"


@pytest.mark.skipif("postgresql" not in __import__("django.conf").conf.settings.DATABASES["default"]["ENGINE"],
                    reason="two writers at once need PostgreSQL row locks (make test runs it there)")
def test_two_operators_cancelling_at_once_never_cancel_more_than_was_charged(shop, operator):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    order, _ = place(shop, method="card")
    refund_by(operator, order, "card", order.payable_won)
    payment = order.payments.get()

    def press(key):
        try:
            return payment_cancel(payment=payment, amount_won=payment.amount_won, key=key) is not None
        except PaymentActionError:
            return False
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(press, ["op-1", "op-2"]))
    assert results == [False, True]
    assert sum(payment.cancels.exclude(status="failed").values_list("amount_won", flat=True)) == payment.amount_won
