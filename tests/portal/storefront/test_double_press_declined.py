"""결제하기 pressed twice while the first press is still being approved or charged (주문처리중): the second waits
for the first's outcome. A declined first press is said as such (nothing charged, pay again) — never shown as a
placed order; the complete page of an order that was not placed says so too."""

import pytest
from django.test import Client

from portal.orders.checkout import CheckoutError
from portal.orders.models import OrderStatus
from portal.storefront import views
from tests.factories import ProductFactory, order_for

from .conftest import GUEST

pytestmark = pytest.mark.sandbox


class _Clock:
    """time for views._settled: each wait lets the first press finish (declined), as it would meanwhile."""

    def __init__(self, order):
        self.order, self.now = order, 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        type(self.order).objects.filter(pk=self.order.pk).update(status=OrderStatus.PAYMENT_FAILED)


def test_a_second_press_while_the_first_is_declined_is_told_the_payment_did_not_go_through(shop, monkeypatch):
    # given the first press's order still 주문처리중 (its card being declined meanwhile)
    first = order_for([(ProductFactory(), 1)])
    type(first).objects.filter(pk=first.pk).update(status=OrderStatus.PLACING)

    def the_form_was_posted_before(**kwargs):
        raise CheckoutError("이 주문서로 이미 주문하셨습니다.", placed=type(first).objects.get(pk=first.pk))

    monkeypatch.setattr(views, "order_place", the_form_was_posted_before)
    monkeypatch.setattr(views, "time", _Clock(first))
    buyer = Client()
    buyer.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    buyer.get("/shop/order/")
    # when the second press arrives
    response = buyer.post("/shop/order/", {**GUEST, "payment_method": "card", "card_number": "4111111111111111"})
    # then it is told the payment did not go through, and the cart is still there to pay again
    page = response.content.decode()
    assert response.status_code == 400 and "이 주문서의 결제는 이루어지지 않았습니다" in page
    assert "샘플상품 1" in page


def test_the_complete_page_of_an_order_not_placed_says_so(shop):
    buyer = Client()
    order = order_for([(ProductFactory(), 1)])
    session = buyer.session
    session[views.ORDERS_KEY] = [order.number]
    session.save()
    for status, marker, thanks in ((OrderStatus.PLACING, 'id="order-placing"', False),
                                   (OrderStatus.PAYMENT_FAILED, 'id="order-failed"', False),
                                   (OrderStatus.AWAITING_DEPOSIT, "정상적으로 처리되었습니다", True)):
        type(order).objects.filter(pk=order.pk).update(status=status)
        page = buyer.get(f"/shop/order/{order.number}/complete/").content.decode()
        assert marker in page and ("정상적으로 처리되었습니다" in page) == thanks, status
