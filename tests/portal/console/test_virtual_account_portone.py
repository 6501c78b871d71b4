"""가상계좌 through PortOne (issue 23), the real `portone-server-sdk` against the PortOne emulator over HTTP: the
buyer has the account issued in the window, the server reads it back (bank, number, holder, deadline) and records
the order 입금전; the deposit's signed `Transaction.Paid` webhook confirms it without an operator (stated sent), once
however often it comes; past the deadline the account is closed at PortOne and the order cancelled; a deposit
webhook and the expiry sweep at the same moment have one outcome (threaded, PostgreSQL)."""

import threading
from datetime import datetime, timedelta

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client

from mileage.models import OutboxMessage
from mileage.policy.constants import BUSINESS_TZ
from portal.aftersales.cancellations import orders_expire_unpaid
from portal.orders.gateway import get_gateway
from portal.orders.models import Order, OrderStatus, PaymentStatus, PortOneWebhook
from portal.orders.portone import PortOneGateway
from tests.portal.storefront.conftest import GUEST, choose_mileage
from tests.portone_process import window_opened

from .test_scenarios import kinds

pytestmark = pytest.mark.sandbox

VBANK_FORM = {**GUEST, "payment_method": "vbank", "depositor_name": ""}
WEBHOOK_URL = "/payments/webhooks/portone/"
on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="row locks need PostgreSQL")


def deliver(signed: dict):
    return Client().post(WEBHOOK_URL, signed["body"], content_type="application/json", headers=signed["headers"])


def issued_in_window(shop, portone, *, use=500, form=VBANK_FORM) -> tuple[Order, str, str]:
    """A guest orders sample 1 by 가상계좌 with `use` won of mileage: 결제하기 opens the window, the buyer picks
    KB국민은행 there and the account is issued; the form is then posted with the window's paymentId (no token)."""
    buyer = shop.new_buyer(15_500)
    client = Client()
    client.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, use)
    request = window_opened(client, form)
    assert request["payMethod"] == "VIRTUAL_ACCOUNT"
    due = request["virtualAccount"]["accountExpiry"]["dueDate"]
    answer = requests.post(f"{portone.base_url}/window/payments/{request['paymentId']}", timeout=5, json={
        "totalAmount": request["totalAmount"], "currency": "KRW", "orderName": request["orderName"],
        "payMethod": "VIRTUAL_ACCOUNT", "dueDate": due, "bank": "KOOKMIN"})
    assert answer.status_code == 200 and "paymentToken" not in answer.json(), answer.text
    response = client.post("/shop/order/", {**form, "payment_id": request["paymentId"]})
    assert response.status_code == 302, response.content.decode()[-2000:]
    return Order.objects.order_by("-id").first(), buyer, request["paymentId"]


def at_portone(payment_id: str):
    return get_gateway().client.get_payment(payment_id=payment_id)


def test_the_account_issued_in_the_window_is_read_back_and_the_order_waits_for_its_deposit(shop, portone):
    order, buyer, payment_id = issued_in_window(shop, portone)
    payment = order.payments.get()
    issued = at_portone(payment_id)
    assert type(issued).__name__ == "VirtualAccountIssuedPayment"
    assert order.status == OrderStatus.AWAITING_DEPOSIT and payment.status == PaymentStatus.WAITING
    assert (payment.gateway, payment.gateway_tid) == ("PortOne", payment_id)
    assert (payment.vbank_bank, payment.vbank_number, payment.vbank_holder) == (
        "KB국민은행", issued.method.account_number, "에뮬레이터상점")
    expires = datetime.fromisoformat(issued.method.expired_at.replace("Z", "+00:00"))
    assert payment.vbank_due_at == expires == order.deposit_deadline
    assert timedelta(days=15) - timedelta(minutes=1) < order.deposit_deadline - order.placed_at <= timedelta(days=15)
    assert shop.balance(buyer)["available"] == 15_000 and [k for k, _ in kinds(order)] == ["approve"]


