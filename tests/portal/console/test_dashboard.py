"""The console home (대시보드): its numbers, its links, and a bounded number of queries whatever the data."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mileage.models import MileageEvent, MileageTransaction, OutboxMessage, SettlementKind, SettlementLine
from mileage.models.outbox import OutboxStatus
from portal.aftersales.models import Refund
from portal.console.dashboard import last_months
from portal.orders.models import Order, PaymentMethod
from tests.factories import ProductFactory, order_for
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, settings):
    settings.MILEAGE_API_BASE = "http://127.0.0.1:9"  # no provider: the rate card says so, the page still renders
    load_demo()
    client.force_login(User.objects.get(username="operator"))
    return client


def _orders(n):
    product = ProductFactory(name="샘플상품 1")
    return [order_for([(product, 1)], method=PaymentMethod.BANK_TRANSFER if i % 2 else PaymentMethod.CARD)
            for i in range(n)]


def test_last_months_ends_with_this_month():
    assert last_months(timezone.now().date().replace(year=2026, month=2, day=3), 3) == ["2025-12", "2026-01", "2026-02"]


def test_dashboard_shows_todays_orders_the_queues_and_the_month(operator):
    # given orders today, a waiting refund, a failed call and settlement lines this month
    orders = _orders(4)
    month = timezone.localtime().strftime("%Y-%m")
    now = timezone.now()
    tx = MileageTransaction.objects.create(order=orders[0], req_tx_id="R0", use_won=500, earn_base_won=4_500,
                                           original_earn_base_won=4_500, expected_earn_won=45, base_rate_x10=10)
    event = MileageEvent.objects.create(transaction=tx, kind="approve", idempotency_key="e-1")
    for kind, amount in ((SettlementKind.EARN, 45), (SettlementKind.USE, 500)):
        SettlementLine.objects.create(order=orders[0], event=event, kind=kind, amount_won=amount, month=month,
                                      occurred_at=now)
    Refund.objects.create(order=orders[1], number="R-1", reason="cancel", cash_won=1000)
    OutboxMessage.objects.create(kind="cancel", order=orders[2], status=OutboxStatus.FAILED, payload={},
                                 idempotency_key="k-1", wire_key="w-1", next_attempt_at=now)
    # when
    page = operator.get("/console/").content.decode()
    # then
    assert "대시보드" in page and 'id="breadcrumb"' in page
    assert "4건" in page and "45원" in page and "500원" in page and 'id="dash-balance">455원' in page and "<strong>네이버가 가맹점에 지급</strong>" in page
    assert "/console/refunds/?status=before" in page and "/console/outbox/" in page
    assert 'id="mileage-chart-data"' in page and "<script>" not in page


def test_dashboard_queries_stay_bounded(operator):
    _orders(3)
    with CaptureQueriesContext(connection) as few:
        assert operator.get("/console/").status_code == 200
    _orders(30)
    Order.objects.update(placed_at=timezone.now() - timedelta(hours=1))
    with CaptureQueriesContext(connection) as many:
        assert operator.get("/console/").status_code == 200
    # 15: the open operator notices (the disclosure unpublished) are read on the dashboard too
    assert len(many) == len(few) <= 15, [q["sql"] for q in many.captured_queries]


def _line(order, event, kind, amount, month):
    return SettlementLine(order=order, event=event, kind=kind, amount_won=amount, month=month,
                          occurred_at=timezone.now())


def test_dashboard_sums_are_the_ledgers_to_the_won_and_fresh(operator):
    """The 정산 card and the chart read sums the database keeps with every settlement line (triggers): after lines
    written one by one, in bulk and in a rolled-back transaction, they equal the ledger's own aggregate."""
    from django.db import transaction

    from mileage.services.settlement import monthly_statement
    from portal.console.dashboard import month_statement, month_sums

    order = _orders(1)[0]
    tx = MileageTransaction.objects.create(order=order, req_tx_id="R9", use_won=500, earn_base_won=4_500,
                                           original_earn_base_won=4_500, expected_earn_won=45, base_rate_x10=10)
    event = MileageEvent.objects.create(transaction=tx, kind="approve", idempotency_key="e-9")
    months = last_months(timezone.localtime().date())
    this, last = months[-1], months[-2]
    page = operator.get("/console/").content.decode()
    assert "1,234원" not in page
    # one line at a time: the page shows it on the next visit
    _line(order, event, SettlementKind.EARN, 1_234, this).save()
    assert 'id="dash-earned">1,234원' in operator.get("/console/").content.decode()
    # in bulk, with cancellations (negative lines), over two months
    SettlementLine.objects.bulk_create(
        [_line(order, event, SettlementKind.USE if i % 2 else SettlementKind.EARN, (500 if i % 2 else 45)
               * (-1 if i % 5 == 0 else 1), this if i % 3 else last) for i in range(200)])
    # a transaction that rolls back leaves the sums as they were
    with pytest.raises(RuntimeError), transaction.atomic():
        _line(order, event, SettlementKind.USE, 99_999, this).save()
        raise RuntimeError
    sums = month_sums(months)
    for month in (this, last, months[0]):
        shown = month_statement(sums, month)
        ledger = monthly_statement(month)
        assert (shown.earned, shown.used, shown.earn_cancelled, shown.use_cancelled) == (
            ledger.earned, ledger.used, ledger.earn_cancelled, ledger.use_cancelled)
    totals = monthly_statement(this)
    earned, used = totals.earned, totals.used
    assert earned != 0 and used != 0 and totals.earn_cancelled > 0 and totals.use_cancelled > 0
    page = operator.get("/console/").content.decode()
    assert f'id="dash-earned">{earned:,}원' in page and f'id="dash-used">{used:,}원' in page
    assert f'id="dash-balance">{abs(earned - used):,}원' in page
    payer = "가맹점이 네이버에 지급" if earned > used else "네이버가 가맹점에 지급"
    assert f"<strong>{payer}</strong>" in page
    assert "99,999" not in page


