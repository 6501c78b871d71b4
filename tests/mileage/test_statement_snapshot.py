"""정산's statement read while settlement lines are booked (a 환불완료 at that moment): its totals are the sum of
the rows it shows, always — threaded, on PostgreSQL."""

import threading
import time

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mileage.models import MileageEvent, MileageTransaction, SettlementKind, SettlementLine
from mileage.services.settlement import MonthTotals, monthly_statement
from tests.factories import ProductFactory, order_for

pytestmark = pytest.mark.django_db(transaction=True)

on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="two connections at once need PostgreSQL")

MONTH = "2026-11"


def _booked(count: int) -> list[MileageEvent]:
    """`count` orders approved this month: 1,000원 used, 90원 earned each."""
    events, product = [], ProductFactory(price_won=10_000)
    for n in range(count):
        order = order_for([(product, 1)], mileage_use_won=1_000, number=f"20261110-{n:07d}")
        tx = MileageTransaction.objects.create(order=order, req_tx_id=f"R{n}", use_won=1_000, earn_base_won=9_000,
                                               original_earn_base_won=9_000, expected_earn_won=90, base_rate_x10=10)
        event = MileageEvent.objects.create(transaction=tx, kind="approve", idempotency_key=f"approve-{n}")
        for kind, amount in ((SettlementKind.EARN, 90), (SettlementKind.USE, 1_000)):
            SettlementLine.objects.create(order=order, event=event, kind=kind, amount_won=amount, month=MONTH,
                                          occurred_at=timezone.now())
        events.append(event)
    return events


def _rows_add_up(statement) -> bool:
    rows = MonthTotals()
    for line in statement.lines:
        rows.earned += line.earned
        rows.used += line.used
        rows.earn_cancelled += line.earn_cancelled
        rows.use_cancelled += line.use_cancelled
    return (rows.earned, rows.used, rows.earn_cancelled, rows.use_cancelled) == (
        statement.earned, statement.used, statement.earn_cancelled, statement.use_cancelled)


@on_postgres
def test_a_statement_read_while_cancels_are_booked_adds_up_to_its_rows():
    events = _booked(40)
    done, wrong, read = threading.Event(), [], [0]

    def cancel_each():  # each order's cancel booked in its own transaction, as 환불완료's provider answer is
        try:
            for event in events:
                order = event.transaction.order
                for kind, amount in ((SettlementKind.EARN, -90), (SettlementKind.USE, -1_000)):
                    SettlementLine.objects.create(order=order, event=event, kind=kind, amount_won=amount,
                                                  month=MONTH, occurred_at=timezone.now())
                time.sleep(0.005)
        finally:
            done.set()
            connection.close()

    def read_statements():
        try:
            while not done.is_set():
                statement = monthly_statement(MONTH)
                read[0] += 1
                if not _rows_add_up(statement):
                    wrong.append((statement.earned, statement.used))
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel_each)] + [threading.Thread(target=read_statements) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert read[0] > 40 and wrong == []
    final = monthly_statement(MONTH)
    assert (final.earned, final.used, final.earn_cancelled, final.use_cancelled) == (0, 0, 3_600, 40_000)
    assert _rows_add_up(final)


def test_a_statement_reads_its_rows_and_totals_at_once():
    """One statement of the database: the totals cannot come from another moment than the rows."""
    _booked(3)
    with CaptureQueriesContext(connection) as queries:
        statement = monthly_statement(MONTH)
    assert len(queries) == 1 and _rows_add_up(statement)
    assert (statement.earned, statement.used, len(statement.lines)) == (270, 3_000, 3)
