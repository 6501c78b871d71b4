"""A 적립금환불 pays the money back as the shop's 적립금, not as money: the receipt and 환불관리's export show it
under 적립금 and 0원 under 현금/카드, so that an accountant adding up the 현금/카드 column counts only money paid out."""

import pytest
from django.contrib.auth.models import User

from portal.aftersales.cancellations import order_cancel_after_payment
from portal.aftersales.common import RefundInput
from portal.aftersales.models import Refund
from portal.aftersales.refunds import refund_complete
from portal.console.aftersales_views import REFUND_EXPORT_COLUMNS, export_refunds
from portal.orders.models import PaymentMethod
from portal.receipts.render import receipt_html, receipt_version
from tests.factories import MemberFactory, ProductFactory, paid_order_for

pytestmark = pytest.mark.django_db


def _cells(html: str, number: str) -> list[str]:
    import re

    row = next(r for r in html.split("<tr") if number in r)
    return [re.sub(r"<[^>]+>", " ", "<td" + cell).split() for cell in row.split("<td")[1:]]


def _cancelled_card_order(cash_won: int, method: str):
    """A member's paid 5,000원 card order cancelled before shipping with `cash_won` back by `method`; its refund."""
    operator = User.objects.create_user("op")
    order = paid_order_for([(ProductFactory(price_won=5_000), 1)], method=PaymentMethod.CARD, member=MemberFactory())
    order_cancel_after_payment(order=order, by=operator, data=RefundInput(
        cash_won=cash_won, store_points_won=0, mileage_won=0, method=method))
    return order, Refund.objects.get(order=order), operator


def test_a_points_refund_reads_as_적립금_on_the_receipt_and_in_the_export():
    # given a member's paid card order of 5,000원, cancelled before shipping with its money back as 적립금
    order, refund, operator = _cancelled_card_order(5_000, "points")
    # a receipt cached while the refund waited is not served once its method changed (환불 방식 변경)
    before = receipt_version(order)
    Refund.objects.filter(pk=refund.pk).update(method="card")
    assert receipt_version(order) != before
    Refund.objects.filter(pk=refund.pk).update(method="points")
    assert receipt_version(order) == before
    assert refund_complete(refund=refund, by=operator) is True
    refund.refresh_from_db()
    assert (refund.money_back_won, refund.points_back_won) == (0, 5_000)
    # then the receipt's refund row: 현금/카드 0원, 적립금 5,000원 (적립금환불)
    money, points = _cells(receipt_html(order), refund.number)[1:3]
    assert money[0] == "0원" and points[:2] == ["5,000원", "적립금환불"]
    # and the export's columns say the same
    response, _numbers, _count = export_refunds(Refund.objects.filter(pk=refund.pk), "csv")
    header, row = [line.split(",") for line in response.content.decode("utf-8-sig").strip().splitlines()]
    exported = dict(zip(header, row, strict=True))
    assert header == [str(label) for label in REFUND_EXPORT_COLUMNS]
    assert (exported["환불방식"], exported["현금/카드"], exported["적립금"]) == ("적립금환불", "0", "5000")


def test_환불관리s_환불금액_is_the_money_as_on_주문상세정보_and_the_store_points_have_their_own_column():
    from portal.console.tables import RefundTable

    # given a member's paid card order cancelled with 4,500원 by card and 500원 of the store points used given back
    _order, refund, _operator = _cancelled_card_order(4_500, "card")
    Refund.objects.filter(pk=refund.pk).update(store_points_won=500)
    table = RefundTable(Refund.objects.filter(pk=refund.pk))
    row = table.rows[0]
    # 환불금액 is the money going back (what 주문상세정보 adds up as 환불금액); the store points stand apart
    assert (row.get_cell("total"), row.get_cell("store_points_won")) == ("4,500원", "500원")
    # and the export reads the same figures under the same names
    response, _numbers, _count = export_refunds(Refund.objects.filter(pk=refund.pk), "csv")
    header, line = [text.split(",") for text in response.content.decode("utf-8-sig").strip().splitlines()]
    exported = dict(zip(header, line, strict=True))
    assert (exported["환불금액"], exported["적립금 반환"]) == ("4500", "500")
