"""The query budgets of a placement with mileage and of a 환불완료 (issue 27; bench/queries.py counts them, and
`make bench` prints the same counts on both databases): at most 20 statements of the portal's each, the same for
an order of 1 and of 20 lines; the TEST gateway's own book and BEGIN / COMMIT / SAVEPOINT are counted apart (a
환불완료 stays within 20 with its gateway statements too)."""

import pytest

from bench.queries import BUDGET, placement, products_for, refund_complete_of
from mileage.models import MileageTransaction, OutboxMessage
from portal.aftersales.models import Refund, RefundStatus
from portal.orders.models import GatewayEntry, Order, OrderStatus, PaymentCancel, PaymentStatus
from tests.portal.storefront.conftest import shop  # noqa: F401  (the shop fixture)

pytestmark = pytest.mark.sandbox


def test_a_placement_with_mileage_stays_within_the_budget_whatever_its_lines(shop):  # noqa: F811
    one, number_one = placement(shop, products_for(1))
    twenty, number_twenty = placement(shop, products_for(20))
    # both orders are placed, paid, with their mileage approved
    for number, lines in ((number_one, 1), (number_twenty, 20)):
        order = Order.objects.get(number=number)
        assert order.status == OrderStatus.PAID and order.lines.count() == lines
        assert order.payments.get().status == PaymentStatus.APPROVED
        assert MileageTransaction.objects.get(order=order).state == "approved"
    assert one.statements <= BUDGET, "\n".join(one.sql)
    assert one.gateway == 1  # the charge, in the TEST gateway's book
    assert (twenty.statements, twenty.gateway, twenty.control) == (one.statements, one.gateway, one.control), \
        "\n".join(twenty.sql)


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
    assert count.statements + count.gateway <= BUDGET, "\n".join(count.sql)
