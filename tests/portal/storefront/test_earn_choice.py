"""E9 end to end: a member chooses 적립금 for an order; the approval carries an earn base of 0, the order and its
statements say so, and 구매확정 grants the 적립금 through the ledger."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from mileage.models import MileageSettings
from portal.aftersales.fulfilment import order_confirm_purchase, order_deliver, order_ship
from portal.orders.models import Order, OrderStatus

from .conftest import GUEST, MEMBER, choose_mileage

pytestmark = pytest.mark.sandbox



@pytest.fixture
def choosing_shop(shop):
    settings = MileageSettings.load()
    settings.store_points_rate_x10, settings.buyer_chooses_earn = 20, True
    settings.save()
    return shop


def test_member_chooses_store_points_and_gets_them_at_purchase_confirmation(client, choosing_shop):
    shop = choosing_shop
    buyer = shop.new_buyer(15_500)
    hong = User.objects.get(username="hong")
    client.force_login(hong)
    assert 'id="store-points">100원' in client.get("/shop/p/1/").content.decode()  # 적립금 : 100원
    client.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    form = client.get("/shop/order/").content.decode()
    assert 'name="earn_choice"' in form and "쇼핑몰 적립금 적립" in form
    choose_mileage(client, shop, buyer, 500)
    # the amounts with 쇼핑몰 적립금 chosen: the mileage row shows the use and no mileage to be earned
    quoted = client.post("/shop/order/quote/", {**MEMBER, "payment_method": "card", "earn_choice": "store",
                                                "store_points": "0"}).content.decode()
    mileage_row = quoted.split('id="quote"', 1)[1].split("</tr>")[3]
    assert "네이버 마일리지 사용 -500원" in mileage_row and "적립 예정" not in mileage_row
    assert "적립 예정 90원" in quoted.split('id="store-points-earn"', 1)[1].split("</tr>")[0]
    response = client.post("/shop/order/", {**MEMBER, "payment_method": "card", "card_number": "4111111111111111",
                                            "earn_choice": "store", "store_points": "0"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    order = Order.objects.get()
    assert (order.earn_choice, order.store_points_earn_won) == ("store", 90)
    # the provider was asked to grant nothing: earn base 0, use 500원
    tx = shop.balance(buyer)["transactions"][0]
    assert (tx["amount"], tx["earn"], tx["use"]) == (0, 0, 500)
    assert order.mileage.expected_earn_won == 0
    # the operator's 주문상세정보 says how the order earns, as the buyer's statement and the receipt do
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    row = detail.split('id="earn-choice-row"', 1)[1].split("</tr>", 1)[0]
    assert "쇼핑몰 적립금" in row and "90원 예정" in row
    # and My Page lists it with the 적립금 to come
    mypage = client.get("/shop/mypage/").content.decode()
    assert "적립금 90원 예정" in mypage.split(order.number, 1)[1].split("</tr>", 1)[0]
    # 구매확정 grants 90원 of 적립금, once
    points_before = hong.member.store_points_won
    order_ship(order=order, invoice_no="123", carrier="cj", by=None)
    order_deliver(order=Order.objects.get(pk=order.pk), by=None)
    order_confirm_purchase(order=Order.objects.get(pk=order.pk), by=None)
    hong.member.refresh_from_db()
    assert hong.member.store_points_won == points_before + 90
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED
    mypage = client.get("/shop/mypage/").content.decode()
    assert "적립금 90원" in mypage.split(order.number, 1)[1].split("</tr>", 1)[0]


def test_guest_sees_no_choice_and_earns_naver_mileage(choosing_shop):
    shop = choosing_shop
    buyer = shop.new_buyer(15_500)
    guest = Client()
    guest.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    assert 'name="earn_choice"' not in guest.get("/shop/order/").content.decode()
    choose_mileage(guest, shop, buyer, 500)
    assert guest.post("/shop/order/", {**GUEST, "earn_choice": "store"}).status_code == 302
    order = Order.objects.get()
    assert (order.earn_choice, order.store_points_earn_won, order.mileage.expected_earn_won) == ("naver", 0, 45)


def test_the_disclosure_states_the_rule_live(client, choosing_shop):
    page = client.get("/earn-base/").content.decode()
    assert "쇼핑몰 적립금: 같은 적립대상금액의 2%" in page and 'id="rule-earn-choice"' in page
    settings = MileageSettings.load()
    settings.buyer_chooses_earn = False
    settings.save()
    page = client.get("/earn-base/").content.decode()
    assert 'id="rule-earn-choice"' not in page and 'id="rule-earn-both"' in page


def test_a_store_points_order_partly_returned_never_earns_naver_mileage_and_states_what_was_granted(
        client, choosing_shop):
    from portal.aftersales.common import RefundInput
    from portal.aftersales.refunds import refund_complete
    from portal.aftersales.returns import return_complete, return_mark_shipping, return_request

    shop = choosing_shop
    buyer = shop.new_buyer(15_500)
    hong = User.objects.get(username="hong")
    client.force_login(hong)
    # given a member's card order of two sample products (10,000원) earning 적립금 (2%), 1,000원 of mileage used
    client.post("/shop/cart/add/", {"code": "1", "quantity": "2"})
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, 1_000)
    response = client.post("/shop/order/", {**MEMBER, "payment_method": "card", "card_number": "4111111111111111",
                                            "earn_choice": "store", "store_points": "0"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    order = Order.objects.get()
    assert order.store_points_earn_won == 180  # (10,000 − 1,000) × 2%
    order_ship(order=order, invoice_no="123", carrier="cj", by=None)
    order_deliver(order=Order.objects.get(pk=order.pk), by=None)
    # when one of the two comes back with 500원 of the mileage, and 환불완료
    line = order.lines.get()
    request = return_request(order=Order.objects.get(pk=order.pk), lines={line.pk: 1}, by=None, reason="",
                             data=RefundInput(cash_won=4_500, store_points_won=0, mileage_won=500))
    return_mark_shipping(request=request, by=None)
    refund = return_complete(request=request, by=None)
    assert refund_complete(refund=refund, by=None)
    # then the re-approval asks the provider for no Naver earn (the order earns the shop's 적립금, never both)
    last = shop.balance(buyer)["transactions"][-1]
    assert (last["amount"], last["earn"], last["use"]) == (0, 0, 500)
    # and 구매확정 grants the 적립금 of what remains, which the statement then shows
    points_before = hong.member.store_points_won
    order_confirm_purchase(order=Order.objects.get(pk=order.pk), by=None)
    hong.member.refresh_from_db()
    granted = hong.member.store_points_won - points_before
    assert granted == 90  # (5,000 − 500) × 2%
    order = Order.objects.get(pk=order.pk)
    assert order.store_points_granted_won == granted
    from django.template.loader import render_to_string
    statement = render_to_string("storefront/includes/statement.html", {"order": order})
    assert 'id="store-points-granted">90원' in statement and "180원" not in statement
