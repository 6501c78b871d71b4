"""Finding 2: each input that answered HTTP 500 now gets a clear message and changes nothing."""

import re

import pytest
import requests
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from mileage.wire import NotANumber, parse_int
from portal.aftersales.models import Exchange, Refund, ReturnRequest
from portal.orders.models import Order, OrderLine, OrderStatus, PaymentMethod
from tests.factories import ProductFactory, order_for
from tests.support.db_state import load_demo

FIVE_THOUSAND_DIGITS = "9" * 5000


@pytest.mark.parametrize("text", ["²", "³", "١٢", "--1", "1-", "", " ", "1.5", "1e3", "0x10", FIVE_THOUSAND_DIGITS,
                                  "1\x00", "+1", "１"])
def test_parse_int_refuses_what_int_or_isdigit_would_take(text):
    with pytest.raises(NotANumber):
        parse_int(text)


def test_parse_int_bounds():
    assert parse_int(" 42 ") == 42 and parse_int("-3", min_value=-5) == -3
    with pytest.raises(NotANumber) as caught:
        parse_int("100", max_value=99)
    assert caught.value.kind == "range"
    with pytest.raises(NotANumber):
        parse_int("-1")
    with pytest.raises(NotANumber) as caught:  # digits beyond any bound: a number out of range, never converted
        parse_int(FIVE_THOUSAND_DIGITS)
    assert caught.value.kind == "range"
    assert parse_int("00000001", max_length=7) == 1  # leading zeros are no digits of the value
    with pytest.raises(NotANumber) as caught:
        parse_int("0" * 5000 + "1")
    assert caught.value.kind == "invalid"


@pytest.fixture
def catalog(db):
    load_demo()
    return Client()


@pytest.mark.parametrize(("quantity", "why"), [("--1", "수량은 숫자로 입력해 주세요"), ("²", "수량은 숫자로 입력해 주세요"),
                                             ("١", "수량은 숫자로 입력해 주세요"),
                                             # a number, only far too large: said as the range, not as no number
                                             (FIVE_THOUSAND_DIGITS, "수량은 1개에서 99개까지 주문할 수 있습니다"),
                                             ("99999999999999999999", "수량은 1개에서 99개까지 주문할 수 있습니다")])
def test_cart_add_refuses_bad_quantities(catalog, quantity, why):
    response = catalog.post("/shop/cart/add/", {"code": "1", "quantity": quantity}, follow=True)
    assert response.status_code == 200
    assert why in response.content.decode()
    assert catalog.session.get("cart", {}) == {}


def test_cart_add_with_a_nul_code_and_cart_update_with_a_superscript(catalog):
    assert catalog.post("/shop/cart/add/", {"code": "\x00", "quantity": "1"}).status_code == 400
    assert catalog.get("/shop/p/%00/").status_code == 400
    # in the reader's language: an English reader (the language cookie) reads it in English
    catalog.cookies["django_language"] = "en"
    english = catalog.get("/shop/p/%00/")
    assert english.status_code == 400 and "invisible characters (control characters)" in english.content.decode()
    assert '<html lang="en">' in english.content.decode()
    del catalog.cookies["django_language"]
    catalog.post("/shop/cart/add/", {"code": "1", "quantity": "2"})
    response = catalog.post("/shop/cart/", {"code": "1", "quantity": "²"}, follow=True)
    assert "수량은 숫자로 입력해 주세요" in response.content.decode()
    assert catalog.session["cart"] == {"1": 2}
    response = catalog.post("/shop/cart/", {"code": "zzz", "quantity": "3"}, follow=True)
    assert "장바구니에 없는 상품입니다." in response.content.decode()
    assert catalog.session["cart"] == {"1": 2}


@pytest.fixture
def operator(db):
    load_demo()
    client = Client()
    client.force_login(User.objects.get(username="operator"))
    return client


def _order(status: str) -> Order:
    order = order_for([(ProductFactory(price_won=5_000), 2)], method=PaymentMethod.CARD)
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()
    return order


@pytest.mark.parametrize("field", ["qty_abc", "qty_LINE"])
def test_return_form_refuses_bad_line_quantities(operator, field):
    order = _order(OrderStatus.DELIVERED)
    line = order.lines.get()
    data = {"cash_won": "0", "store_points_won": "0", "mileage_won": "0", "shipping_deduction_won": "0",
            "method": "cash", field.replace("LINE", str(line.pk)): "²"}
    response = operator.post(f"/console/orders/{order.number}/return/", data)
    assert response.status_code == 400
    text = response.content.decode()
    assert "수량은 숫자로 입력해 주세요" in text or "반품할 상품과 수량을 선택해 주세요" in text
    assert not ReturnRequest.objects.exists()
    too_many = operator.post(f"/console/orders/{order.number}/return/", {**data, f"qty_{line.pk}": "3"})
    assert too_many.status_code == 400 and not ReturnRequest.objects.exists()


@pytest.mark.parametrize("new_quantity", ["1" + "0" * 20, "²", "-1", FIVE_THOUSAND_DIGITS])
def test_exchange_refuses_bad_new_quantities(operator, new_quantity):
    order = _order(OrderStatus.DELIVERED)
    line = order.lines.get()
    other = ProductFactory(price_won=30_000)
    data = {f"qty_{line.pk}": "1", f"new_{other.code}": new_quantity, "mileage_returned_won": "0"}
    assert operator.get(f"/console/orders/{order.number}/exchange/", data).status_code == 200
    response = operator.post(f"/console/orders/{order.number}/exchange/", {**data, "action": "complete"})
    assert response.status_code == 400
    assert "수량" in response.content.decode()
    assert not Exchange.objects.exists() and OrderLine.objects.count() == 1


