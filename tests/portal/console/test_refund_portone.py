"""A card order paid through PortOne (the window's payment confirmed after the checkout, its amount read back) and
refunded: 환불완료 cancels it at the PG through the gateway interface (ADR 0012), once. Against the PortOne
emulator over HTTP with the real SDK."""

import pytest
from django.conf import settings
from django.test import Client

from portal.aftersales.models import Refund, RefundStatus
from portal.catalog.models import Product
from portal.orders.gateway import get_gateway
from portal.orders.models import Order, OrderStatus, PaymentStatus
from tests.portal.storefront.conftest import GUEST
from tests.portone_process import authorised, paid_in_window, window_opened

from .test_payment_cancel import on_postgres, press_refund_complete, refund_by

pytestmark = pytest.mark.sandbox


def payable(code: str) -> int:
    price = Product.objects.get(code=code).price_won
    return price + (settings.SHOP_SHIPPING_FEE_WON if price < settings.SHOP_FREE_SHIPPING_FROM_WON else 0)


CARD_FORM = {**GUEST, "payment_method": "card", "card_number": ""}


def order_through_the_window(client: Client, payment_id: str, token: str):
    return client.post("/shop/order/", {**CARD_FORM, "payment_id": payment_id, "payment_token": token})


def test_a_card_order_paid_through_portone_is_refunded_at_the_pg_once(shop, operator, portone):
    client = Client()
    client.post("/shop/cart/add/", {"code": "4", "quantity": "1"})
    client.get("/shop/order/")
    amount = payable("4")
    payment_id, token = paid_in_window(portone, client, CARD_FORM)
    response = order_through_the_window(client, payment_id, token)
    assert response.status_code == 302, response.content.decode()[-2000:]
    order = Order.objects.order_by("-id").first()
    payment = order.payments.get()
    assert order.status == OrderStatus.PAID and order.payable_won == amount
    assert (payment.gateway, payment.gateway_tid, payment.status) == ("PortOne", payment_id, PaymentStatus.APPROVED)
    assert type(get_gateway().client.get_payment(payment_id=payment_id)).__name__ == "PaidPayment"

    refund = refund_by(operator, order, "card", order.payable_won)
    press_refund_complete(operator, refund)
    press_refund_complete(operator, refund)  # pressed again: nothing paid twice
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.DONE
    at_pg = get_gateway().client.get_payment(payment_id=payment_id)
    assert type(at_pg).__name__ == "CancelledPayment" and at_pg.amount.cancelled == amount
    assert len(at_pg.cancellations) == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED


def test_a_window_payment_for_another_amount_or_not_this_forms_is_never_an_order(shop, portone):
    client = Client()
    client.post("/shop/cart/add/", {"code": "4", "quantity": "1"})
    client.get("/shop/order/")
    request = window_opened(client, CARD_FORM)
    assert request["totalAmount"] == payable("4") and request["currency"] == "KRW" and request["payMethod"] == "CARD"
    changed = portone.authenticate(request["paymentId"], 100)  # the browser changed the amount: the window refuses
    assert changed.status_code == 400 and "사전 등록된 결제 정보와 일치하지 않습니다" in changed.text

    payment_id, token = authorised(portone, 100, pre_register=False)  # a payment this form never opened
    response = order_through_the_window(client, payment_id, token)
    assert response.status_code == 400  # the form again, with the refusal
    assert "결제창의 결제 정보가 이 주문서와 맞지 않습니다" in response.content.decode()
    assert not Order.objects.exists()
    assert type(get_gateway().client.get_payment(payment_id=payment_id)).__name__ == "ReadyPayment"

    response = client.post("/shop/order/", CARD_FORM)  # 결제하기 without the window
    assert response.status_code == 400 and "결제창에서 결제를 마쳐 주세요" in response.content.decode()
    assert not Order.objects.exists()


def test_a_double_submit_of_the_windows_payment_places_one_order_charged_once(shop, portone):
    client = Client()
    client.post("/shop/cart/add/", {"code": "4", "quantity": "1"})
    client.get("/shop/order/")
    payment_id, token = paid_in_window(portone, client, CARD_FORM)
    session = client.session
    opened = session["payment_window"]
    assert order_through_the_window(client, payment_id, token).status_code == 302
    client.post("/shop/cart/add/", {"code": "4", "quantity": "1"})
    session = client.session
    session["payment_window"] = opened  # the second post of the same page, as if before the first one ended
    session.save()
    again = order_through_the_window(client, payment_id, token)
    # the same window's payment placed its order: the second post is shown that order, nothing more is placed
    assert again.status_code == 302 and again["Location"].endswith(f"/{Order.objects.get().number}/complete/")
    assert Order.objects.count() == 1 and Order.objects.get().status == OrderStatus.PAID
    assert get_gateway().client.get_payment(payment_id=payment_id).amount.paid == payable("4")


@on_postgres
def test_two_operators_pressing_refund_complete_at_once_cancel_the_card_once_and_both_read_it_done(
        shop, operator, portone):
    # the cancel takes the whole charge: whichever press PortOne answers second is refused (already cancelled) —
    # that answer must not leave the refund 환불전 with the card cancelled behind it
    from concurrent.futures import ThreadPoolExecutor

    from django.contrib.auth.models import User
    from django.db import connection

    from portal.aftersales.refunds import RefundNotPaid, refund_complete
    from portal.orders.models import PaymentCancel

    client = Client()
    client.post("/shop/cart/add/", {"code": "4", "quantity": "1"})
    client.get("/shop/order/")
    payment_id, token = paid_in_window(portone, client, CARD_FORM)
    assert order_through_the_window(client, payment_id, token).status_code == 302
    order = Order.objects.order_by("-id").first()
    refund = refund_by(operator, order, "card", order.payable_won)
    users = [User.objects.get(username="operator"), User.objects.get(username="admin")]

    def press(user):
        try:
            return refund_complete(refund=refund, by=user)
        except RefundNotPaid as exc:
            return exc.message
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(press, users))
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE and refund.payout_error == "", answers
    at_pg = get_gateway().client.get_payment(payment_id=payment_id)
    assert at_pg.amount.cancelled == order.payable_won and len(at_pg.cancellations) == 1
    assert list(PaymentCancel.objects.filter(payment__order=order).values_list("status", flat=True)) == ["done"]
    payment = order.payments.get()
    assert payment.status == PaymentStatus.CANCELLED
