"""The ledgers (mileage events and state changes, settlement lines, store points, payment and order status changes)
are append-only: a row is never edited or deleted, one by one or in bulk (a reversal is a new row)."""

import pytest
from django.utils import timezone

from core.append_only import AppendOnlyError
from mileage.models import MileageEvent, MileageStateChange, MileageTransaction, SettlementLine
from portal.orders.models import OrderStatusChange
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
