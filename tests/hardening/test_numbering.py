"""Finding 6: refund numbers (cancellations, returns, exchanges) stay unique under concurrency."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection, transaction

from portal import numbering
from portal.aftersales.cancellations import order_cancel_after_payment
from portal.aftersales.common import RefundInput
from portal.aftersales.models import Refund, RefundReason
from portal.numbering import REFUND_PREFIX, next_number, save_numbered
from portal.orders import money
from portal.orders.models import Order, OrderStatus, PaymentMethod
from tests.factories import ProductFactory, order_for


def _paid_orders(n: int) -> list[Order]:
    product = ProductFactory()
    orders = [order_for([(product, 1)], method=PaymentMethod.CARD) for _ in range(n)]
    for order in orders:  # paid by card, through the money's owner
        with transaction.atomic():
            money.payment_open(order=order, method=PaymentMethod.CARD, amount_won=order.payable_won)
            money.payment_charged(order=order, tid=f"TEST-{order.number}")
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status=OrderStatus.PAID)
    return list(Order.objects.filter(pk__in=[o.pk for o in orders]).order_by("pk"))


@pytest.mark.django_db
def test_a_taken_number_is_retried_inside_the_callers_transaction(monkeypatch):
    # given a refund already holding today's first number, and a reader that twice sees the table as it was
    order = _paid_orders(1)[0]
    taken = next_number(Refund, REFUND_PREFIX)
    Refund.objects.create(number=taken, order=order, reason=RefundReason.CANCEL, cash_won=1)
    stale = iter([taken, taken])
    monkeypatch.setattr(numbering, "next_number", lambda *args, **kwargs: next(stale, None) or next_number(*args, **kwargs))
    # when a new one is saved in an outer transaction
    with transaction.atomic():
        refund = save_numbered(Refund(order=order, reason=RefundReason.CANCEL, cash_won=1), prefix=REFUND_PREFIX)
        Refund.objects.filter(pk=refund.pk).update(cash_won=2)  # the outer transaction still works
    # then it got the next free one
    assert refund.number.endswith("-0000002")
    assert Refund.objects.count() == 2


@pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                    reason="twenty writers at once need PostgreSQL; the in-memory SQLite test database cannot "
                           "take concurrent writers (make test runs this on PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_cancellations_get_twenty_refunds():
    # given twenty paid orders
    orders = _paid_orders(20)

    def cancel(order):
        try:
            return order_cancel_after_payment(order=order, by=None, data=RefundInput(
                cash_won=order.payable_won, store_points_won=0, mileage_won=0, method="card")).number
        finally:
            connection.close()

    # when all are cancelled (배송전 취소) at the same moment
    with ThreadPoolExecutor(max_workers=20) as pool:
        numbers = list(pool.map(cancel, orders))
    # then each has its own refund with its own number
    assert len(set(numbers)) == 20
    assert Refund.objects.count() == 20
    assert Order.objects.filter(status=OrderStatus.CANCELLED).count() == 20


@pytest.mark.django_db
def test_the_next_number_continues_its_own_day_and_kind_and_is_found_through_the_index():
    from datetime import datetime

    from django.test.utils import CaptureQueriesContext

    from mileage.policy.constants import BUSINESS_TZ
    from portal.numbering import ORDER_PREFIX

    order = _paid_orders(1)[0]
    noon = datetime(2026, 11, 28, 12, tzinfo=BUSINESS_TZ)
    # given numbers of the day before, the day after, another kind, and two of this day
    for number in ("C20261128-0000009", "20261127-0000042", "20261129-0000001", "20261128-0000001",
                   "20261128-0000007"):
        Refund.objects.create(number=number, order=order, reason=RefundReason.CANCEL, cash_won=1)
    # then the next refund number of the day follows its own kind, and an order's follows the day's highest
    assert next_number(Refund, REFUND_PREFIX, noon) == "C20261128-0000010"
    assert next_number(Refund, ORDER_PREFIX, noon) == "20261128-0000008"
    assert next_number(Refund, REFUND_PREFIX, datetime(2026, 11, 30, 12, tzinfo=BUSINESS_TZ)) == "C20261130-0000001"
    # and it is read from an index, as a range in byte order (SQLite: the unique index; PostgreSQL: the COLLATE "C"
    # index its migration adds), not by filtering every row with LIKE
    with CaptureQueriesContext(connection) as queries:
        next_number(Refund, REFUND_PREFIX, noon)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small would be read whole anyway
        cursor.execute(("EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ") + queries[0]["sql"])
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    if connection.vendor == "sqlite":
        assert "SEARCH" in plan and "number>? AND number<?" in plan, plan
    else:
        assert "refund_number_c_idx" in plan and "Index Cond" in plan, plan
