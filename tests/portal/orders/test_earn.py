"""portal/orders/earn.py: the one earn-state label, derived from the mileage transaction (and the order's own
cancellation), for every statement."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from mileage.models import MileageTransaction, TransactionState
from portal.orders.earn import earn_status
from portal.orders.models import Order, OrderStatus

PAID_AT = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)  # 2026-12-04 01:30 in Seoul: the business date is the 4th


def _status(order_status=OrderStatus.PAID, *, paid_at=PAID_AT, **mileage):
    order = Order(status=order_status, paid_at=paid_at)
    fields = {"state": TransactionState.APPROVED, "base_rate_x10": 10, "expected_earn_won": 45, **mileage}
    return earn_status(order, MileageTransaction(**fields))


def test_expected_until_the_provider_grants_it():
    status = _status(OrderStatus.AWAITING_DEPOSIT, paid_at=None)
    assert (status.state, status.text) == ("expected", "1% 적립 예정 45원")


@pytest.mark.parametrize("state", [TransactionState.STATED, TransactionState.CONFIRMED, TransactionState.APPROVED,
                                   TransactionState.REPAID])
def test_granted_with_the_business_date_of_the_payment_and_what_was_granted(state):
    status = _status(state=state, earn_granted=True, granted_earn_won=40)
    assert status.text == "1% 적립 완료 (2026-12-04) 40원" and status.state_text == "적립 완료 (2026-12-04) 40원"
    with translation.override("en"):
        assert status.text == "1% Earned (2026-12-04) ₩40"


@pytest.mark.parametrize(("order_status", "state"), [
    (OrderStatus.CANCELLED, TransactionState.STATED),  # 배송전 취소: the refund waits, the earn is gone all the same
    (OrderStatus.CANCELLED, TransactionState.CANCELLED),
    (OrderStatus.PAYMENT_FAILED, TransactionState.FAILED),
    (OrderStatus.PAID, TransactionState.ABORTED),
    (OrderStatus.RETURNED, TransactionState.CANCELLED),
])
def test_cancelled_whenever_the_order_or_its_transaction_is(order_status, state):
    status = _status(order_status, state=state, earn_granted=state == TransactionState.STATED, granted_earn_won=45)
    assert (status.state, status.text, status.amount_won) == ("cancelled", "적립 취소", 0)


def test_nothing_to_earn_says_so_instead_of_zero_won():
    assert _status(expected_earn_won=0).text == "적립 없음"
    assert _status(expected_earn_won=0, earn_granted=True, granted_earn_won=0).text == "적립 없음"


def test_no_transaction_no_statement():
    assert earn_status(Order(status=OrderStatus.PAID), None) is None
