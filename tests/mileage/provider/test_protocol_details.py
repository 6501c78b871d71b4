"""Protocol details a real provider checks (docs/protocol.md §1–§2): invoice masking and encoding,
orderProductName from the first eligible line, Idempotency-Key bound to the path, serviceStatus, and E4 as the
buyer sees it."""

import pytest
import requests

from mileage import wire
from mileage.provider import Invoice

from .helpers import approved, client_for

pytestmark = pytest.mark.sandbox


def _post(sandbox, merchant, path, headers=None, **fields):
    data = {"format": "json", "secret": merchant[1], **fields}
    response = requests.post(f"{sandbox.base_url}/v2/partner/{merchant[0]}/{path}", data=data, timeout=5,
                             headers=headers or {})
    return response.json()["response"]


def test_invoice_masks_and_encodes_as_the_protocol_says():
    invoice = Invoice(shipped_date="20261127", invoice_no="1234", recipient_name="홍길동", service_company="CJ대한통운",
                      address="서울 동작구 신대방2동", recipient_cph_no="010-1234-5678")
    fields = invoice.fields()
    assert wire.unb64(fields["recipientName"]) == "홍*동"
    assert wire.unb64(fields["serviceCompany"]) == "CJ대한통운"
    assert fields["recipientCphNo"] == "010-****-5678"
    assert "recipientTelNo" not in fields  # a missing number is left out, never sent empty
    # cut after the 동/읍/면/리 part: a 면's 리 is kept with it, the lot number never goes
    for address, sent in (("서울 동작구 신대방2동 395-1", "서울 동작구 신대방2동"),
                          ("강원도 홍천군 내면 창촌리 456-7", "강원도 홍천군 내면 창촌리"),
                          ("경기도 양평군 양평읍 양근리 12", "경기도 양평군 양평읍 양근리"),
                          ("충청북도 괴산군 청천면 34", "충청북도 괴산군 청천면")):
        assert wire.mask_address(address) == sent  # what the portal hands the invoice call (fulfilment)
    assert wire.mask_phone("01098765432") == "010-****-5432" and wire.mask_phone("02-123-4567") == "02-***-4567"
    assert wire.mask_name("남궁민수") == "남**수"


def test_the_provider_refuses_an_unmasked_name_or_an_empty_number(sandbox, merchant):
    client = client_for(sandbox, merchant)
    _done, _order, result = approved(sandbox, client, sandbox.new_buyer(15_500), confirmed=True)
    base = {"shippedDate": "20261127", "invoiceNo": "1", "serviceCompany": wire.b64("CJ"), "address": wire.b64("서울")}
    plain = _post(sandbox, merchant, f"delivery/{result.tx_id}/invoice", **base, recipientName=wire.b64("홍길동"))
    assert plain["resultCode"] == "2002" and "recipientName" in plain["resultMessage"]
    empty = _post(sandbox, merchant, f"delivery/{result.tx_id}/invoice", **base, recipientName=wire.b64("홍*동"),
                  recipientTelNo="")
    assert empty["resultCode"] == "2002" and "recipientTelNo" in empty["resultMessage"]
    invoice = Invoice(shipped_date="20261127", invoice_no="1", recipient_name="홍길동", service_company="CJ",
                      address="서울", recipient_cph_no="010-1234-5678")
    assert client.invoice(result.tx_id, invoice, idempotency_key="inv-1").code == "1000"


@pytest.mark.extended
def test_an_idempotency_key_is_bound_to_its_path(sandbox, merchant):
    client = client_for(sandbox, merchant)
    _done, _order, result = approved(sandbox, client, sandbox.new_buyer(15_500), confirmed=True)
    key = {"Idempotency-Key": f"{result.tx_id}:once"}
    assert _post(sandbox, merchant, f"payment/{result.tx_id}/confirmed", headers=key)["resultCode"] == "1000"
    # the same key and the same (empty) body on another path is refused, not answered with the stored answer
    replayed = _post(sandbox, merchant, f"payment/{result.tx_id}/cancel", headers=key)
    assert replayed["resultCode"] == "2006"


