"""The ledgers (mileage events and state changes, settlement lines, store points, payment and order status changes)
are append-only: a row is never edited or deleted, one by one or in bulk (a reversal is a new row)."""

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.append_only import AppendOnlyError
from mileage.models import MileageEvent, MileageStateChange, MileageTransaction, SettlementLine
from portal.orders.models import Order, OrderStatusChange
from tests.factories import ProductFactory, order_for

pytestmark = pytest.mark.django_db


def test_ledger_rows_cannot_be_changed_or_removed_in_bulk():
    order = order_for([(ProductFactory(), 1)])
    mileage = MileageTransaction.objects.create(order=order, req_tx_id="R1")
    event = MileageEvent.objects.create(transaction=mileage, kind="approve", idempotency_key="k1")
    MileageStateChange.objects.create(transaction=mileage, from_state="", to_state="approving", event=event)
    SettlementLine.objects.create(order=order, event=event, kind="EARN", amount_won=45, month="2026-12",
                                  occurred_at=timezone.now())
    OrderStatusChange.objects.create(order=order, from_status="", to_status="awaiting_deposit")
    for model, change in ((MileageEvent, {"provider_ms": 1}), (MileageStateChange, {"note": "x"}),
                          (SettlementLine, {"amount_won": 1}), (OrderStatusChange, {"note": "x"})):
        with pytest.raises(AppendOnlyError):
            model.objects.all().update(**change)
        with pytest.raises(AppendOnlyError):
            model.objects.filter(pk__gt=0).delete()
        assert model.objects.count() == 1
    assert SettlementLine.objects.get().amount_won == 45


POSTGRES_ONLY = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="the ledgers' triggers are PostgreSQL's (make test runs this on PostgreSQL)")
LEDGER_TABLES = ("mileage_mileageevent", "mileage_mileagestatechange", "mileage_settlementline",
                 "orders_orderstatuschange", "orders_paymentstatechange", "accounts_storepointentry")


@POSTGRES_ONLY
def test_the_database_refuses_updates_and_deletes_of_ledger_rows_whoever_writes_them():
    from portal.accounts.models import Member, StorePointEntry
    from portal.orders.models import Payment, PaymentStateChange

    order = order_for([(ProductFactory(), 1)])
    mileage = MileageTransaction.objects.create(order=order, req_tx_id="R1")
    event = MileageEvent.objects.create(transaction=mileage, kind="approve", idempotency_key="k1")
    MileageStateChange.objects.create(transaction=mileage, from_state="", to_state="approving", event=event)
    SettlementLine.objects.create(order=order, event=event, kind="EARN", amount_won=45, month="2026-12",
                                  occurred_at=timezone.now())
    OrderStatusChange.objects.create(order=order, from_status="", to_status="awaiting_deposit")
    payment = Payment.objects.create(order=order, method="bank", amount_won=1, status="waiting")
    PaymentStateChange.objects.create(payment=payment, from_status="", to_status="waiting")
    member = Member.objects.create(user=User.objects.create_user("m1"))
    StorePointEntry.objects.create(member=member, delta_won=10, balance_after_won=10, reason="x",
                                   idempotency_key="p1")
    for table in LEDGER_TABLES:
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), \
                    connection.cursor() as cursor:
                cursor.execute(statement)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            assert cursor.fetchone()[0] == 1, table
    # the rows around them are not ledgers: the retention job rewrites an order's personal fields
    assert Order.objects.filter(pk=order.pk).update(orderer_name="(삭제됨)") == 1
