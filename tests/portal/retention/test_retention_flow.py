"""Retention end to end: a guest's order with Naver Mileage placed through the storefront against the provider
sandbox, shipped (its delivery invoice sent to the provider), delivered and confirmed; five years later its personal
data are erased — on the order and in the invoice call the portal keeps — while the mileage ledger, the settlement
and every amount stay, and 비회원 주문조회 no longer opens it. On PostgreSQL, runs at once on several nodes erase
each order once."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client

from core.locks import lock_key
from mileage.models import OutboxMessage, SettlementLine
from portal.orders.models import Order, OrderStatus
from portal.retention.models import ERASED, Erasure
from portal.retention.services import erase_expired
from portal.retention.tasks import RETENTION_LOCK, erase_expired_locked
from tests.factories import ProductFactory, paid_order_for
from tests.portal.console.conftest import operator, place  # noqa: F401  (fixture)
from tests.portal.storefront.conftest import GUEST, shop  # noqa: F401  (fixture)

from .conftest import YEARS
from .helpers import figures

on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="advisory and row locks between concurrent runs need PostgreSQL")


@pytest.mark.sandbox
def test_a_mileage_order_five_years_on_keeps_its_ledger_and_loses_its_buyer(shop, operator, clock):  # noqa: F811
    # given a guest's card order with 500원 of mileage, shipped, delivered and confirmed
    order, _buyer = place(shop, method="card")
    operator.post(f"/console/orders/{order.number}/action/ship/", {"carrier": "cj", "invoice_no": "6541111"})
    operator.post(f"/console/orders/{order.number}/action/deliver/")
    operator.post(f"/console/orders/{order.number}/action/confirm_purchase/")
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED and order.mileage_use_won == 500
    invoice = OutboxMessage.objects.get(order=order, kind="invoice")
    assert invoice.payload["invoice"]["recipient_cph_no"] == GUEST["orderer_phone"]
    assert SettlementLine.objects.filter(order=order).exists()
    assert Client().post("/shop/guest/", {"number": order.number, "password": GUEST["guest_password"]}).status_code == 302
    before = figures()
    # when five years have passed and the job runs
    clock(5 * YEARS + 5)
    assert erase_expired().erased == [order.number]
    # then the buyer is gone from the order and from the invoice call
    order.refresh_from_db()
    assert (order.orderer_name, order.orderer_phone, order.orderer_email, order.address) == (ERASED, ERASED, "", ERASED)
    invoice.refresh_from_db()
    sent = invoice.payload["invoice"]
    assert {sent[name] for name in ("recipient_name", "recipient_cph_no", "address")} == {ERASED}
    assert (sent["invoice_no"], sent["service_company"]) == ("6541111", "CJ대한통운")
    # and the mileage ledger, the settlement and every amount are as they were
    assert figures() == before
    # and 비회원 주문조회 no longer opens it with its old password
    lookup = Client().post("/shop/guest/", {"number": order.number, "password": GUEST["guest_password"]})
    assert lookup.status_code == 400


def _old_orders(count: int) -> list[Order]:
    orders = []
    for _ in range(count):
        order = paid_order_for([(ProductFactory(price_won=5_000), 1)])
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.CONFIRMED)
        orders.append(order)
    return orders


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_runs_on_several_nodes_at_once_erase_each_order_once(clock):
    # given twenty orders past their period
    orders = _old_orders(20)
    clock(5 * YEARS + 5)
    start = threading.Barrier(4)

    def node(_):
        start.wait()
        try:
            report = erase_expired()  # without the lock: the row locks alone keep it right
            return report.erased
        finally:
            connection.close()

    # when four nodes run the erasure at the same moment
    with ThreadPoolExecutor(max_workers=4) as pool:
        erased = [number for numbers in pool.map(node, range(4)) for number in numbers]
    # then every order was erased once
    assert sorted(erased) == sorted(order.number for order in orders)
    assert Erasure.objects.count() == 20


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_does_not_start_while_another_holds_the_lock(clock):
    _old_orders(1)
    clock(5 * YEARS + 5)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key(RETENTION_LOCK)])
        assert erase_expired_locked() is None and not Erasure.objects.exists()
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key(RETENTION_LOCK)])
        assert len(erase_expired_locked().erased) == 1
    finally:
        other.close()
