"""A 현금영수증's full 휴대폰번호 or 사업자번호 is the buyer's personal data: past the order's retention period it is
erased with the rest, its masked copy, amount, 승인번호 and status kept."""

import pytest

from portal.orders import cash_receipts
from portal.orders.models import CashReceipt, CashReceiptStatus, Order, OrderStatus, PaymentMethod
from portal.retention.models import ERASED
from portal.retention.services import erase_expired
from tests.factories import ProductFactory, paid_order_for

from .conftest import YEARS

pytestmark = pytest.mark.django_db


def test_past_the_period_the_receipts_number_is_erased_and_its_masked_copy_stays(clock):
    order = paid_order_for([(ProductFactory(price_won=7_000), 1)], method=PaymentMethod.BANK_TRANSFER)
    issued = cash_receipts.issue(payment=order.payments.get(), kind="personal", identifier="01098765432")
    assert issued.status == CashReceiptStatus.ISSUED
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CONFIRMED)
    clock(5 * YEARS - 1)
    assert erase_expired().erased == []
    assert CashReceipt.objects.get().identifier == "01098765432"
    clock(5 * YEARS + 5)
    assert erase_expired().erased == [order.number]
    kept = CashReceipt.objects.get()
    assert kept.identifier == ERASED and "01098765432" not in str(CashReceipt.objects.values().get())
    assert (kept.identifier_masked, kept.amount_won, kept.approval_number, kept.status) == (
        "*******5432", 7_000, issued.approval_number, CashReceiptStatus.ISSUED)