def test_order_product_name_is_the_first_eligible_line(db):
    from mileage.models import MileageTransaction
    from mileage.services.transactions import payment_request
    from portal.catalog.models import Category, Product
    from tests.factories import order_for

    category = Category.objects.create(name="대분류", slug="c1")
    gift = Product.objects.create(code="GIFT", name="문화상품권", price_won=10_000, category=category)
    shirt = Product.objects.create(code="S1", name="스탠다드 5부 셔츠", price_won=21_000, category=category)
    order = order_for([(gift, 1), (shirt, 1)])
    order.lines.filter(product=gift).update(is_excluded=True)
    request = payment_request(order, MileageTransaction(order=order, req_tx_id="R1"))
    assert wire.unb64(request.fields()["orderProductName"]) == "스탠다드 5부 셔츠 외 1건"


def test_a_suspended_merchant_shows_no_rate_and_no_button(client, shop):
    from .helpers import client_for as _unused  # noqa: F401

    shop.control("merchant", api_id="1TWXDZ", hash_key="aaf23a53f426561f62e71139c5f27adfd67da711", rate="1",
                 service_status="SUSPENDED")
    try:
        page = client.get("/shop/p/1/").content.decode()
        assert "네이버 마일리지 1% 적립" not in page
        client.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
        form = client.get("/shop/order/").content.decode()
        assert 'id="mileage-button"' not in form
        assert client.get("/mileage/popup/open/").status_code == 400
    finally:
        shop.control("merchant", api_id="1TWXDZ", hash_key="aaf23a53f426561f62e71139c5f27adfd67da711", rate="1")
    from django.core.cache import cache

    cache.clear()
    assert "네이버 마일리지 1% 적립" in client.get("/shop/p/1/").content.decode()


def test_a_buyer_holding_500000_sees_that_only_use_is_possible(sandbox, merchant):
    client = client_for(sandbox, merchant)
    rich = sandbox.new_buyer(500_000)
    url = client.popup_url(done_url="http://127.0.0.1:8000/done", max_use_won=5_000)
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    import re

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    page = browser.post(page.url, data={"csrfmiddlewaretoken": token, "action": "login", "login_id": rich,
                                        "password": "demo1234!"}, timeout=10)
    assert "사용만 가능" in page.text and 'id="rate"' not in page.text
    modest = sandbox.new_buyer(15_500)
    done = sandbox.choose_in_popup(client.popup_url(done_url="http://127.0.0.1:8000/done", max_use_won=5_000),
                                   modest, 500)
    assert done["resultCode"] == "OK"


def test_the_connection_check_says_a_suspended_service_and_the_shop_follows_at_once(client, shop):
    from django.contrib.auth.models import User
    from django.test import Client

    # given the product page showing the 1% rate (read and cached), then the provider suspends the shop
    assert "네이버 마일리지 1% 적립" in client.get("/shop/p/1/").content.decode()
    shop.control("merchant", api_id="1TWXDZ", hash_key="aaf23a53f426561f62e71139c5f27adfd67da711", rate="1",
                 service_status="SUSPENDED")
    try:
        operator = Client()
        operator.force_login(User.objects.get(username="operator"))
        # when an operator presses 연결 확인
        page = operator.post("/console/mileage/settings/", {
            "action": "check", "api_id": "1TWXDZ", "hash_key": "aaf23a53f426561f62e71139c5f27adfd67da711",
            "include_shipping": ""}).content.decode()
        # then the check says the service is SUSPENDED, not 연결 성공
        result = page.split('id="check-result"', 1)[1].split("</div>", 1)[0]
        assert "SUSPENDED" in result and "연결 성공" not in result and "alert-warning" in page.split(
            'id="check-result"', 1)[0][-80:]
        # and the product page stops offering the rate at once
        assert "네이버 마일리지 1% 적립" not in client.get("/shop/p/1/").content.decode()
    finally:
        shop.control("merchant", api_id="1TWXDZ", hash_key="aaf23a53f426561f62e71139c5f27adfd67da711", rate="1")
