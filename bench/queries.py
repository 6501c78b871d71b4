"""The query budgets (issue 27): statements per placement with mileage (1 and 20 order lines) and per 환불완료 of a
card refund with mileage, counted, never timed. Used by bench/measure.py (both databases) and by
tests/portal/test_query_budgets.py, which fails above the budget.

A *statement* here is one the portal runs to read or write its rows. Counted apart and shown beside it: the TEST
gateway's own book (`GatewayEntry`, the charge and the cancel as the payment company books them: it stands for the
gateway's database, which a real gateway keeps on its side, as the bench leaves the gateway's time out of the
portal's), and the transactions' own statements (BEGIN, COMMIT, SAVEPOINT, RELEASE SAVEPOINT), which touch no row
and follow the transactions' shape (ADR 0005 and 0012 fix it: three transactions around the provider's approval and
the gateway's charge, three around the gateway's cancel).
"""

from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

BUDGET = 20  # statements per placement with mileage (whatever its lines) and per 환불완료
CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")
GATEWAY_BOOK = '"orders_gatewayentry"'
GUEST = {"orderer_name": "홍길동", "orderer_phone": "010-1234-5678", "orderer_email": "hong@example.com",
         "same_as_orderer": "on", "address": "서울 동작구 신대방2동", "payment_method": "card",
         "card_number": "4111111111111111", "guest_password": "abcd1234", "privacy_agreed": "on"}


@dataclass(frozen=True)
class Count:
    statements: int  # the portal's reads and writes of rows
    gateway: int  # the TEST gateway's own book
    control: int  # BEGIN / COMMIT / SAVEPOINT / RELEASE
    sql: tuple[str, ...]

    @property
    def total(self) -> int:
        return self.statements + self.gateway + self.control

    def __str__(self) -> str:
        return f"{self.statements} (+{self.gateway} TEST gateway, +{self.control} BEGIN/COMMIT/SAVEPOINT)"


def counted(queries) -> Count:
    sql = tuple(q["sql"] for q in queries)
    control = sum(1 for s in sql if s.split(None, 1)[0].upper() in CONTROL)
    gateway = sum(1 for s in sql if s.split(None, 1)[0].upper() not in CONTROL and GATEWAY_BOOK in s)
    return Count(len(sql) - control - gateway, gateway, control, sql)


@contextmanager
def worker_calls_apart():
    """The provider calls a 환불완료 records are sent by the outbox worker after its commit, not by the request:
    held back while counting, and sent afterwards."""
    from mileage.provider import outbox
    from mileage.services.transactions import outbox_deliver

    held = []
    with mock.patch.object(outbox, "_schedule", held.append):
        yield
    for message_id in held:
        outbox_deliver(message_id)


def placement(sandbox, codes: list[str], *, use: int = 500) -> tuple[Count, str]:
    """결제하기 (the order form's POST, the whole request) of a guest's card order of one of each product in `codes`
    with `use` won of mileage chosen in the provider's popup; the cart, the form and the popup are not counted.
    Returns the count and the order's number."""
    buyer = sandbox.new_buyer(15_500)
    client = Client()
    for code in codes:
        client.post("/shop/cart/add/", {"code": code, "quantity": "1"})
    client.get("/shop/order/")
    opened = client.get("/mileage/popup/open/")
    assert opened.status_code == 302, opened.status_code
    params = sandbox.choose_in_popup(opened["Location"], buyer, use)
    assert client.get("/mileage/popup/done/", params).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/shop/order/", GUEST)
    assert response.status_code == 302, response.content.decode()[-2000:]
    return counted(queries), response["Location"].rstrip("/").split("/")[-2]


def refund_complete_of(order_number: str) -> Count:
    """배송전 취소 of a paid card order with all of its money and mileage back (untimed, uncounted), then its
    환불완료 (refund_complete: the payout reserved, the gateway's cancel, the answer recorded, the mileage cancel
    recorded for the provider), counted; the provider call is sent afterwards, by the worker."""
    from portal.aftersales.models import Refund
    from portal.aftersales.refunds import refund_complete
    from portal.orders.models import Order

    operator = User.objects.get(username="operator")
    client = Client()
    client.force_login(operator)
    order = Order.objects.get(number=order_number)
    response = client.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": str(order.payable_won), "store_points_won": "0", "mileage_won": str(order.mileage_use_won),
        "shipping_deduction_won": "0", "method": "card"})
    assert response.status_code == 302, response.status_code
    refund = Refund.objects.get(order=order)
    with worker_calls_apart(), CaptureQueriesContext(connection) as queries:
        assert refund_complete(refund=refund, by=operator) is True
    return counted(queries)


def products_for(lines: int) -> list[str]:
    """The codes of `lines` displayed products that earn mileage (none excluded); a shop with fewer (the demo shop)
    gets copies of its first one, 1,000원 each."""
    from portal.catalog.models import Product

    eligible = Product.objects.filter(is_displayed=True, mileage_exclusion__isnull=True).order_by("id")
    codes = list(eligible.values_list("code", flat=True)[:lines])
    if len(codes) < lines:
        first = eligible.first()
        Product.objects.bulk_create([Product(code=f"QB-{n:03d}", name=f"{first.name} {n}", category=first.category,
                                             price_won=1_000) for n in range(lines - len(codes))])
        codes = list(eligible.values_list("code", flat=True)[:lines])
    return codes
