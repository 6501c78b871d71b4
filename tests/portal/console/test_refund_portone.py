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
from tests.portone_process import authorised

from .test_payment_cancel import press_refund_complete, refund_by

pytestmark = pytest.mark.sandbox


def payable(code: str) -> int:
    price = Product.objects.get(code=code).price_won
    return price + (settings.SHOP_SHIPPING_FEE_WON if price < settings.SHOP_FREE_SHIPPING_FROM_WON else 0)


def order_through_the_window(client: Client, payment_id: str, token: str):
    return client.post("/shop/order/", {**GUEST, "payment_method": "card", "card_number": "",
                                        "payment_id": payment_id, "payment_token": token})


def test_a_card_order_paid_through_portone_is_refunded_at_the_pg_once(shop, operator, portone):
    client = Client()
    client.post("/shop/cart/add/", {"code": "4", "quantity": "1"})
    client.get("/shop/order/")
    amount = payable("4")
    payment_id, token = authorised(portone, amount)
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


def test_a_window_payment_for_another_amount_leaves_the_order_unpaid_and_says_so(shop, portone):
    client = Client()
    client.post("/shop/cart/add/", {"code": "4", "quantity": "1"})
    client.get("/shop/order/")
    payment_id, token = authorised(portone, 100, pre_register=False)  # the browser changed the amount
    response = order_through_the_window(client, payment_id, token)
    assert response.status_code == 400  # the form again, with the refusal
    assert "결제 정보(금액·상태)가 주문과 다릅니다" in response.content.decode()
    order = Order.objects.order_by("-id").first()
    assert order.status == OrderStatus.PAYMENT_FAILED
    assert type(get_gateway().client.get_payment(payment_id=payment_id)).__name__ == "ReadyPayment"
