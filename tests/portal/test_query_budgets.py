"""The query budget of a 환불완료 (issue 27; bench/queries.py counts it): at most 20 statements that read or write
rows. BEGIN / COMMIT / SAVEPOINT are counted apart."""

import pytest

from bench.queries import BUDGET, placement, products_for, refund_complete_of
from mileage.models import MileageTransaction, OutboxMessage
from portal.aftersales.models import Refund, RefundStatus
from portal.orders.models import GatewayEntry, PaymentCancel, PaymentStatus
from tests.portal.storefront.conftest import shop  # noqa: F401  (the shop fixture)

pytestmark = pytest.mark.sandbox


def test_a_card_refund_complete_with_mileage_stays_within_the_budget(shop):  # noqa: F811
    _count, number = placement(shop, products_for(1))
    count = refund_complete_of(number)
    # the refund is done: the card cancelled at the gateway once, the payment 취소, the mileage cancel sent
    refund = Refund.objects.get(order__number=number)
    assert refund.status == RefundStatus.DONE and refund.provider_call == "cancel"
    cancel = PaymentCancel.objects.get(refund_number=refund.number)
    assert cancel.status == "done" and cancel.payment.status == PaymentStatus.CANCELLED
    assert GatewayEntry.objects.filter(parent_tid=cancel.payment.gateway_tid, kind="cancel").count() == 1
    assert OutboxMessage.objects.get(order__number=number, kind="cancel").status == "sent"
    assert MileageTransaction.objects.get(order__number=number).state == "cancelled"
    assert count.statements <= BUDGET, "\n".join(count.sql)
