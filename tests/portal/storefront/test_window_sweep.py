"""An abandoned PortOne order (issue 23): the payment confirmed at PortOne but never recorded, the process gone.
The scheduler's sweep reads it back at PortOne, cancels it whole there, marks the order 결제실패 and undoes the
mileage approval; two sweeps at once cancel once (threaded, PostgreSQL). Against the provider sandbox and the PortOne
emulator, over HTTP."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from mileage.services.transactions import mileage_approval_ask
from portal.orders import checkout
from portal.orders.gateway import get_gateway
from portal.orders.models import Order, OrderStatus, PaymentStatus
from portal.orders.portone import PortOneGateway
from tests.portone_process import authorised

from .conftest import buyer_with_choice

pytestmark = pytest.mark.sandbox

on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="row locks need PostgreSQL")


def confirmed_but_not_recorded(shop, portone):
    """A buyer used 500원 of mileage (approved at the provider) and PortOne confirmed the card payment; the process
    died before recording it: the order is still 주문처리중."""
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, product="1")
    lines = checkout.cart_lines({"1": 1})
    done = checkout.verified_choice(browser.session["mileage_choice"], max_use_won=5_000)
    priced = checkout.quote(lines, mileage_use_won=500, rate_x10=10)
    payment_id, token = authorised(portone, priced.payable_won)
    data = {k: "" for k in checkout.Buyer.__dataclass_fields__} | {"payment_method": "card",
                                                                     "payment_id": payment_id}
    order, order_lines, mileage = checkout._record(lines, checkout.Buyer(**data), None, priced, done, "",
                                                   timezone.now(), True)
    assert mileage_approval_ask(order=order, mileage=mileage, lines=order_lines).result.tx_id
    assert get_gateway().charge(method="card", amount_won=priced.payable_won, payment_id=payment_id,
                                payment_token=token).approved
    assert shop.balance(buyer)["available"] == 15_000
    return buyer, order, payment_id


def later(minutes: int):
    return timezone.now() + timedelta(minutes=minutes)


def test_a_payment_confirmed_but_never_recorded_is_cancelled_at_portone_and_the_order_fails(shop, portone):
    buyer, order, payment_id = confirmed_but_not_recorded(shop, portone)
    assert checkout.orders_abandon_stuck() == 0  # it may still be under way
    assert checkout.orders_abandon_stuck(now=later(settings.PAYMENT_WINDOW_ABANDON_MINUTES - 1)) == 0
    assert checkout.orders_abandon_stuck(now=later(settings.PAYMENT_WINDOW_ABANDON_MINUTES + 1)) == 1

    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.PAYMENT_FAILED and order.payments.get().status == PaymentStatus.FAILED
    at_pg = get_gateway().client.get_payment(payment_id=payment_id)
    assert type(at_pg).__name__ == "CancelledPayment" and at_pg.amount.cancelled == order.payable_won
    assert (shop.balance(buyer)["available"], shop.balance(buyer)["held"]) == (15_500, 0)
    # PortOne's webhook for it finds the payment (no 404) and changes nothing
    signed = portone.webhook(payment_id, "Transaction.Cancelled")
    answer = Client().post("/payments/webhooks/portone/", signed["body"], content_type="application/json",
                           headers=signed["headers"])
    assert answer.status_code == 200
    assert checkout.orders_abandon_stuck(now=later(60)) == 0  # swept once


def test_an_authenticated_window_never_confirmed_is_left_to_lapse_and_the_order_fails(shop, portone):
    lines = checkout.cart_lines({"1": 1})
    priced = checkout.quote(lines)
    payment_id, _token = authorised(portone, priced.payable_won)
    data = {k: "" for k in checkout.Buyer.__dataclass_fields__} | {"payment_method": "card",
                                                                     "payment_id": payment_id}
    order, _lines, _mileage = checkout._record(lines, checkout.Buyer(**data), None, priced, None, "",
                                               timezone.now(), True)
    portone.control("delay", seconds=0)
    assert checkout.orders_abandon_stuck(now=later(settings.PAYMENT_WINDOW_ABANDON_MINUTES + 1)) == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAYMENT_FAILED
    assert type(get_gateway().client.get_payment(payment_id=payment_id)).__name__ == "ReadyPayment"


def test_portone_down_leaves_the_order_to_the_next_sweep(shop, portone, settings):
    _buyer, order, payment_id = confirmed_but_not_recorded(shop, portone)
    settings.PORTONE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    assert checkout.orders_abandon_stuck(now=later(30)) == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACING


@on_postgres
def test_two_nodes_sweeping_at_once_cancel_at_portone_once(shop, portone, monkeypatch):
    buyer, order, payment_id = confirmed_but_not_recorded(shop, portone)
    asked, release = [], PortOneGateway.release
    monkeypatch.setattr(PortOneGateway, "release", lambda self, **kw: asked.append(kw) or release(self, **kw))
    portone.control("delay", seconds=0.3)  # each PortOne answer takes a while: the sweeps overlap
    start, counts = threading.Barrier(2), []

    def sweep():
        try:
            start.wait()
            counts.append(checkout.orders_abandon_stuck(now=later(30)))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    portone.control("delay", seconds=0)
    assert sorted(counts) == [0, 1] and len(asked) == 1  # one node read it back and cancelled it
    at_pg = get_gateway().client.get_payment(payment_id=payment_id)
    assert type(at_pg).__name__ == "CancelledPayment" and len(at_pg.cancellations) == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAYMENT_FAILED
    assert shop.balance(buyer)["available"] == 15_500
