"""One earn-state label for every statement (issue 24): My Page's row, the order detail, the PDF receipt and the
console's 주문상세정보 all say 적립 예정 / 적립 완료 (date) / 적립 취소 / 적립 없음 from the mileage transaction."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from mileage.models import MileageSettings
from portal.aftersales.fulfilment import order_confirm_purchase, order_deliver, order_ship
from portal.orders.earn import earn_status
from portal.orders.models import Order, OrderStatus
from portal.receipts.render import receipt_html

from .conftest import MEMBER, choose_mileage

pytestmark = pytest.mark.sandbox



def _member_order(shop, client: Client, *, method: str, extra: dict | None = None) -> Order:
    buyer = shop.new_buyer(15_500)
    client.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, 500)
    data = {**MEMBER, "payment_method": method, "store_points": "0", **(extra or {})}
    if method != "bank":
        data["card_number"] = "4111111111111111"
    response = client.post("/shop/order/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    return Order.objects.order_by("-id").first()


def _statements(client: Client, order: Order) -> dict[str, str]:
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    mypage = client.get("/shop/mypage/").content.decode()
    row = next(r for r in mypage.split("<tr>") if order.number in r)
    order = Order.objects.select_related("mileage").get(pk=order.pk)
    console = operator.get(f"/console/orders/{order.number}/").content.decode()
    return {"mypage": row, "detail": client.get(f"/shop/orders/{order.number}/").content.decode(),
            "receipt": receipt_html(order),
            # 주문상세정보's statement (its ledger below lists each provider call's amounts, as it should)
            "console": console.split('id="mileage-summary"', 1)[1].split("</tr>", 1)[0]}


def test_a_confirmed_order_says_what_it_earned_and_from_when_it_is_usable_on_every_statement(shop):
    # given hong's card order (500원 used, 1% of 4,500원) shipped, delivered and 구매확정
    client = Client()
    client.force_login(User.objects.get(username="hong"))
    order = _member_order(shop, client, method="card")
    order_ship(order=order, invoice_no="123", carrier="cj", by=None)
    order_deliver(order=Order.objects.get(pk=order.pk), by=None)
    order_confirm_purchase(order=Order.objects.get(pk=order.pk), by=None)
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.CONFIRMED
    # then My Page, the detail, the receipt and the console say the same: granted at payment, 45원, pending in the
    # 적립예정 잔액 until it is usable 15 days after the payment (E7)
    paid_on = timezone.localdate(order.paid_at)
    expected = f"적립 예정 ({paid_on + timedelta(days=15):%Y-%m-%d}부터 사용 가능) 45원"
    for where, html in _statements(client, order).items():
        # the console reads "-500원 사용 · 1% 적립" and states the earn beside it
        assert (f"1% {expected}" if where != "console" else "-500원 사용 · 1% 적립 <small>(") in html, where
        assert expected in html, where
        assert "적립 완료" not in html.split('id="self-service"')[0], where


def test_a_cancelled_order_never_says_expected(shop):
    # given a bank-transfer order (1% 적립 예정 45원) that the member cancels before paying
    client = Client()
    client.force_login(User.objects.get(username="hong"))
    order = _member_order(shop, client, method="bank")
    assert earn_status(Order.objects.get(pk=order.pk)).text == "1% 적립 예정 45원"
    assert client.post(f"/shop/orders/{order.number}/cancel/", {"confirm": "on"}).status_code == 302
    # then every statement says 적립 취소, the receipt too, and none shows the earn it will never get
    for where, html in _statements(client, order).items():
        assert "적립 취소" in html, where
        assert "적립 예정 45원" not in html and "45원" not in html.replace("4,500원", ""), where


def test_a_cancelled_orders_mileage_use_says_whether_it_came_back(shop):
    # given a card order using 500원 of mileage, cancelled before shipping: the provider is told at 환불완료 (L3)
    client = Client()
    client.force_login(User.objects.get(username="hong"))
    order = _member_order(shop, client, method="card")
    assert "반환" not in client.get(f"/shop/orders/{order.number}/").content.decode()
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    assert operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "4500", "store_points_won": "0", "mileage_won": "500", "shipping_deduction_won": "0",
        "method": "card"}).status_code == 302
    # then the buyer's statement and receipt say the 500원 is still to come back
    statements = _statements(client, order)
    for where in ("detail", "receipt"):
        assert "-500원" in statements[where] and "(반환 예정)" in statements[where], where
        assert "반환 완료" not in statements[where], where
    # when the operator presses 환불완료 (the provider cancels the use)
    from portal.aftersales.models import Refund

    refund = Refund.objects.get(order=order)
    assert operator.post("/console/refunds/", {"selection": [refund.pk], "confirm": "1"}).status_code == 302
    order = Order.objects.select_related("mileage").get(pk=order.pk)
    assert order.mileage.state == "cancelled"
    # then they say it came back
    statements = _statements(client, order)
    for where in ("detail", "receipt"):
        assert "(반환 완료)" in statements[where] and "반환 예정" not in statements[where], where


def test_a_card_order_cancelled_before_shipping_says_cancelled_while_its_refund_waits(shop):
    # given a paid card order, 배송전 취소 by the operator: the provider is not told before 환불완료 (L3)
    client = Client()
    client.force_login(User.objects.get(username="hong"))
    order = _member_order(shop, client, method="card")
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    assert operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "4500", "store_points_won": "0", "mileage_won": "500", "shipping_deduction_won": "0",
        "method": "card"}).status_code == 302
    # then the buyer's statements already say 적립 취소 예정 (the receipt too), not the earn granted at payment
    for where, html in _statements(client, order).items():
        assert "적립 취소 예정" in html and "적립 완료" not in html, where


def test_an_order_earning_store_points_says_no_naver_earn(shop):
    # given the shop lets buyers choose, and hong's order earns the shop's 적립금 instead
    settings = MileageSettings.load()
    settings.store_points_rate_x10, settings.buyer_chooses_earn = 20, True
    settings.save()
    client = Client()
    client.force_login(User.objects.get(username="hong"))
    order = _member_order(shop, client, method="card", extra={"earn_choice": "store"})
    assert order.earn_choice == "store"
    # then no statement reads "1% 적립 예정 0원": each says 적립 없음
    for where, html in _statements(client, order).items():
        assert "적립 없음" in html, where
        assert "적립 예정 0원" not in html and "적립 완료" not in html, where
