"""The measurements of one database (run by bench/run.py in a process of its own, on a bench database).

Every figure is the median of several runs; every target is a ratio against a baseline measured here, or a count.
Prints one JSON list of rows on stdout.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import data, queries  # noqa: E402
from mileage.policy.constants import BUSINESS_TZ  # noqa: E402
from portal.console.tables import PAGE_SIZES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCALES = {
    "small": {"orders": 20_000, "products": 10_000, "events": 50_000, "refunds": 30, "receipts": 16,
              "placements": 40, "load_seconds": 5, "repeat": 5, "page": 300, "per_page": 50,
              "invoices": 500, "deposits": 200},
    "full": {"orders": 1_000_000, "products": 100_000, "events": 1_000_000, "refunds": 1_000, "receipts": 1_000,
             "placements": 200, "load_seconds": 20, "repeat": 7, "page": 500, "per_page": 50,
             "invoices": 10_000, "deposits": 1_000},
}
WARM_REFUNDS = 5  # the untimed bulk 환불완료 before the measured one
COUNTED_REFUNDS = 50  # the bulk 환불완료 whose statements are counted, apart from the timed one
SERVER_WORKERS = 2  # gunicorn processes of the storefront and placement runs
TINY = {"orders": 200, "products": 200, "events": 200}
rows: list[dict] = []


def row(metric, ours, baseline, ratio, target, met, unit="ms"):
    rows.append({"metric": metric, "database": connection.vendor, "this": ours, "baseline": baseline,
                 "ratio": ratio, "target": target, "met": met, "unit": unit})


def median_ms(fn, repeat: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def paired_median_ms(ours, baseline, repeat: int) -> tuple[float, float]:
    """Both medians from alternating runs, so drift and warm-up fall on both sides alike."""
    ours(), baseline()
    a, b = [], []
    for _ in range(repeat):
        for fn, samples in ((ours, a), (baseline, b)):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(a), statistics.median(b)


# statements that read no row of the screen's: the transactions' own (as the query budgets count them apart) and a
# server-side cursor's fetching, replayed below as its SELECT
CONTROL = (*queries.CONTROL, "FETCH", "CLOSE", "MOVE")
DECLARED = re.compile(r'^\s*DECLARE\s+"[^"]+"\s+.*?CURSOR\s+WITH(?:OUT)?\s+HOLD\s+FOR\s+', re.I | re.S)
# Targets of the screens measured against their own SQL run bare (floor_of): what the page adds to its queries.
DASHBOARD_RATIO = 2.0
SEARCH_RATIO = 1.5
CACHED_RECEIPT_RATIO = 1.5


def floor_of(client: Client, path: str, params: dict | None = None):
    """The floor of a screen: the same login and permission check (the bench's empty console page) followed by the
    screen's own statements — those the empty page does not run, captured from one request of the screen — executed
    bare on a cursor with their parameters, their rows fetched and dropped. Returns a callable with `.count`, the
    number of those statements."""
    with CaptureQueriesContext(connection) as page:
        _ok(client.get("/bench/floor/page/"))
    with CaptureQueriesContext(connection) as screen:
        _ok(client.get(path, params or {}))
    frame = {q["sql"] for q in page.captured_queries}
    # a server-side cursor's DECLARE (PostgreSQL, QuerySet.iterator()) runs as its SELECT, all rows fetched
    own = [DECLARED.sub("", q["sql"]) for q in screen.captured_queries
           if q["sql"] not in frame and not q["sql"].lstrip().upper().startswith(CONTROL)]

    def run():
        _ok(client.get("/bench/floor/page/"))
        with connection.cursor() as cursor:
            for sql in own:  # captured with their parameters in place, as the database ran them
                cursor.execute(sql)
                if cursor.description:
                    cursor.fetchall()

    run.count = len(own)
    return run


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


# 1. the order queue against the Django admin changelist -------------------------------------------------------

def order_queue(scale):
    operator, admin = client_for("operator"), client_for("bench")
    per_page = scale["per_page"]
    cases = {
        "first page": ({}, {}),
        "name filter": ({"orderer_name": "김민준1"}, {"q": "김민준1"}),
        "period + method": ({"period": "30d", "payment_method": "card"},
                            {"placed_at__gte": _period_start_iso(),
                             "payment_method__exact": "card"}),
        f"page {scale['page']}": ({"page": scale["page"]}, {"p": scale["page"] - 1}),
    }
    first = None
    for name, (ours, theirs) in cases.items():
        ours_ms, admin_ms = paired_median_ms(
            lambda q=ours: _ok(operator.get("/console/orders/", {**q, "per_page": per_page})),
            lambda q=theirs: _ok(admin.get("/django-admin/orders/order/", q)), scale["repeat"])
        ratio = admin_ms / ours_ms
        row(f"주문조회 {name}", round(ours_ms, 1), round(admin_ms, 1), round(ratio, 2), "≥ 3× faster", ratio >= 3)
        if first is None:
            first = ours_ms
        if name.startswith("page"):
            row("주문조회 last page vs first", round(ours_ms, 1), round(first, 1), round(ours_ms / first, 2), "≤ 2×",
                ours_ms / first <= 2)
    ours_ms, floor_ms = paired_median_ms(lambda: _ok(operator.get("/console/orders/", {"per_page": 50})),
                                         lambda: _ok(operator.get("/bench/floor/orders/")), scale["repeat"])
    row("주문조회 first page vs the floor (same login, one hand-written query, 50 rows)", round(ours_ms, 1),
        round(floor_ms, 1), round(ours_ms / floor_ms, 2), "≤ 1.5×", ours_ms / floor_ms <= 1.5)
    floor = floor_of(operator, "/console/")
    dashboard_ms, floor_ms = paired_median_ms(lambda: _ok(operator.get("/console/")), floor, scale["repeat"])
    row(f"대시보드 vs its queries alone (queries: {floor.count}; the same login, the SQL run bare)",
        round(dashboard_ms, 1), round(floor_ms, 1), round(dashboard_ms / floor_ms, 2), f"≤ {DASHBOARD_RATIO}×",
        dashboard_ms / floor_ms <= DASHBOARD_RATIO)
    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            _ok(operator.get("/console/orders/", {"per_page": size}))
        counts.append(len(queries))
    row("주문조회 queries per page (10 / 100 rows)", counts[0], counts[1], "-", "≤ 12, constant",
        counts[0] == counts[1] <= 12, unit="queries")


def _period_start_iso() -> str:
    """The start of the console's "한달" shortcut, as the admin's date filter takes it."""
    start = timezone.now().astimezone(BUSINESS_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    return (start - timedelta(days=29)).isoformat()


def _ok(response):
    assert response.status_code == 200, response.status_code
    return response


# 3. the settlement statement against its SQL run bare ---------------------------------------------------------------

def settlement(scale, month):
    """What 정산 reads (mileage.services.settlement.monthly_statement: each order's earn and use, the totals added up
    from them) against the same grouped query through a bare cursor, its rows added up the same way."""
    from mileage.services.settlement import monthly_statement

    sql = ("SELECT l.order_id, o.number, l.kind, SUM(l.amount_won), "
           "SUM(CASE WHEN l.amount_won < 0 THEN l.amount_won ELSE 0 END) "
           "FROM mileage_settlementline l JOIN orders_order o ON o.id = l.order_id WHERE l.month = %s "
           "GROUP BY l.order_id, o.number, l.kind ORDER BY o.number")

    def floor():
        totals = {"EARN": [0, 0], "USE": [0, 0]}
        orders = set()
        with connection.cursor() as cursor:
            cursor.execute(sql, [month])
            for order_id, _number, kind, total, negative in cursor.fetchall():
                orders.add(order_id)
                totals[kind][0] += int(total or 0)
                totals[kind][1] -= int(negative or 0)
        return totals["EARN"][0], totals["USE"][0], totals["EARN"][1], totals["USE"][1], len(orders)

    def ours():
        statement = monthly_statement(month)
        return (statement.earned, statement.used, statement.earn_cancelled, statement.use_cancelled,
                len(statement.lines))

    ours_ms, floor_ms = paired_median_ms(ours, floor, scale["repeat"])
    equal = ours() == floor()
    ratio = ours_ms / floor_ms
    row(f"정산 statement, each order's lines and the totals from them ({scale['events']:,} events) vs its SQL run "
        "bare", round(ours_ms, 1), round(floor_ms, 1), round(ratio, 2), "≤ 1.5× the SQL run bare, equal",
        ratio <= 1.5 and equal)


# 4. receipts -----------------------------------------------------------------------------------------------------

def receipts(scale):
    from portal.orders.models import Order
    from portal.receipts import render

    default_storage = render.receipt_storage()

    orders = list(Order.objects.order_by("id")[: scale["receipts"] + 1])
    one = orders[0]

    path = render.receipt_path(one)

    def uncached():
        render.receipt_pdf(one)
        default_storage.delete(path)  # so that the next run renders again

    html = render.receipt_html(one)
    ours_ms, bare_ms = paired_median_ms(uncached, lambda: render.html_to_pdf(html), scale["repeat"] * 2)
    row("영수증 one receipt vs bare WeasyPrint", round(ours_ms, 1), round(bare_ms, 1), round(ours_ms / bare_ms, 2),
        "≤ 1.2×", ours_ms / bare_ms <= 1.2)
    batch = orders[1:]

    def clear():
        for order in batch:
            path = render.receipt_path(order)
            if default_storage.exists(path):
                default_storage.delete(path)

    clear()
    started = time.perf_counter()
    render.receipts_zip(batch, workers=1)
    single = time.perf_counter() - started
    clear()
    started = time.perf_counter()
    render.receipts_zip(batch, workers=2)
    double = time.perf_counter() - started
    speedup = single / double
    row(f"영수증 batch of {len(batch)} on 2 processes", round(len(batch) / double, 1), round(len(batch) / single, 1),
        round(speedup, 2), "≥ 1.6× the single-process rate", speedup >= 1.6, unit="receipts/s")
    operator = client_for("operator")
    size = len(_ok(operator.get(f"/console/orders/{one.number}/receipt.pdf")).content)
    floor_dir = Path(settings.MEDIA_ROOT) / "bench-floor"
    floor_dir.mkdir(parents=True, exist_ok=True)
    (floor_dir / f"{size}.bin").write_bytes(os.urandom(size))
    cached_ms, file_ms = paired_median_ms(lambda: _ok(operator.get(f"/console/orders/{one.number}/receipt.pdf")),
                                          lambda: _ok(operator.get(f"/bench/floor/file/{size}/")),
                                          scale["repeat"] * 2)
    row(f"영수증 cached receipt served vs a stored file of the same size ({size:,} bytes, the same login)",
        round(cached_ms, 2), round(file_ms, 2), round(cached_ms / file_ms, 2), f"≤ {CACHED_RECEIPT_RATIO}×",
        cached_ms / file_ms <= CACHED_RECEIPT_RATIO)


# 6. exclusions search, and memory of the list views -----------------------------------------------------------

def exclusions(scale):
    operator = client_for("operator")
    search = {"name": "벤치상품 12", "per_page": 50}
    floor = floor_of(operator, "/console/mileage/exclusions/", search)
    ours_ms, floor_ms = paired_median_ms(lambda: _ok(operator.get("/console/mileage/exclusions/", search)), floor,
                                         scale["repeat"])
    row(f"예외상품설정 search ({scale['products']:,} products) vs its queries alone (queries: {floor.count}; "
        "the same login, the SQL run bare)", round(ours_ms, 1), round(floor_ms, 1), round(ours_ms / floor_ms, 2),
        f"≤ {SEARCH_RATIO}×", ours_ms / floor_ms <= SEARCH_RATIO)
    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            _ok(operator.get("/console/mileage/exclusions/", {"per_page": size}))
        counts.append(len(queries))
    row("예외상품설정 queries (10 / 100 rows)", counts[0], counts[1], "-", "constant", counts[0] == counts[1],
        unit="queries")


def memory():
    """Peak Python memory of a list view's request; measured again at another table size by bench/run.py."""
    operator = client_for("operator")
    result = {}
    for name, path in [("orders", "/console/orders/"), ("refunds", "/console/refunds/"),
                       ("exclusions", "/console/mileage/exclusions/")]:
        operator.get(path)
        tracemalloc.start()
        _ok(operator.get(path, {"per_page": 50}))
        result[name] = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    return result


# 6. bulk work: 송장 일괄등록 and bulk 입금확인 against one order's action through its screen --------------------------

def _bulk_orders(count: int, status: str, tag: str) -> list[tuple[int, str]]:
    """`count` new orders in `status`, each with a live mileage transaction (so each action records its provider
    call in the outbox, as a mileage order's does); (id, number) pairs in id order."""
    from mileage.models import MileageTransaction
    from portal.orders.models import Order, PaymentMethod

    stamp = f"{tag}{time.time_ns() // 1_000_000 % 10**9:09d}"
    now = timezone.now()
    Order.objects.bulk_create([
        Order(number=f"{stamp}{n:06d}", status=status, payment_method=PaymentMethod.BANK_TRANSFER,
              orderer_name="벤치", orderer_phone="010-0000-0000", recipient_name="벤치", recipient_phone="010-0000-0000",
              address="서울 동작구 신대방2동", goods_won=5_000, mileage_use_won=500, uses_mileage=True, payable_won=4_500,
              placed_at=now) for n in range(count)], batch_size=data.BATCH)
    created = list(Order.objects.filter(number__startswith=stamp).order_by("id").values_list("id", "number"))
    MileageTransaction.objects.bulk_create([
        MileageTransaction(order_id=oid, req_tx_id=f"R{number}", tx_id=f"T{number}", state="approved", use_won=500,
                           earn_base_won=4_500, original_earn_base_won=4_500, expected_earn_won=45, base_rate_x10=10)
        for oid, number in created], batch_size=data.BATCH)
    return created


def bulk_work(scale):
    """Both sides record the same rows, the outbox's among them; the sending is the outbox worker's on both sides
    (the calls are scheduled nowhere here), so no provider time is in either figure."""
    import io

    from openpyxl import Workbook

    from mileage.models import OutboxMessage
    from mileage.provider import outbox
    from portal.console.bulk import MAX_BULK
    from portal.console.models import InvoiceUpload
    from portal.orders.models import Order, OrderStatus

    operator = client_for("operator")
    singles = max(scale["repeat"] * 3, 10)
    scheduled = outbox._schedule
    outbox._schedule = lambda message_id: None
    try:
        # 송장 일괄등록 of N rows (upload, check, preview, 적용 with its task) vs 배송 of one order through its screen
        count = scale["invoices"]
        single, bulk = (lambda made: (made[: singles + 1], made[singles + 1:]))(
            _bulk_orders(count + singles + 1, OrderStatus.PAID, "S"))
        one_ms = _single_ms(operator, single, "ship", {"carrier": "cj", "invoice_no": "6541111"},
                            OrderStatus.SHIPPED)
        book = Workbook(write_only=True)
        sheet = book.create_sheet("송장")
        sheet.append(["주문번호", "택배사", "송장번호"])
        for n, (_oid, number) in enumerate(bulk):
            sheet.append([number, "CJ대한통운", f"{700000000000 + n}"])
        buffer = io.BytesIO()
        book.save(buffer)
        buffer.seek(0)
        buffer.name = "invoices.xlsx"
        started = time.perf_counter()
        uploaded = operator.post("/console/invoices/", {"file": buffer})
        assert uploaded.status_code == 302, uploaded.status_code
        assert operator.post(uploaded["Location"] + "apply/").status_code == 302
        per_row = (time.perf_counter() - started) * 1000 / count
        upload = InvoiceUpload.objects.defer("rows").get(pk=uploaded["Location"].rstrip("/").split("/")[-1])
        ids = [oid for oid, _number in bulk]
        shipped = Order.objects.filter(pk__in=ids, status=OrderStatus.SHIPPED).count()
        calls = OutboxMessage.objects.filter(order_id__in=ids, kind="invoice").count()
        ratio = per_row / one_ms
        row(f"송장 일괄등록 of {count:,} rows: ms per row (upload, check, 적용; outbox rows recorded) vs 배송 of one "
            "order through its screen", round(per_row, 2), round(one_ms, 2), round(ratio, 2),
            f"{count:,} shipped, {count:,} invoices in the outbox; ≤ 1×",
            ratio <= 1 and upload.shipped == shipped == calls == count)

        # bulk 입금확인 of N orders (pages of MAX_BULK checked orders) vs one 입금확인 through its screen
        count = scale["deposits"]
        made = _bulk_orders(count + singles + 1, OrderStatus.AWAITING_DEPOSIT, "D")
        single, bulk = made[: singles + 1], made[singles + 1:]
        one_ms = _single_ms(operator, single, "confirm_deposit", {}, OrderStatus.PAID)
        ids = [oid for oid, _number in bulk]
        started = time.perf_counter()
        for start in range(0, count, MAX_BULK):
            response = operator.post("/console/orders/bulk/", {"action": "confirm_deposit",
                                                               "selection": ids[start:start + MAX_BULK]})
            assert response.status_code == 200, response.status_code
        per_order = (time.perf_counter() - started) * 1000 / count
        paid = Order.objects.filter(pk__in=ids, status=OrderStatus.PAID).count()
        calls = OutboxMessage.objects.filter(order_id__in=ids, kind="stated").count()
        ratio = per_order / one_ms
        row(f"bulk 입금확인 of {count:,} orders (pages of {MAX_BULK}): ms per order vs one 입금확인 through its screen",
            round(per_order, 2), round(one_ms, 2), round(ratio, 2),
            f"{count:,} paid, {count:,} calls in the outbox; ≤ 1×", ratio <= 1 and paid == calls == count)
    finally:
        outbox._schedule = scheduled


def _single_ms(operator, orders, action: str, data: dict, moved_to: str) -> float:
    """The median of one order's `action` posted from its detail screen, each on an order of its own (the first
    one warms up); every order must have moved."""
    from portal.orders.models import Order

    samples = []
    for n, (_oid, number) in enumerate(orders):
        started = time.perf_counter()
        response = operator.post(f"/console/orders/{number}/action/{action}/", data)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 302, response.status_code
        if n:
            samples.append(elapsed)
    moved = Order.objects.filter(pk__in=[oid for oid, _number in orders], status=moved_to).count()
    assert moved == len(orders), (action, moved, len(orders))
    return statistics.median(samples)


# 2 and 5 need the provider sandbox and a real server --------------------------------------------------------------

def with_sandbox(scale):
    sys.path.insert(0, str(ROOT))
    from tests.sandbox_process import Sandbox

    tmp = ROOT / "var" / "bench" / f"sandbox-{connection.vendor}"  # the two databases' runs may overlap
    tmp.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox.start(tmp)
    try:
        settings.MILEAGE_API_BASE = settings.MILEAGE_SERVICE_BASE = sandbox.base_url
        api_id, hash_key = sandbox.new_merchant(rate="1")
        from mileage.models import MileageSettings

        MileageSettings.objects.update_or_create(pk=1, defaults={"api_id": api_id, "hash_key": hash_key,
                                                                 "service_enabled": True})
        query_counts(sandbox)
        refunds(scale, sandbox, api_id)
        gateway_placements(scale, sandbox, api_id)
        storefront(scale, sandbox, api_id)
    finally:
        sandbox.stop()
        sandbox.drop_database()


def query_counts(sandbox):
    """The query budgets (bench/queries.py): a placement with mileage of 1 and of 20 order lines, and one 환불완료 of
    a card refund with mileage; counted, not timed."""
    one, number = queries.placement(sandbox, queries.products_for(1))
    twenty, _number = queries.placement(sandbox, queries.products_for(20))
    row("주문 placement with mileage: queries for 1 / 20 order lines (TEST gateway, BEGIN/COMMIT/SAVEPOINT apart: "
        f"+{one.gateway}/+{twenty.gateway}, +{one.control}/+{twenty.control})", one.statements, twenty.statements,
        "-", f"≤ {queries.BUDGET}, the same for 1 and 20 lines",
        one.statements == twenty.statements <= queries.BUDGET, unit="queries")
    refund = queries.refund_complete_of(number)
    row(f"환불완료 of a card refund with mileage: queries (TEST gateway +{refund.gateway}, BEGIN/COMMIT/SAVEPOINT "
        f"+{refund.control} apart; the provider call sent after, by the worker)", refund.statements, "-", "-",
        f"≤ {queries.BUDGET}, with the TEST gateway's", refund.statements + refund.gateway <= queries.BUDGET,
        unit="queries")


def _placed_orders(count, sandbox, api_id, method="card"):
    from mileage.provider import get_client
    from portal.orders.checkout import Buyer, cart_lines, order_place

    get_client()
    lines = cart_lines({"1": 1})
    orders = []
    for _ in range(count):
        buyer = sandbox.new_buyer(15_500)
        params = sandbox.control("popup", api_id=api_id, login_id=buyer, use=500, max_use=5_000)
        choice = {"req_tx_id": params["reqTxId"], "use_won": 500, "params": params}
        orders.append(order_place(lines=lines, member=None, store_points_won=0, choice=choice, buyer=Buyer(
            orderer_name="벤치", orderer_phone="010-0000-0000", orderer_email="", recipient_name="벤치",
            recipient_phone="010-0000-0000", zipcode="", address="서울 동작구 신대방2동", address_detail="",
            shipping_message="", depositor_name="", payment_method=method, card_number="4111",
            guest_password="bench123")))
    return orders


def refunds(scale, sandbox, api_id):
    """Bulk 환불완료 of card refunds with mileage, each sending its provider call (by the outbox worker) and its
    gateway cancel. A bulk of a few refunds goes first, untimed, so that neither side pays the process's first
    calls. The gateway's time (its cancel calls) and the provider's (the portal's wait for each answer: from the
    request's sending to its answer's headers, requests' `elapsed`, what a provider across the internet costs) are
    left out of the portal's time, each measured as it happens."""
    import requests

    from mileage.models import OutboxMessage
    from portal.aftersales.cancellations import order_cancel_after_payment
    from portal.aftersales.common import RefundInput
    from portal.aftersales.models import Refund
    from portal.orders.gateway import PaymentGateway
    from portal.orders.models import PaymentCancel

    operator_user = User.objects.get(username="operator")
    warm = _placed_orders(WARM_REFUNDS, sandbox, api_id)
    orders = _placed_orders(scale["refunds"], sandbox, api_id)
    counted_orders = _placed_orders(COUNTED_REFUNDS, sandbox, api_id)
    for order in warm + orders + counted_orders:
        order_cancel_after_payment(order=order, by=operator_user, data=RefundInput(
            cash_won=order.payable_won, store_points_won=0, mileage_won=order.mileage_use_won))
    operator = client_for("operator")
    _ok(operator.post("/console/refunds/", {"selection": list(
        Refund.objects.filter(order__in=warm).values_list("pk", flat=True)), "confirm": "1"}, follow=True))
    ids = list(Refund.objects.filter(order__in=orders).values_list("pk", flat=True))
    gateway_ms, provider_ms, calls = [0.0], [0.0], [0]
    real_cancel, real_request = PaymentGateway.cancel, requests.Session.request

    def timed_cancel(self, **kwargs):  # the gateway's own time, kept apart from the portal's
        started = time.perf_counter()
        try:
            return real_cancel(self, **kwargs)
        finally:
            gateway_ms[0] += (time.perf_counter() - started) * 1000

    def timed_request(self, *args, **kwargs):  # the wait for the provider's answer, kept apart likewise
        response = real_request(self, *args, **kwargs)
        provider_ms[0] += response.elapsed.total_seconds() * 1000
        calls[0] += 1
        return response

    PaymentGateway.cancel, requests.Session.request = timed_cancel, timed_request
    page = max(PAGE_SIZES)  # an operator selects at most one page of 환불관리 at a time
    # each page's bulk and its floor timed one after the other, so that both meet the machine as it is at that moment
    portal_ms = floor_ms = 0.0
    try:
        for start in range(0, len(ids), page):
            chunk = ids[start:start + page]
            gateway_before, provider_before = gateway_ms[0], provider_ms[0]
            started = time.perf_counter()
            _ok(operator.post("/console/refunds/", {"selection": chunk, "confirm": "1"}, follow=True))
            portal_ms += ((time.perf_counter() - started) * 1000 - (gateway_ms[0] - gateway_before)
                          - (provider_ms[0] - provider_before))
            floor_ms += _refund_row_floor(chunk)  # timed as the portal was: no statement log on either side
    finally:
        PaymentGateway.cancel, requests.Session.request = real_cancel, real_request
    # the portal's rows only: the floor writes its own beside them, keyed and labelled "bench"
    sent = OutboxMessage.objects.filter(order__in=orders, kind="cancel", status="sent").exclude(
        idempotency_key__startswith="bench").count()
    cancels = PaymentCancel.objects.filter(payment__order__in=orders, status="done").exclude(label="bench").count()
    per_refund, floor = portal_ms / len(ids), floor_ms / len(ids)
    row(f"환불관리 bulk 환불완료 of {len(ids)} with the gateway cancels (portal ms per refund, the provider's answer and "
        f"the gateway apart) vs the refund's bare row updates", round(per_refund, 2), round(floor, 2),
        round(per_refund / floor, 2), f"{len(ids)} provider calls and {len(ids)} gateway cancels, none twice; ≤ 2×",
        sent == calls[0] == len(ids) and cancels == len(ids) and per_refund <= 2 * floor)
    from bench.queries import counted

    # counted on a bulk of its own: the statement log (every statement's text kept) is not part of the timed run
    counted_ids = list(Refund.objects.filter(order__in=counted_orders).values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        _ok(operator.post("/console/refunds/", {"selection": counted_ids, "confirm": "1"}, follow=True))
    count = counted(queries.captured_queries)
    row(f"환불관리 bulk 환불완료 of {len(counted_ids)}: queries per refund, the provider call's sending included "
        f"(TEST gateway +{count.gateway / len(counted_ids):.1f}, BEGIN/COMMIT/SAVEPOINT "
        f"+{count.control / len(counted_ids):.1f} apart)",
        round(count.statements / len(counted_ids), 1), "-", "-", "reported", True, unit="queries")


def _refund_row_floor(ids) -> float:
    """The floor of a refund's 환불완료: the rows it writes, written bare — the refund and its order locked, the cancel
    row and its state-change rows, the payment's status, the mileage given back on the transaction, the refund
    marked, the provider call's outbox row; the call claimed by its sender (its lease: attempts and next attempt);
    and the provider's answer recorded (its event, the transaction's state and change row, the settlement lines, the
    outbox row sent) — in the same four transactions (before the gateway, after it, the claim, the answer), with no
    rule, no read, no gateway and no provider; total ms."""
    from django.db import transaction

    from mileage.models import (
        MileageEvent,
        MileageStateChange,
        MileageTransaction,
        OutboxMessage,
        SettlementLine,
    )
    from portal.aftersales.models import Refund
    from portal.orders.models import Order, Payment, PaymentCancel, PaymentStateChange

    started = time.perf_counter()
    for pk in ids:
        stamp = time.perf_counter_ns()
        with transaction.atomic():
            refund = Refund.objects.select_for_update().get(pk=pk)
            Order.objects.select_for_update(no_key=True).filter(pk=refund.order_id).first()
            payment = Payment.objects.select_for_update().filter(order_id=refund.order_id).first()
            cancel = PaymentCancel.objects.create(payment=payment, label="bench", amount_won=1,
                                                  idempotency_key=f"bench-floor:{pk}:{stamp}")
            PaymentStateChange.objects.create(payment=payment, cancel=cancel, from_status="", to_status="pending")
        with transaction.atomic():
            Refund.objects.select_for_update().get(pk=pk)
            PaymentCancel.objects.filter(pk=cancel.pk).update(status="done")
            PaymentStateChange.objects.create(payment=payment, cancel=cancel, from_status="pending", to_status="done")
            Payment.objects.filter(pk=payment.pk).update(status=payment.status)
            PaymentStateChange.objects.create(payment=payment, from_status=payment.status, to_status=payment.status)
            MileageTransaction.objects.filter(order_id=refund.order_id).update(returned_won=1,
                                                                               updated_at=timezone.now())
            Refund.objects.filter(pk=pk).update(status="done")
            message = OutboxMessage.objects.create(kind="cancel", order_id=refund.order_id, payload={},
                                                   idempotency_key=f"bench-floor:{pk}:{stamp}",
                                                   wire_key=f"bench:{stamp}", next_attempt_at=timezone.now())
        with transaction.atomic():
            OutboxMessage.objects.filter(pk=message.pk).update(status="pending", attempts=1,
                                                               next_attempt_at=timezone.now())
        with transaction.atomic():
            OutboxMessage.objects.select_for_update().get(pk=message.pk)
            mileage = MileageTransaction.objects.select_for_update().get(order_id=refund.order_id)
            event = MileageEvent.objects.create(transaction=mileage, kind="cancel", idempotency_key=f"bench:{stamp}")
            now = timezone.now()
            SettlementLine.objects.bulk_create([
                SettlementLine(order_id=refund.order_id, event=event, kind=kind, amount_won=-1, month="2000-01",
                               occurred_at=now) for kind in ("USE", "EARN")])
            MileageTransaction.objects.filter(pk=mileage.pk).update(state=mileage.state)
            MileageStateChange.objects.create(transaction=mileage, from_state=mileage.state, to_state=mileage.state,
                                              event=event)
            OutboxMessage.objects.filter(pk=message.pk).update(status="sent", sent_at=now)
    return (time.perf_counter() - started) * 1000


def _load(url_for, seconds: float, clients: int, session_setup=None):
    latencies, stop = [], time.monotonic() + seconds
    lock = threading.Lock()

    def worker(n):
        session = requests.Session()
        if session_setup:
            session_setup(session)
        local = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            url_for(session, n)
            local.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.95) - 1] if latencies else 0


