"""Requests no screen can serve get the shop's page in the reader's language, saying what happened, and change
nothing: control characters typed into any form, a made-up ad-click token, an unknown address, a console page a
buyer opens, a button's address opened in the address bar. Records holding control characters from before still
export."""

import io

import pytest
from django.contrib.auth.models import User
from django.test import Client
from openpyxl import load_workbook

from portal.orders.models import Order
from tests.factories import ProductFactory, order_for
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    load_demo()
    return Client()


@pytest.fixture
def operator(shop):
    client = Client()
    client.force_login(User.objects.get(username="operator"))
    return client


@pytest.mark.parametrize("text", ["\x01홍길동", "홍길동\x7f", "국민\x1b은행"])
def test_a_control_character_in_a_form_is_refused_before_anything_is_stored(shop, text):
    shop.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    response = shop.post("/shop/order/", {"orderer_name": text, "orderer_phone": "010-1234-5678",
                                          "payment_method": "bank", "depositor_name": text},
                         HTTP_REFERER="http://testserver/shop/order/")
    page = response.content.decode()
    assert response.status_code == 400 and "보이지 않는 문자(제어 문자)" in page and "아무것도 저장되지 않았습니다" in page
    assert 'href="http://testserver/shop/order/"' in page and "마일리지 샵" in page  # the way back, in the frame
    assert not Order.objects.exists()
    shop.cookies["django_language"] = "en"
    english = shop.post("/shop/order/", {"orderer_name": text})
    assert english.status_code == 400 and "control characters" in english.content.decode()
    # tab, line feed and carriage return are text (an address typed on two lines)
    assert shop.post("/shop/cart/add/", {"code": "1", "quantity": "1", "note": "a\tb\r\nc"}).status_code == 302


@pytest.mark.parametrize("token", [
    "ct=zzzzzzzzzzzzzzzzzzzz|ci=1|tr=sa|ba=1|aa=1|et=1|hk=" + "0" * 40,
    "ct=1|ci=1|tr=sa|ba=1|aa=1|et=-zzzzzzzzzzzzz|hk=" + "0" * 40,
    "ct=|ci=|tr=|ba=x|aa=|et=|hk=" + "0" * 40,
])
def test_a_made_up_ad_click_token_is_ignored_and_the_page_served(shop, token):
    for path in ("/", "/shop/", "/accounts/login/", "/shop/guest/"):
        response = shop.get(path, {"NaPm": token})
        assert response.status_code == 200, path
    assert "mileage_inflow" not in shop.session


def test_an_unknown_address_a_forbidden_console_and_a_buttons_address_read_as_the_shops_pages(shop):
    missing = shop.get("/shop/p/no-such-product/")
    assert missing.status_code == 404 and "페이지를 찾을 수 없습니다" in missing.content.decode()
    assert '<html lang="ko">' in missing.content.decode()
    shop.cookies["django_language"] = "en"
    assert "Page not found" in shop.get("/shop/p/no-such-product/").content.decode()
    del shop.cookies["django_language"]
    shop.force_login(User.objects.get(username="hong"))
    forbidden = shop.get("/console/")
    assert forbidden.status_code == 403 and "권한이 없습니다" in forbidden.content.decode()
    button = shop.get("/shop/cart/add/")
    assert button.status_code == 405 and button["Allow"] == "POST"
    assert "버튼으로만 사용할 수 있습니다" in button.content.decode() and "아무것도 처리되지 않았습니다" in button.content.decode()


def test_records_holding_control_characters_from_before_still_export(operator):
    # given an order and an access record stored before typed text refused control characters
    order = order_for([(ProductFactory(price_won=5_000), 1)])
    Order.objects.filter(pk=order.pk).update(orderer_name="\x01홍길동\x02")
    # when the operator exports the orders as XLSX
    response = operator.post("/console/orders/?export=xlsx", {"reason": "월말 점검"})
    # then the workbook is written, the name without them
    assert response.status_code == 200, response.content[:300]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert any(order.number in row for row in rows)
    assert not any("\x01" in str(cell) for row in rows for cell in row if cell)