def test_exchange_quote_for_more_than_was_bought(operator):
    order = _order(OrderStatus.DELIVERED)
    line = order.lines.get()
    other = ProductFactory(price_won=30_000)
    data = {f"qty_{line.pk}": "5", f"new_{other.code}": "1", "mileage_returned_won": "0", "qty_abc": "1"}
    page = operator.get(f"/console/orders/{order.number}/exchange/", data)
    assert page.status_code == 200 and "2개" in page.content.decode()
    response = operator.post(f"/console/orders/{order.number}/exchange/", {**data, "action": "complete"})
    assert response.status_code == 400 and not Exchange.objects.exists()


@pytest.mark.parametrize("message", ["abc", "", "²", FIVE_THOUSAND_DIGITS])
def test_outbox_retry_with_a_bad_message_id(operator, message):
    response = operator.post("/console/outbox/", {"message": message}, follow=True)
    assert response.status_code == 200
    assert "재전송할 항목을 선택해 주세요" in response.content.decode()


def test_queue_page_size_and_selections_with_superscripts(operator):
    assert operator.get("/console/orders/", {"per_page": "²"}).status_code == 200
    assert operator.post("/console/refunds/", {"selection": ["²", "1" * 5000]}).status_code == 302
    assert operator.post("/console/mileage/exclusions/", {"selection": ["³"]}).status_code == 302
    assert operator.get("/console/mileage/settlement/", {"month": "²⁰²⁶-1"}).status_code == 200
    for month in ("0001-01", "0001-11", "1999-12", "2026-13", "2026-1-1", "9999-12"):  # the chart reaches a year back
        page = operator.get("/console/mileage/settlement/", {"month": month})
        # this month is shown, and the page says the month asked for was not one it settles
        assert page.status_code == 200 and f"정산할 수 없는 달입니다: {month}." in page.content.decode(), month
    assert not Refund.objects.exists()


# --- the sandbox ---------------------------------------------------------------------------------------------------

@pytest.mark.sandbox
@pytest.mark.parametrize(("field", "value"), [("orderAmount", "²"), ("qty", "³"), ("amount", FIVE_THOUSAND_DIGITS)])
def test_sandbox_refuses_unicode_digits_with_2002(sandbox, merchant, field, value):
    api_id, hash_key = merchant
    data = {"format": "json", "secret": hash_key, "reqTxId": "R1", "orderNo": "X1", "orderProductName": "eA==",
            "qty": "1", "orderAmount": "5000", "amount": "4500", "mileageUseAmount": "0", "isMember": "Y",
            "isConfirmed": "Y", field: value}
    response = requests.post(f"{sandbox.base_url}/v2/partner/{api_id}/payment", data=data, timeout=5)
    assert response.status_code == 200
    assert response.json()["response"]["resultCode"] == "2002"


@pytest.mark.sandbox
def test_sandbox_popup_refuses_unicode_digits(sandbox, merchant):
    from tests.mileage.provider.helpers import client_for

    client = client_for(sandbox, merchant)
    good = client.popup_url(done_url="http://127.0.0.1:8000/done", max_use_won=5_000)
    for name, value in [("timestamp", "²"), ("maxUseAmount", "²"), ("maxUseAmount", FIVE_THOUSAND_DIGITS)]:
        url = re.sub(rf"{name}=[^&]*", f"{name}={value}", good)
        assert requests.get(url, timeout=5).status_code == 400, name
    buyer = sandbox.new_buyer(15_500)
    browser = requests.Session()
    page = browser.get(good, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    page = browser.post(page.url, data={"csrfmiddlewaretoken": token, "action": "login", "login_id": buyer,
                                        "password": "demo1234!"}, timeout=10)
    for use in ["²", FIVE_THOUSAND_DIGITS, "-²"]:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = browser.post(page.url, data={"csrfmiddlewaretoken": token, "action": "confirm", "use": use},
                              allow_redirects=False, timeout=10)
        assert answer.status_code == 400, use
        assert "사용금액은 숫자로 입력해 주세요" in answer.text
    assert sandbox.balance(buyer)["available"] == 15_500


def test_a_return_step_that_does_not_exist_changes_nothing(operator):
    from portal.aftersales.models import ReturnStatus

    order = _order(OrderStatus.DELIVERED)
    line = order.lines.get()
    operator.post(f"/console/orders/{order.number}/return/", {
        f"qty_{line.pk}": "1", "cash_won": "0", "store_points_won": "0", "mileage_won": "0",
        "shipping_deduction_won": "0", "method": "cash"})
    request = ReturnRequest.objects.get()
    operator.post(f"/console/returns/{request.pk}/shipping/")  # 반송중: the state an unknown step once completed
    for step in ("completed", "x", "refund", "Complete"):
        answer = operator.post(f"/console/returns/{request.pk}/{step}/", follow=True)
        assert answer.status_code == 200
        assert f"알 수 없는 반품 처리 단계입니다: {step}" in answer.content.decode()
    request.refresh_from_db()
    order.refresh_from_db()
    assert request.status == ReturnStatus.RETURNING and order.status == OrderStatus.RETURNING
    assert not Refund.objects.exists()


@pytest.mark.parametrize(("text", "expected"), [("14,500", 14_500), ("1,234,567", 1_234_567), ("4500", 4_500),
                                                 ("14,50,0", None), (",4500", None), ("4500,", None), ("1,2345", None)])
def test_an_amount_takes_commas_only_between_thousands(text, expected):
    from portal.parsing import StrictIntegerField

    field = StrictIntegerField()
    if expected is None:
        with pytest.raises(ValidationError):
            field.clean(text)
    else:
        assert field.clean(text) == expected