def _prepared_buyer(base, sandbox, api_id, with_mileage: bool):
    """A browser with 샘플상품 1 in its cart and the order form open (and, with mileage, the popup's choice of 500원
    seeded at the provider and returned to the done page with the session's nonce); untimed."""
    from urllib.parse import parse_qsl, urlsplit

    session = requests.Session()
    session.get(base + "/shop/p/1/")
    session.post(base + "/shop/cart/add/", data={"code": "1", "quantity": "1"},
                 headers={"X-CSRFToken": session.cookies.get("csrftoken", "")})
    form = session.get(base + "/shop/order/", timeout=10)
    if with_mileage:
        opened = session.get(base + "/mileage/popup/open/", allow_redirects=False, timeout=10)
        done_url = dict(parse_qsl(urlsplit(opened.headers["Location"]).query))["doneUrl"]
        nonce = dict(parse_qsl(urlsplit(done_url).query))["n"]
        params = sandbox.control("popup", api_id=api_id, login_id=sandbox.new_buyer(15_500), use=500,
                                 max_use=5_000, done_url=done_url)
        assert session.get(base + "/mileage/popup/done/", params={**params, "n": nonce},
                           timeout=10).status_code == 200
    token = form.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    return session, token, with_mileage


def placements(base, sandbox, api_id, count: int) -> dict:
    """Order placements through the real order form, `count` with mileage and `count` without, interleaved so that
    both meet the same machine. Untimed: the cart, the form and the popup (`_prepared_buyer`). Timed: the POST of
    결제하기 alone, with the provider's own time of that placement's calls read from the mileage ledger. As many
    buyers at once as the server has workers: a placement queued behind another would otherwise be charged that
    one's time too, the provider's wait included, which is not this placement's own time."""
    from mileage.models import MileageEvent

    prepared = [_prepared_buyer(base, sandbox, api_id, with_mileage=n % 2 == 0) for n in range(2 * count)]
    timings, lock = {True: [], False: []}, threading.Lock()

    def place(batch):
        for session, token, with_mileage in batch:
            started = time.perf_counter()
            response = session.post(base + "/shop/order/", timeout=20, allow_redirects=False, data={
                "csrfmiddlewaretoken": token, "orderer_name": "벤치", "orderer_phone": "010-0000-0000",
                "same_as_orderer": "on", "address": "서울 동작구 신대방2동", "payment_method": "card",
                "card_number": "4111", "guest_password": "bench123", "privacy_agreed": "on"})
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 302, response.status_code
            with lock:
                timings[with_mileage].append((response.headers["Location"].rstrip("/").split("/")[-2], elapsed))

    threads = [threading.Thread(target=place, args=(prepared[n::SERVER_WORKERS],)) for n in range(SERVER_WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = [number for number, _ms in timings[True]]
    provider = dict(MileageEvent.objects.filter(kind="approve", transaction__order__number__in=numbers)
                    .values_list("transaction__order__number", "provider_ms"))
    return {"mileage_ms": [ms for _n, ms in timings[True]],
            "provider_ms": [provider.get(n) or 0 for n, _ms in timings[True]],
            "bare_ms": [ms for _n, ms in timings[False]]}


def _client_buyer(sandbox, api_id) -> Client:
    """A buyer (Django's test client, in this process) with 샘플상품 1 in the cart, the order form opened and the
    popup's choice of 500원 of mileage returned to the done page; untimed."""
    from urllib.parse import parse_qsl, urlsplit

    buyer = Client()
    buyer.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    buyer.get("/shop/order/")
    opened = buyer.get("/mileage/popup/open/")
    done_url = dict(parse_qsl(urlsplit(opened["Location"]).query))["doneUrl"]
    nonce = dict(parse_qsl(urlsplit(done_url).query))["n"]
    params = sandbox.control("popup", api_id=api_id, login_id=sandbox.new_buyer(15_500), use=500, max_use=5_000,
                             done_url=done_url)
    assert buyer.get("/mileage/popup/done/", {**params, "n": nonce}).status_code == 200
    return buyer


PLACEMENT_FORM = {"orderer_name": "벤치", "orderer_phone": "010-0000-0000", "same_as_orderer": "on",
                  "address": "서울 동작구 신대방2동", "payment_method": "card", "guest_password": "bench123",
                  "privacy_agreed": "on"}


def gateway_placements(scale, sandbox, api_id):
    """A card order with 500원 of mileage placed through the order form on the TEST gateway and through PortOne (the
    adapter and the real SDK against the PortOne emulator over HTTP), interleaved so that both meet the same machine.
    Timed: the portal's requests of 결제하기 (PortOne: the window's pre-registration and the confirming post; the
    buyer's authentication in the window is the buyer's time) less the gateway's (TEST: its charge and verify, its
    own books; PortOne: the SDK's calls, each an HTTP exchange with PortOne) and the provider's time of that
    placement's calls."""
    from mileage.models import MileageEvent
    from portal.orders.gateway import PaymentGateway
    from portal.orders.portone import PortOneGateway
    from tests.portone_process import API_SECRET, STORE_ID, WEBHOOK_SECRET, PortOneEmulator

    gateway_ms = [0.0]

    def timed(fn):
        def call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                gateway_ms[0] += (time.perf_counter() - started) * 1000
        return call

    emulator = PortOneEmulator.start()
    portone = {"PAYMENT_GATEWAY": "portone", "PORTONE_API_SECRET": API_SECRET, "PORTONE_STORE_ID": STORE_ID,
               "PORTONE_CHANNEL_KEY": "channel-key-bench", "PORTONE_WEBHOOK_SECRET": WEBHOOK_SECRET,
               "PORTONE_API_BASE": emulator.base_url}
    patched = {(PaymentGateway, "charge"): PaymentGateway.charge, (PaymentGateway, "verify"): PaymentGateway.verify,
               (PortOneGateway, "_call"): PortOneGateway._call}
    for (owner, name), fn in patched.items():
        setattr(owner, name, timed(fn))
    times, numbers = {"test": [], "portone": []}, {"test": [], "portone": []}

    def place(kind):
        buyer = _client_buyer(sandbox, api_id)
        if kind == "portone":
            with override_settings(**portone):
                gateway_ms[0], started = 0.0, time.perf_counter()
                opened = buyer.post("/shop/order/payment-window/", PLACEMENT_FORM)
                spent = time.perf_counter() - started
                request = opened.json()["request"]
                token = emulator.authenticate(request["paymentId"], request["totalAmount"]).json()["paymentToken"]
                started = time.perf_counter()
                response = buyer.post("/shop/order/", {**PLACEMENT_FORM, "payment_id": request["paymentId"],
                                                       "payment_token": token})
                spent += time.perf_counter() - started
        else:
            gateway_ms[0], started = 0.0, time.perf_counter()
            response = buyer.post("/shop/order/", {**PLACEMENT_FORM, "card_number": "4111"})
            spent = time.perf_counter() - started
        assert response.status_code == 302, response.content.decode()[:500]
        times[kind].append(spent * 1000 - gateway_ms[0])
        numbers[kind].append(response["Location"].rstrip("/").split("/")[-2])

    try:
        emulator.control("delay", seconds=0)
        place("test"), place("portone")  # warm: the SDK's client, the templates
        times, numbers = {"test": [], "portone": []}, {"test": [], "portone": []}
        for _ in range(scale["placements"] // 2):
            place("test")
            place("portone")
    finally:
        for (owner, name), fn in patched.items():
            setattr(owner, name, fn)
        emulator.stop()
    provider = dict(MileageEvent.objects.filter(kind="approve", transaction__order__number__in=[
        n for kind in numbers.values() for n in kind]).values_list("transaction__order__number", "provider_ms"))
    portal = {kind: statistics.median(ms - (provider.get(n) or 0) for ms, n in zip(times[kind], numbers[kind],
                                                                                    strict=True))
              for kind in times}
    ratio = portal["portone"] / portal["test"]
    row("주문 placement with mileage through PortOne (emulator) vs the TEST gateway: portal ms per order (gateway and "
        "provider apart)", round(portal["portone"], 1), round(portal["test"], 1), round(ratio, 2),
        "≤ 1.5× the TEST gateway's", ratio <= 1.5)


def storefront(scale, sandbox, api_id):
    from tests.sandbox_process import free_port, stop_process

    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "MILEAGE_API_BASE": sandbox.base_url,
           "MILEAGE_SERVICE_BASE": sandbox.base_url}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "bench.wsgi", "-w", str(SERVER_WORKERS), "-b",
                               f"127.0.0.1:{port}", "--log-level", "error"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(base + "/bench/plain/p/1/", timeout=10)
                break
            except requests.RequestException:  # not listening yet, or still starting on a busy machine
                time.sleep(0.1)

        def fetch(path):
            def get(session, n):
                assert session.get(base + path, timeout=10).status_code == 200
            return get

        secs = scale["load_seconds"]
        ours = _load(fetch("/shop/p/1/"), secs, 8)
        plain = _load(fetch("/bench/plain/p/1/"), secs, 8)
        ratio = ours[0] / plain[0]
        row("쇼핑몰 product page req/s (p95 ms)", f"{ours[0]:.0f} ({ours[1]:.0f})", f"{plain[0]:.0f} ({plain[1]:.0f})",
            round(ratio, 2), "≥ 70% of the plain view", ratio >= 0.7, unit="req/s")

        placed = placements(base, sandbox, api_id, scale["placements"])
        portal_ms = statistics.median(m - p for m, p in zip(placed["mileage_ms"], placed["provider_ms"], strict=True))
        bare_ms = statistics.median(placed["bare_ms"])
        ratio = portal_ms / bare_ms
        row("주문 placement with mileage: portal ms per order (provider ms apart)",
            f"{portal_ms:.1f} (+{statistics.median(placed['provider_ms']):.1f} provider)", f"{bare_ms:.1f}",
            round(ratio, 2), "≤ 1.5× the placement without", ratio <= 1.5)
    finally:
        stop_process(server, timeout=30)


SECTIONS = ("data", "order_queue", "settlement", "exclusions", "receipts", "bulk_work", "sandbox")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="small", choices=SCALES)
    parser.add_argument("--skip-sandbox", action="store_true")
    parser.add_argument("--memory-only", action="store_true")
    parser.add_argument("--only", choices=SECTIONS, action="append",
                        help="measure only this section (repeatable; 'data' generates the data and measures nothing)")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    month = timezone.now().astimezone(BUSINESS_TZ).strftime("%Y-%m")
    from portal.demo.shop import load_demo

    load_demo()
    if args.memory_only:
        data.ensure(TINY, month)  # a table a page deep: the same rows on screen, far fewer behind them
        print(json.dumps({"memory": memory()}))
        return
    data.ensure(scale, month)
    only = set(args.only or SECTIONS) - {"data"}
    if "sandbox" in only and args.skip_sandbox:
        only.remove("sandbox")
    for name in SECTIONS:
        if name in only:
            {"order_queue": lambda: order_queue(scale), "settlement": lambda: settlement(scale, month),
             "exclusions": lambda: exclusions(scale), "receipts": lambda: receipts(scale),
             "bulk_work": lambda: bulk_work(scale), "sandbox": lambda: with_sandbox(scale)}[name]()
    print(json.dumps({"rows": rows, "memory": memory() if args.only is None else {}}))


if __name__ == "__main__":
    main()
