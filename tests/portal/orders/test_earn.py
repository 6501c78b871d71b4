"""portal/orders/earn.py: the one earn-state label, derived from the mileage transaction (and the order's own
cancellation), for every statement."""

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone, translation

from mileage.models import MileageTransaction, TransactionState
from portal.orders.earn import earn_status
from portal.orders.models import Order, OrderStatus

PAID_AT = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)  # 2026-12-04 01:30 in Seoul: the business date is the 4th


def today_is(day):
    """timezone.localdate with today set to `day` (a given moment's date unchanged)."""
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return day if value is None else real(value, timezone)

    return localdate


def _status(order_status=OrderStatus.PAID, *, paid_at=PAID_AT, **mileage):
    order = Order(status=order_status, paid_at=paid_at)
    fields = {"state": TransactionState.APPROVED, "base_rate_x10": 10, "expected_earn_won": 45, **mileage}
    return earn_status(order, MileageTransaction(**fields))


def test_expected_until_the_provider_grants_it():
    status = _status(OrderStatus.AWAITING_DEPOSIT, paid_at=None)
    assert (status.state, status.text) == ("expected", "1% 적립 예정 45원")


@pytest.mark.parametrize("state", [TransactionState.STATED, TransactionState.CONFIRMED, TransactionState.APPROVED,
                                   TransactionState.REPAID])
def test_granted_with_the_day_it_became_usable_and_what_was_granted(state, monkeypatch):
    # on the 19th, 15 days after the payment of the 4th, the earn is usable (E7): the date alone
    monkeypatch.setattr("portal.orders.earn.timezone.localdate", today_is(date(2026, 12, 19)))
    status = _status(state=state, earn_granted=True, granted_earn_won=40)
    assert status.text == "1% 적립 완료 (2026-12-19) 40원" and status.state_text == "적립 완료 (2026-12-19) 40원"
    with translation.override("en"):
        assert status.text == "1% earned, usable since 2026-12-19: 40 won"


def test_granted_says_from_when_it_can_be_used_until_then(monkeypatch):
    # on the 18th, the day before (E7: usable 15 days after payment), the statement says from when
    monkeypatch.setattr("portal.orders.earn.timezone.localdate", today_is(date(2026, 12, 18)))
    status = _status(state=TransactionState.CONFIRMED, earn_granted=True, granted_earn_won=40)
    # (E7: in the 적립예정 잔액 until then, as the manual's 적립 안내 calls it)
    assert status.text == "1% 적립 예정 (2026-12-19부터 사용 가능) 40원"
    with translation.override("en"):
        assert status.text == "1% pending, usable from 2026-12-19: 40 won"
    assert status.version != version_on(date(2026, 12, 19))  # a cached receipt is drawn again that day


def version_on(day):
    from unittest import mock

    with mock.patch("portal.orders.earn.timezone.localdate", today_is(day)):
        return _status(state=TransactionState.CONFIRMED, earn_granted=True, granted_earn_won=40).version


@pytest.mark.parametrize(("order_status", "state", "text"), [
    # 배송전 취소: the refund waits for 환불완료, the provider is not told yet (L3): the earn goes then
    (OrderStatus.CANCELLED, TransactionState.STATED, "적립 취소 예정"),
    (OrderStatus.CANCELLED, TransactionState.CANCELLED, "적립 취소"),
    (OrderStatus.PAYMENT_FAILED, TransactionState.FAILED, "적립 취소"),
    (OrderStatus.PAID, TransactionState.ABORTED, "적립 취소"),
    (OrderStatus.RETURNED, TransactionState.CANCELLED, "적립 취소"),
])
def test_cancelled_whenever_the_order_or_its_transaction_is(order_status, state, text):
    status = _status(order_status, state=state, earn_granted=state == TransactionState.STATED, granted_earn_won=45)
    assert (status.state, status.text, status.amount_won) == ("cancelled", text, 0)


def test_nothing_to_earn_says_so_instead_of_zero_won():
    assert _status(expected_earn_won=0).text == "적립 없음"
    assert _status(expected_earn_won=0, earn_granted=True, granted_earn_won=0).text == "적립 없음"


def test_no_transaction_no_statement():
    assert earn_status(Order(status=OrderStatus.PAID), None) is None


@pytest.mark.parametrize(("state", "tx_id", "label"), [
    (TransactionState.FAILED, "", "사용되지 않음"),  # refused: nothing was taken
    (TransactionState.ABORTED, "", "사용되지 않음"),  # the refused reqTxId aborted afterwards: still never taken
    (TransactionState.ABORTED, "T1", "반환 완료"),  # approved, then aborted (a declined card): given back
])
def test_a_dead_orders_use_says_whether_it_was_ever_taken(state, tx_id, label):
    order = Order(status=OrderStatus.PAYMENT_FAILED, mileage_use_won=700)
    status = earn_status(order, MileageTransaction(state=state, tx_id=tx_id, base_rate_x10=10, use_won=700))
    assert status.use_back_label == label
