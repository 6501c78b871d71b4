"""portal/numbering.py: every numbered row (orders, refunds) is saved under the next free number of its Seoul day,
and a number taken by another transaction between the read and the insert is read again."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError

from portal import numbering
from portal.aftersales.cancellations import order_cancel_after_payment
from portal.aftersales.common import RefundInput
from portal.aftersales.models import Refund, RefundReason
from portal.numbering import ORDER_PREFIX, REFUND_PREFIX, next_number, save_numbered
from portal.orders.models import Order, OrderStatus, PaymentMethod
from portal.orders.services import save_with_number
from tests.factories import ProductFactory, order_for, paid_order_for


def _racing(monkeypatch, take) -> list[str]:
    """Make the first read of a number be followed at once by another transaction saving a row under it
    (`take(number)`), as when two requests read the same highest number; returns the numbers read."""
    read = []

    def next_number_then_taken(*args, **kwargs):
        number = next_number(*args, **kwargs)
        if not read:
            take(number)
        read.append(number)
        return number

    monkeypatch.setattr(numbering, "next_number", next_number_then_taken)
    return read


def _order_copy(order: Order) -> Order:
    return Order(payment_method=order.payment_method, orderer_name="김철수", orderer_phone="010-1111-2222",
                 recipient_name="김철수", recipient_phone="010-1111-2222", address="서울 동작구 신대방2동",
                 goods_won=5_000, payable_won=5_000, placed_at=order.placed_at)


@pytest.mark.django_db
def test_given_another_order_takes_the_number_just_read_when_an_order_is_saved_then_it_gets_the_next_one(
        monkeypatch):
    # given today's first order, and a second placement racing a third for the next number
    first = order_for([(ProductFactory(), 1)])
    rival = _order_copy(first)
    read = _racing(monkeypatch, lambda number: Order.objects.create(**{
        **{f.name: getattr(rival, f.name) for f in Order._meta.concrete_fields if f.name != "id"},
        "number": number, "orderer_name": "경쟁 주문"}))
    # when the second is saved
    order = save_with_number(_order_copy(first))
    # then the rival kept the number it took and ours is the one after it
    assert first.number.endswith("-0000001")
    assert read[0].endswith("-0000002")
    assert Order.objects.get(orderer_name="경쟁 주문").number == read[0]
    assert order.number.endswith("-0000003")
    assert Order.objects.count() == 3


@pytest.mark.django_db
def test_given_another_refund_takes_the_number_just_read_when_an_order_is_cancelled_then_its_refund_gets_the_next(
        monkeypatch):
    # given two paid orders, the first one's refund being written by another operator at the same moment
    product = ProductFactory()
    paid = [paid_order_for([(product, 1)], method=PaymentMethod.CARD) for _ in range(2)]
    _racing(monkeypatch, lambda number: Refund.objects.create(number=number, order=paid[0],
                                                              reason=RefundReason.CANCEL, cash_won=1))
    # when the second order is cancelled after payment (배송전 취소)
    refund = order_cancel_after_payment(order=Order.objects.get(pk=paid[1].pk), by=None, data=RefundInput(
        cash_won=5_000, store_points_won=0, mileage_won=0, bank="농협", account_no="302-1234", holder="홍길동"))
    # then its refund has the next 'C' number and the cancellation went through
    assert refund.number.startswith(REFUND_PREFIX) and refund.number.endswith("-0000002")
    assert Refund.objects.get(order=paid[0]).number.endswith("-0000001")
    assert Order.objects.get(pk=paid[1].pk).status == OrderStatus.CANCELLED


@pytest.mark.django_db
def test_given_every_number_read_is_already_taken_when_saving_then_it_gives_up_after_its_attempts(monkeypatch):
    # given a reader that always returns the number of an existing order
    existing = order_for([(ProductFactory(), 1)])
    monkeypatch.setattr(numbering, "next_number", lambda *args, **kwargs: existing.number)
    # when a new order is saved with three attempts
    # then the collision is raised, not hidden, and nothing was saved
    with pytest.raises(IntegrityError):
        save_numbered(_order_copy(existing), prefix=ORDER_PREFIX, attempts=3)
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_given_a_late_evening_in_utc_when_numbering_then_the_seoul_day_and_the_kind_prefix_are_used():
    # given 23:30 UTC on 2026-11-27, already 28 November in Seoul
    late = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    # when the next order and refund numbers of that moment are read
    # then both carry the Seoul date, the refund with its 'C'
    assert next_number(Order, ORDER_PREFIX, late) == "20261128-0000001"
    assert next_number(Refund, REFUND_PREFIX, late) == "C20261128-0000001"