def test_the_deposit_webhook_confirms_the_order_once(shop, portone):
    order, buyer, payment_id = issued_in_window(shop, portone)
    signed = portone.control(f"payments/{payment_id}/deposit")
    assert type(at_portone(payment_id)).__name__ == "PaidPayment"
    assert deliver(signed).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payments.get().status == PaymentStatus.APPROVED
    assert [k for k, _ in kinds(order)] == ["approve", "stated"]
    assert PortOneWebhook.objects.get().outcome == "deposit confirmed"

    assert deliver(signed).status_code == 200  # the same webhook again: stored once, nothing applied
    again = portone.webhook(payment_id, "Transaction.Paid")  # PortOne's retry under a new id
    assert deliver(again).status_code == 200
    assert PortOneWebhook.objects.count() == 2
    assert PortOneWebhook.objects.exclude(outcome="deposit confirmed").get().outcome.startswith("already recorded")
    assert OutboxMessage.objects.filter(order=order, kind="stated").count() == 1
    assert order.status_changes.filter(to_status=OrderStatus.PAID).count() == 1
    assert orders_expire_unpaid(now=order.deposit_deadline + timedelta(days=1)) == 0


def test_a_paid_webhook_before_any_deposit_changes_nothing(shop, portone):
    order, _buyer, payment_id = issued_in_window(shop, portone)
    assert deliver(portone.webhook(payment_id, "Transaction.Paid")).status_code == 200  # signed, but not paid
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DEPOSIT
    assert PortOneWebhook.objects.get().outcome == "not paid at the gateway"


def test_past_its_deadline_the_account_is_closed_at_portone_and_the_order_cancelled(shop, portone):
    order, buyer, payment_id = issued_in_window(shop, portone)
    assert orders_expire_unpaid(now=order.deposit_deadline - timedelta(seconds=1)) == 0
    assert orders_expire_unpaid(now=order.deposit_deadline) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.payments.get().status == PaymentStatus.CANCELLED
    assert type(at_portone(payment_id)).__name__ == "CancelledPayment"
    late = requests.post(f"{portone.base_url}/_test/payments/{payment_id}/deposit", json={}, timeout=5)
    assert late.status_code == 409  # closed: the bank takes no deposit any more
    # the account's deadline came before the provider's own 15 days: the portal's cancel gives the mileage back now
    assert kinds(order)[-1] == ("auto_cancel", "1000")
    assert shop.balance(buyer)["available"] == 15_500


def test_portone_down_at_the_deadline_leaves_the_order_to_the_next_sweep(shop, portone, settings):
    order, _buyer, _payment_id = issued_in_window(shop, portone)
    settings.PORTONE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    assert orders_expire_unpaid(now=order.deposit_deadline) == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_DEPOSIT


def test_a_deposit_that_came_first_is_confirmed_by_the_sweep_not_cancelled(shop, portone):
    order, _buyer, payment_id = issued_in_window(shop, portone)
    portone.control(f"payments/{payment_id}/deposit")  # its webhook lost
    assert orders_expire_unpaid(now=order.deposit_deadline) == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and type(at_portone(payment_id)).__name__ == "PaidPayment"
    assert [k for k, _ in kinds(order)] == ["approve", "stated"]


def test_the_screens_show_portones_account(shop, portone, operator):
    order, _buyer, _payment_id = issued_in_window(shop, portone)
    payment = order.payments.get()
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    due = payment.vbank_due_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")
    for shown in ("KB국민은행", payment.vbank_number, "에뮬레이터상점", due):
        assert shown in page


