"""Data at shop scale, written with bulk inserts; generated once per database and scale (a marker row says so)."""

import random
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from mileage.models import MileageEvent, MileageTransaction, SettlementKind, SettlementLine
from portal.catalog.models import Category, Product
from portal.orders.models import Order, OrderLine, OrderStatus, PaymentMethod

NAMES = ["김민준", "이서연", "박지호", "최하은", "정도윤", "강서윤", "조예준", "윤지우", "장시우", "임하린"]
BATCH = 5_000


def generated(key: str) -> bool:
    return Category.objects.filter(slug=f"bench-{key}").exists()


REFUND_PAGE = 50  # a full page of 환불관리 (per_page 50): the memory rows compare full pages at every table size


def ensure(scale: dict, month: str) -> None:
    key = f"{scale['orders']}-{scale['products']}-{scale['events']}"
    if not generated(key):
        generate(scale, month, key)
    _refund_page()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # a steady-state database: statistics and visibility map up to date
            for table in ("orders_order", "catalog_product", "mileage_settlementline"):
                cursor.execute(f"VACUUM ANALYZE {table}")


def generate(scale: dict, month: str, key: str) -> None:
    rng = random.Random(7)
    with transaction.atomic():
        category = Category.objects.create(name="벤치", slug=f"bench-{key}")
        User.objects.filter(username="bench").exists() or User.objects.create_superuser("bench", password="bench")
        products = [Product(code=f"B{i:07d}", name=f"벤치상품 {i} {NAMES[i % 10]}", category=category,
                            price_won=1_000 * (1 + i % 50), manufacturer="벤치", is_displayed=i % 7 != 0)
                    for i in range(scale["products"])]
        Product.objects.bulk_create(products, batch_size=BATCH)
    sample = Product.objects.filter(category=category).order_by("id").first()
    now = timezone.now()
    methods = PaymentMethod.values
    statuses = [OrderStatus.PAID, OrderStatus.AWAITING_DEPOSIT, OrderStatus.DELIVERED, OrderStatus.CANCELLED]
    for start in range(0, scale["orders"], BATCH):
        with transaction.atomic():
            orders = []
            for i in range(start, min(start + BATCH, scale["orders"])):
                name = NAMES[i % 10] + str(i % 997)
                orders.append(Order(
                    number=f"B{i:011d}", status=statuses[i % 4], payment_method=methods[i % 4],
                    orderer_name=name, orderer_phone=f"010-{i % 10000:04d}-{i % 9999:04d}",
                    recipient_name=name, recipient_phone="010-0000-0000", address="서울 동작구 신대방2동",
                    depositor_name=name, goods_won=5_000, mileage_use_won=500 if i % 3 == 0 else 0,
                    uses_mileage=i % 3 == 0,
                    payable_won=4_500 if i % 3 == 0 else 5_000,
                    # 실 결제금액: taken once paid (결제완료, 배송완료, and the cancelled ones after payment)
                    collected_won=0 if statuses[i % 4] == OrderStatus.AWAITING_DEPOSIT else (
                        4_500 if i % 3 == 0 else 5_000),
                    placed_at=now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))))
            Order.objects.bulk_create(orders, batch_size=BATCH)
            created = list(Order.objects.filter(number__in=[o.number for o in orders]).values_list("id", "number"))
            OrderLine.objects.bulk_create([
                OrderLine(order_id=oid, product=sample, product_code=sample.code, product_name=f"벤치상품 {n[-3:]}",
                          unit_price_won=5_000, quantity=1, line_total_won=5_000) for oid, n in created],
                batch_size=BATCH)
            MileageTransaction.objects.bulk_create([
                MileageTransaction(order_id=oid, req_tx_id=f"R{n}", tx_id=f"T{n}", state="approved", use_won=500,
                                   earn_base_won=4_500, original_earn_base_won=4_500, expected_earn_won=45,
                                   base_rate_x10=10) for oid, n in created if int(n[1:]) % 3 == 0],
                batch_size=BATCH)
    _settlement(scale["events"], month)
    Category.objects.filter(pk=category.pk).update(name="벤치 (완료)")


def _refund_page() -> None:
    """A page of 환불관리 (cancelled orders' refunds waiting), on every database alike, whatever else made refunds."""
    from portal.aftersales.models import Refund, RefundReason

    have = Refund.objects.filter(number__startswith="CB").count()
    if have >= REFUND_PAGE:
        return
    orders = Order.objects.filter(status=OrderStatus.CANCELLED).exclude(refunds__isnull=False).order_by("id")
    Refund.objects.bulk_create([
        Refund(number=f"CB{n:08d}", order=order, reason=RefundReason.CANCEL, cash_won=order.payable_won,
               mileage_won=order.mileage_use_won)
        for n, order in enumerate(orders[: REFUND_PAGE - have], start=have)])


def _settlement(count: int, month: str) -> None:
    """`count` mileage events of one month, each with its signed settlement line."""
    transactions = list(MileageTransaction.objects.values_list("id", "order_id")[: max(1, count // 4)])
    moment = timezone.now()
    kinds = ["approve", "stated", "cancel", "repayment"]
    for start in range(0, count, BATCH):
        with transaction.atomic():
            events = [MileageEvent(transaction_id=transactions[i % len(transactions)][0], kind=kinds[i % 4],
                                   use_won=500, earn_won=45, result_code="1000", idempotency_key=f"bench-{i}")
                      for i in range(start, min(start + BATCH, count))]
            MileageEvent.objects.bulk_create(events, batch_size=BATCH)
            ids = list(MileageEvent.objects.filter(idempotency_key__in=[e.idempotency_key for e in events])
                       .order_by("id").values_list("id", "transaction_id"))
            by_tx = dict(transactions)
            lines = []
            for n, (event_id, tx_id) in enumerate(ids, start=start):
                kind = SettlementKind.EARN if n % 2 else SettlementKind.USE
                amount = (45 if kind == SettlementKind.EARN else 500) * (-1 if n % 4 == 2 else 1)
                lines.append(SettlementLine(order_id=by_tx[tx_id], event_id=event_id, kind=kind, amount_won=amount,
                                            month=month, occurred_at=moment))
            SettlementLine.objects.bulk_create(lines, batch_size=BATCH)
