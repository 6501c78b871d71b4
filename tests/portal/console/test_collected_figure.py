"""실결제금액 has one source: 주문조회's column and its export read what the shop took (the order's charged payments),
the figure 주문상세정보 shows as 실 결제금액 — 0 while an order is unpaid (the manual's list shows 0 for it), the
charge once paid, the charge and the 추가입금 after an exchange."""

import pytest
from django.db import transaction

from portal.orders import money
from portal.orders.models import Order, OrderStatus, PaymentMethod
from tests.factories import ProductFactory, order_for, paid_order_for
from tests.support.clients import operator_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return operator_client("op-collected")


def _row(page: str, number: str) -> str:
    return next(r for r in page.split("<tbody>", 1)[1].split("<tr>") if number in r)


def test_the_queue_export_and_detail_read_one_figure(operator):
    # given an unpaid bank transfer (4,500원 due) and a paid card order of 5,000원
    product = ProductFactory(price_won=5_000)
    unpaid = order_for([(product, 1)])
    with transaction.atomic():
        money.payment_open(order=unpaid, method=PaymentMethod.BANK_TRANSFER, amount_won=unpaid.payable_won)
    Order.objects.filter(pk=unpaid.pk).update(status=OrderStatus.AWAITING_DEPOSIT)
    paid = paid_order_for([(product, 1)], method=PaymentMethod.CARD)
    page = operator.get("/console/orders/").content.decode()
    # then the queue shows 0원 for the unpaid one and 5,000원 for the paid one
    assert '<td class="won">0원<small class="d-block text-muted due">결제예정 5,000원</small></td>' in _row(
        page, unpaid.number)
    assert '<td class="won">5,000원</td>' in _row(page, paid.number)
    # and the export says the same
    export = operator.post("/console/orders/?export=csv", {"reason": "점검"}).content.decode("utf-8-sig")
    lines = {line.split(",")[1]: line.split(",") for line in export.splitlines()[1:]}
    assert lines[unpaid.number][4] == "0" and lines[paid.number][4] == "5000"
    # when the deposit arrives, the figure follows; and set back to unpaid, it is 0 again
    with transaction.atomic():
        money.payment_deposit_confirmed(order=unpaid)
    assert Order.objects.get(pk=unpaid.pk).collected_won == money.collected_won(unpaid) == 5_000
    with transaction.atomic():
        money.payment_deposit_undone(order=unpaid)
    assert Order.objects.get(pk=unpaid.pk).collected_won == money.collected_won(unpaid) == 0
    # an exchange's 추가입금 adds to it
    with transaction.atomic():
        money.payment_additional_deposit(order=paid, amount_won=25_500, bank_account="기업은행 1")
    assert Order.objects.get(pk=paid.pk).collected_won == money.collected_won(paid) == 30_500
    detail = operator.get(f"/console/orders/{paid.number}/").content.decode()
    assert "30,500원" in detail