@on_postgres
def test_a_deposit_webhook_and_the_expiry_sweep_at_once_have_one_outcome(shop, portone, monkeypatch):
    order, buyer, payment_id = issued_in_window(shop, portone)
    signed = portone.control(f"payments/{payment_id}/deposit")  # deposited just at the deadline
    asked, close = [], PortOneGateway.close_virtual_account
    monkeypatch.setattr(PortOneGateway, "close_virtual_account",
                        lambda self, **kw: asked.append(kw) or close(self, **kw))
    portone.control("delay", seconds=0.3)  # each PortOne answer takes a while: the two overlap
    start, answers, swept = threading.Barrier(2), [], []

    def webhook():
        try:
            start.wait()
            answers.append(deliver(signed).status_code)
        finally:
            connection.close()

    def sweep():
        try:
            start.wait()
            swept.append(orders_expire_unpaid(now=order.deposit_deadline + timedelta(seconds=1)))
        finally:
            connection.close()

    threads = [threading.Thread(target=webhook), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    portone.control("delay", seconds=0)
    order.refresh_from_db()
    assert answers == [200] and swept == [0]
    assert order.status == OrderStatus.PAID and order.payments.get().status == PaymentStatus.APPROVED
    assert order.status_changes.filter(to_status=OrderStatus.PAID).count() == 1
    assert not order.status_changes.filter(to_status=OrderStatus.CANCELLED).exists()
    assert OutboxMessage.objects.filter(order=order, kind="stated").count() == 1
    assert type(at_portone(payment_id)).__name__ == "PaidPayment"  # never closed nor cancelled
    assert len(asked) <= 1


def test_a_cancel_before_the_deposit_closes_the_account_and_one_after_it_is_refused(shop, portone):
    from portal.aftersales.cancellations import order_cancel_before_payment
    from portal.aftersales.common import ActionError

    order, buyer, payment_id = issued_in_window(shop, portone)
    guest = Client()
    guest.post("/shop/guest/", {"number": order.number, "password": "abcd1234"})
    assert 'id="vbank-number"' in guest.get(f"/shop/orders/{order.number}/").content.decode()
    order_cancel_before_payment(order=order, by=None)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and type(at_portone(payment_id)).__name__ == "CancelledPayment"
    assert shop.balance(buyer)["available"] == 15_500
    # the buyer's page no longer offers the closed account to deposit into, and says why
    page = guest.get(f"/shop/orders/{order.number}/").content.decode()
    assert 'id="vbank-number"' not in page and 'id="virtual-account-closed"' in page

    paid, _buyer, paid_id = issued_in_window(shop, portone)
    portone.control(f"payments/{paid_id}/deposit")  # deposited, its webhook not here yet
    with pytest.raises(ActionError, match="이미 입금되었습니다"):
        order_cancel_before_payment(order=paid, by=None)
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.AWAITING_DEPOSIT


def test_a_window_that_issued_no_account_places_no_order(shop, portone):
    client = Client()
    client.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    client.get("/shop/order/")
    request = window_opened(client, VBANK_FORM)
    # the page was altered to authenticate a card payment instead: READY, no account at PortOne
    assert portone.authenticate(request["paymentId"], request["totalAmount"]).status_code == 200
    response = client.post("/shop/order/", {**VBANK_FORM, "payment_id": request["paymentId"]})
    assert response.status_code == 400
    assert "가상계좌를 발급하지 않았습니다" in response.content.decode()
    order = Order.objects.get()
    assert order.status == OrderStatus.PAYMENT_FAILED and order.payments.get().status == PaymentStatus.FAILED
    assert type(at_portone(request["paymentId"])).__name__ == "ReadyPayment"  # nothing charged, nothing issued


def test_the_operators_deposit_confirmation_waits_for_portone_to_see_the_deposit(shop, portone, operator):
    """입금확인 pressed on a PortOne 가상계좌 before any deposit would say the money is in when it is not: refused
    with the reason, the order 입금전; once PortOne has the deposit, the same button confirms it."""
    order, _buyer, payment_id = issued_in_window(shop, portone)
    page = operator.post(f"/console/orders/{order.number}/action/confirm_deposit/", follow=True).content.decode()
    assert "결제대행사에 아직 입금되지 않은 가상계좌입니다." in page
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DEPOSIT and [k for k, _ in kinds(order)] == ["approve"]

    portone.control(f"payments/{payment_id}/deposit")  # paid at PortOne; its webhook never reached the shop
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and [k for k, _ in kinds(order)] == ["approve", "stated"]


def test_portone_down_at_the_operators_deposit_confirmation_changes_nothing(shop, portone, operator, settings):
    order, _buyer, _payment_id = issued_in_window(shop, portone)
    settings.PORTONE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    page = operator.post(f"/console/orders/{order.number}/action/confirm_deposit/", follow=True).content.decode()
    assert "결제대행사가 응답하지 않아 입금을 확인하지 못했습니다." in page
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DEPOSIT


def test_the_cash_receipt_asked_with_a_virtual_account_is_issued_at_its_deposit(shop, portone):
    form = {**VBANK_FORM, "cash_receipt_kind": "personal", "cash_receipt_identifier": "010-1234-5678"}
    order, _buyer, payment_id = issued_in_window(shop, portone, form=form)
    receipt = order.payments.get().cash_receipts.get()
    assert receipt.status == "requested" and receipt.approval_number == ""  # nothing asked before the cash is in
    assert deliver(portone.control(f"payments/{payment_id}/deposit")).status_code == 200
    receipt.refresh_from_db()
    assert receipt.status == "issued" and receipt.approval_number, receipt.failure_reason
    assert receipt.amount_won == order.payable_won
