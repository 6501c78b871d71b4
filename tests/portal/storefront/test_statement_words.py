"""What a buyer reads on a statement says only what is so, in the reader's language: a zero amount is written as the
money format writes it (0 won in English, never a Korean "0원" in an English page), no earn method is claimed for an
order that earns nothing, the order e-mail follows the language of the order form, and a stale form is answered
by the shop's own page."""

import pytest
from django.core import mail
from django.test import Client

from mileage.models import MileageSettings
from portal.orders.models import Order

from .conftest import GUEST

pytestmark = pytest.mark.sandbox


def _english_browser() -> Client:
    browser = Client()
    assert browser.post("/i18n/setlang/", {"language": "en", "next": "/shop/"}).status_code == 302
    return browser


def test_an_english_statement_writes_every_zero_as_won_and_claims_no_earn(shop):
    # given a shop that lets buyers choose how they earn, and a guest reading English who orders without 적립/사용
    settings = MileageSettings.load()
    settings.store_points_rate_x10, settings.buyer_chooses_earn = 20, True
    settings.save()
    browser = _english_browser()
    browser.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    form = browser.get("/shop/order/").content.decode()
    placed = browser.post("/shop/order/", GUEST)
    assert placed.status_code == 302, placed.content.decode()[-2000:]
    complete = browser.get(placed["Location"]).content.decode()
    order = Order.objects.get()
    assert order.mileage_use_won == 0 and order.store_points_earn_won == 0
    # then the order form and the statement write the zero discount, points and mileage as 0 won, never "0원"
    for where, page in (("order form", form), ("order complete", complete)):
        assert "0원" not in page, where
        assert "0 won" in page, where
    statement = complete.split('id="statement"', 1)[1].split("</table>", 1)[0]
    assert statement.count("0 won") >= 3
    # and no earn method is named for an order that earns no Naver Mileage and no shop points
    assert 'id="earn-choice-line"' not in statement


def test_the_order_email_follows_the_language_the_buyer_ordered_in(shop):
    browser = _english_browser()
    browser.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    browser.get("/shop/order/")
    assert browser.post("/shop/order/", GUEST).status_code == 302
    order = Order.objects.get()
    [email] = mail.outbox
    assert email.subject == f"[Mileage Shop] Order {order.number} has been received"
    assert "Order number: " + order.number in email.body and "0 won" in email.body
    # a bank transfer's e-mail says where to pay, whom as, and by when
    account = order.payments.get().bank_account
    assert account and f"Bank account: {account}" in email.body
    assert f"Depositor: {GUEST['depositor_name']}" in email.body and "Deposit deadline: " in email.body
    words = email.body.replace(GUEST["orderer_name"], "").replace(account, "")
    for line in order.lines.all():  # the buyer's name and the product's are the shop's data, not its words
        words = words.replace(line.product_name, "")
    assert not any("\uac00" <= ch <= "\ud7a3" for ch in words), email.body
    # a Korean buyer's e-mail stays Korean
    korean = Client()
    korean.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    korean.get("/shop/order/")
    assert korean.post("/shop/order/", GUEST).status_code == 302
    assert "주문번호" in mail.outbox[1].subject and "상품 합계금액: 5,000원" in mail.outbox[1].body


@pytest.mark.parametrize("language, words", [
    ("ko", ("요청을 처리하지 못했습니다", "입력한 내용은 저장되지 않았고")),
    ("en", ("Your request could not be processed", "Nothing you entered was saved")),
])
def test_a_stale_order_form_gets_the_shops_page_and_places_nothing(shop, language, words):
    # given a buyer whose order form's security token is gone (the page was open too long, the cookie blocked)
    browser = Client(enforce_csrf_checks=True)
    if language == "en":
        browser.cookies["django_language"] = "en"
    browser.get("/shop/p/1/")
    browser.post("/shop/cart/add/", {"code": "1", "quantity": "1"})  # refused alike: no token
    response = browser.post("/shop/order/", GUEST, HTTP_REFERER="http://testserver/shop/order/")
    page = response.content.decode()
    # then the shop's own page says so in the reader's language, with the way back, and nothing is placed
    assert response.status_code == 403
    assert all(word in page for word in words), page[-2000:]
    assert 'href="http://testserver/shop/order/"' in page and "CSRF verification failed" not in page
    assert 'id="content"' in page  # the shop's frame, not Django's bare page
    assert Order.objects.count() == 0
    # and a way back to another site is never offered
    away = browser.post("/shop/order/", GUEST, HTTP_REFERER="https://evil.example/phish").content.decode()
    assert "evil.example" not in away


def test_the_test_gateway_is_named_in_the_readers_language(shop):
    # given a card order paid through the TEST gateway by a buyer reading English
    browser = _english_browser()
    browser.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    browser.get("/shop/order/")
    placed = browser.post("/shop/order/", {**GUEST, "payment_method": "card", "card_number": "4111111111111111"})
    assert placed.status_code == 302, placed.content.decode()[-2000:]
    order = Order.objects.get()
    # then the gateway keeps its recorded name, and the buyer's pages and receipt name it in English
    assert order.payments.get().gateway == "TEST-PG (테스트 결제)"
    complete = browser.get(placed["Location"]).content.decode()
    assert "TEST-PG (test payment)" in complete and "테스트 결제" not in complete
    from django.utils import translation

    from portal.receipts.render import receipt_html

    with translation.override("en"):
        assert "TEST-PG (test payment)" in receipt_html(order)
    with translation.override("ko"):
        assert "TEST-PG (테스트 결제)" in receipt_html(order)
