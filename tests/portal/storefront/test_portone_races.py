"""PortOne's webhook and the browser's return racing (issue 23), threaded on PostgreSQL, against the provider
sandbox and the PortOne emulator over HTTP: the return (checkout confirm) and the webhook for the same payment at
once pay the order exactly once, approve the mileage once, one payment row; identical webhooks at once are stored
and applied once; the same window's payment posted twice at once places one order."""

import pytest
from django.conf import settings
from django.test import Client

from mileage.models import MileageTransaction, TransactionState
from portal.orders.gateway import get_gateway
from portal.orders.models import Order, OrderStatus, Payment, PaymentStatus, PortOneWebhook
from tests.portone_process import paid_in_window
from tests.support.concurrency import at_once

from .conftest import GUEST, buyer_with_choice

pytestmark = pytest.mark.sandbox
on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="two requests at once need PostgreSQL (make test runs it there)")

CARD = {**GUEST, "payment_method": "card", "card_number": ""}
WEBHOOK_URL = "/payments/webhooks/portone/"


def deliver(signed: dict):
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed["headers"].items()}
    return Client().post(WEBHOOK_URL, data=signed["body"], content_type="application/json", **headers)


def window_paid_with_mileage(shop, portone):
    """A buyer chose 500원 of mileage and authenticated the card payment in PortOne's window."""
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500)
    payment_id, token = paid_in_window(portone, browser, CARD)
    return buyer, browser, payment_id, token


def assert_paid_once(shop, buyer, payment_id: str) -> Order:
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID
    payment = Payment.objects.get()
    assert (payment.gateway_tid, payment.status, payment.amount_won) == (payment_id, PaymentStatus.APPROVED,
                                                                          order.payable_won)
    mileage = MileageTransaction.objects.get(order=order)
    assert mileage.state in (TransactionState.APPROVED, TransactionState.STATED) and mileage.use_won == 500
    assert shop.balance(buyer)["available"] == 15_000  # the mileage used once
    at_pg = get_gateway().client.get_payment(payment_id=payment_id)
    assert type(at_pg).__name__ == "PaidPayment" and at_pg.amount.paid == order.payable_won
    return order


@on_postgres
def test_the_browser_return_and_the_webhook_at_once_pay_the_order_once(shop, portone):
    buyer, browser, payment_id, token = window_paid_with_mileage(shop, portone)
    signed = portone.webhook(payment_id, "Transaction.Paid")
    portone.control("delay", seconds=0.2)  # every PortOne answer takes a while: the two overlap

    def browser_return():
        return browser.post("/shop/order/", {**CARD, "payment_id": payment_id, "payment_token": token}).status_code

    def webhooks():
        # PortOne sends it again while the shop answers 4xx (the payment not recorded yet), as it does
        answers = []
        for _ in range(200):
            answers.append(deliver(signed).status_code)
            if answers[-1] == 200:
                return answers
        return answers

    placed, answers = at_once(browser_return, webhooks)
    portone.control("delay", seconds=0)
    assert placed == 302 and answers[-1] == 200 and set(answers) <= {404, 200}
    order = assert_paid_once(shop, buyer, payment_id)
    assert PortOneWebhook.objects.get().payment_id == payment_id
    # a late copy of the same webhook changes nothing
    assert deliver(signed).status_code == 200
    assert PortOneWebhook.objects.count() == 1 and Order.objects.get(pk=order.pk).status == OrderStatus.PAID


@on_postgres
def test_identical_webhooks_at_once_are_stored_and_applied_once(shop, portone):
    buyer, browser, payment_id, token = window_paid_with_mileage(shop, portone)
    assert browser.post("/shop/order/", {**CARD, "payment_id": payment_id, "payment_token": token}).status_code == 302
    signed = portone.webhook(payment_id, "Transaction.Paid")
    answers = at_once(*[lambda: deliver(signed) for _ in range(4)])
    assert [a.status_code for a in answers] == [200] * 4
    assert sorted(a.content.decode() for a in answers) == ["already received"] * 3 + ["ok"]
    stored = PortOneWebhook.objects.get()
    assert (stored.payment_id, stored.outcome) == (payment_id, "already recorded")
    assert_paid_once(shop, buyer, payment_id)


@on_postgres
def test_the_same_windows_payment_posted_twice_at_once_places_one_order(shop, portone):
    buyer, browser, payment_id, token = window_paid_with_mileage(shop, portone)
    twin = Client()
    twin.cookies = browser.cookies  # the same browser session: a double click, two requests
    portone.control("delay", seconds=0.2)
    data = {**CARD, "payment_id": payment_id, "payment_token": token}
    answers = at_once(lambda: browser.post("/shop/order/", data), lambda: twin.post("/shop/order/", data))
    portone.control("delay", seconds=0)
    order = assert_paid_once(shop, buyer, payment_id)
    # both presses end on the one order: the second is stopped by the first unique key it meets (the choice's
    # reqTxId, the window's payment id) and shown the order that took it, never asked to pay again
    assert [a.status_code for a in answers] == [302, 302], [a.content.decode()[-800:] for a in answers]
    assert {a["Location"] for a in answers} == {f"/shop/order/{order.number}/complete/"}
    # and the session, whichever request saved it last, holds the order and no cart or spent choice
    session = browser.session
    assert order.number in session["my_orders"] and not session.get("cart") and "mileage_choice" not in session
    assert browser.get(f"/shop/order/{order.number}/complete/").status_code == 200