def test_todays_card_reads_the_same_two_sums_as_the_list_it_opens(operator):
    # given today's orders: two card orders paid, two bank transfers still unpaid (nothing collected of them)
    orders = _orders(4)
    unpaid = [o for o in orders if o.payment_method == PaymentMethod.BANK_TRANSFER]
    assert unpaid and all(o.collected_won == 0 for o in Order.objects.filter(pk__in=[o.pk for o in unpaid]))
    # when
    page = operator.get("/console/").content.decode()
    listed = operator.get("/console/orders/?period=today").content.decode()
    # then: the card's 총주문금액 and 실결제금액 are the sums of those columns of 주문조회's 오늘날짜 list
    rows = Order.objects.filter(pk__in=[o.pk for o in orders])
    goods = sum(rows.values_list("goods_won", flat=True))
    collected = sum(rows.values_list("collected_won", flat=True))
    assert collected < sum(rows.values_list("payable_won", flat=True))  # the unpaid transfers are not money taken
    assert f'id="today-goods">총주문금액 {goods:,}원<' in page
    assert f'id="today-collected">실결제금액 {collected:,}원<' in page
    assert all(o.number in listed for o in orders)


def test_todays_mileage_count_is_the_orders_that_spent_mileage_not_every_mileage_order(operator):
    # given three orders today: one spent 500원 of mileage, one went through 적립/사용 to earn only, one without
    spent, earn_only, _plain = _orders(3)
    Order.objects.filter(pk=spent.pk).update(uses_mileage=True, mileage_use_won=500)
    Order.objects.filter(pk=earn_only.pk).update(uses_mileage=True, mileage_use_won=0)
    # when the dashboard is read
    page = operator.get("/console/").content.decode()
    # then 마일리지 사용 counts the one that spent some, as the 주문조회 export's 네이버 마일리지 사용 column does
    assert "마일리지 사용 1건" in page
