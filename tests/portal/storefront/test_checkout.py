"""The buyer's side end to end, over real HTTP with the sandbox running (docs/policy.md E5, I1–I4, U1–U4,
M1–M3, L1)."""

import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.core import mail

from mileage.models import MileageTransaction, OutboxMessage, TransactionState
from portal.orders.models import Order, OrderStatus, PaymentStatus
from portal.storefront.forms import OrderForm

from .conftest import GUEST, MEMBER, buyer_with_choice, choose_mileage, use_merchant

pytestmark = pytest.mark.sandbox


def add_to_cart(client, code: str, quantity="1"):
    return client.post("/shop/cart/add/", {"code": code, "quantity": quantity})


def test_manual_example_end_to_end(client, shop):
    buyer = shop.new_buyer(15_500)
    # given sample product 1 shows the provider's 1% on its page
    page = client.get("/shop/p/1/").content.decode()
    assert "네이버 마일리지 1% 적립" in page and "5,000원" in page
    add_to_cart(client, "1")
    form = client.get("/shop/order/").content.decode()
    assert "네이버 마일리지" in form and "적립/사용" in form and "20,000원" in form and "500원" in form
    assert "/earn-base/" in form
    # when the buyer uses 500원 in the popup
    choose_mileage(client, shop, buyer, 500)
    form = client.get("/shop/order/").content.decode()
    assert "네이버 마일리지 사용 -500원" in form and "1% 적립 예정 45원" in form
    assert 'id="payable">4,500원' in form
    response = client.post("/shop/order/", GUEST)
    assert response.status_code == 302, response.content.decode()[-3000:]
    # then the order is placed with the mileage line (payment 4,500원 as in the manual) and approved at the provider (isConfirmed=N)
    order = Order.objects.get()
    assert (order.goods_won, order.mileage_use_won, order.shipping_won, order.payable_won) == (5_000, 500, 0, 4_500)
    mileage = MileageTransaction.objects.get(order=order)
    assert mileage.state == TransactionState.APPROVED and mileage.tx_id
    assert (mileage.earn_base_won, mileage.expected_earn_won) == (4_500, 45)
    assert shop.balance(buyer)["available"] == 15_000
    assert shop.balance(buyer)["transactions"][0]["state"] == "APPROVED"
    complete = client.get(response["Location"]).content.decode()
    assert "네이버 마일리지 사용 -500원" in complete and "1% 적립 예정 45원" in complete
    assert "입금기한" in complete and order.number in complete
    # the way it was paid reads as the transfer plus the mileage, the mileage's M beside the mileage alone
    method = re.search(r"결제방법: (.*?)<br>", complete, re.S).group(1)
    assert method.startswith("무통장입금") and '+ <span class="mileage-badge" aria-hidden="true">M</span> 네이버 마일리지 500원' in method
    detail = client.get(f"/shop/orders/{order.number}/").content.decode()
    assert "-500원" in detail and "45원" in detail
    assert "네이버 마일리지 사용: -500원" in mail.outbox[0].body
    assert "1% 적립 예정 45원" in mail.outbox[0].body
    # the order records the revision of the earn-base disclosure that was live, and the operator's detail links it
    from cms_pages.selectors import live_disclosure

    disclosure = live_disclosure()
    assert order.disclosure_revision_id == disclosure.live_revision_id
    from django.contrib.auth.models import User
    from django.test import Client

    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    link = f"/console/disclosure/{order.disclosure_revision_id}/?order={order.number}"
    assert link in detail
    archived = operator.get(link).content.decode()
    assert disclosure.title in archived
    # with the rules as they stood then: a change of the settings since does not rewrite them
    from mileage.models import MileageSettings

    assert "배송비/포장비는 적립대상금액에서 제외됩니다." in archived and 'id="rules-of-order"' in archived
    settings = MileageSettings.load()
    settings.include_shipping = True
    settings.save()
    archived = operator.get(link).content.decode()
    assert "배송비/포장비는 적립대상금액에서 제외됩니다." in archived and "기본 적립률: 적립대상금액의 1%" in archived
    assert "배송비/포장비는 적립대상금액에 포함됩니다." in client.get("/earn-base/").content.decode()
    # a draft saved since, or another page's version, is never shown under the published disclosure's heading
    from cms_pages.models import HomePage

    draft = disclosure.save_revision()
    assert operator.get(f"/console/disclosure/{draft.pk}/").status_code == 404
    home = HomePage.objects.first()
    assert operator.get(f"/console/disclosure/{home.save_revision().pk}/").status_code == 404


def test_member_card_order_with_store_points_is_confirmed_at_once(client, shop):
    from django.contrib.auth.models import User

    buyer = shop.new_buyer(15_500)
    client.force_login(User.objects.get(username="hong"))
    add_to_cart(client, "6")  # 30,000원
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, 1_500)
    data = MEMBER
    response = client.post("/shop/order/", {**data, "store_points": "1000", "payment_method": "card",
                                            "card_number": "4111-1111-1111-1111"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID and order.payments.get().status == PaymentStatus.APPROVED
    assert order.payments.get().gateway_tid.startswith("TEST-")
    assert (order.store_points_won, order.mileage_use_won, order.payable_won) == (1_000, 1_500, 27_500)
    assert order.mileage.expected_earn_won == 275  # (30,000 − 1,000 − 1,500) × 1%
    assert User.objects.get(username="hong").member.store_points_won == 0
    assert shop.balance(buyer)["pending"] == 275
    assert "-1,500원" in client.get("/shop/mypage/").content.decode()


def test_an_order_whose_card_was_declined_has_no_receipt_anywhere(client, shop, settings, tmp_path):
    settings.RECEIPTS_ROOT = tmp_path / "private"
    from django.contrib.auth.models import User
    from django.test import Client
    buyer = shop.new_buyer(15_500)
    add_to_cart(client, "1")
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, 500)
    assert client.post("/shop/order/", {**GUEST, "payment_method": "card",
                                        "card_number": "4000000000000002"}).status_code == 400
    failed = Order.objects.get()
    assert failed.status == OrderStatus.PAYMENT_FAILED
    # the buyer who looks the order up sees it refused, and no receipt for money that was never taken
    client.post("/shop/guest/", {"number": failed.number, "password": GUEST["guest_password"]})
    detail = client.get(f"/shop/orders/{failed.number}/")
    assert detail.status_code == 200 and 'id="receipt-link"' not in detail.content.decode()
    assert "결제가 이루어지지 않은 주문입니다" in detail.content.decode()
    asked = client.get(f"/shop/orders/{failed.number}/receipt.pdf")
    assert asked.status_code == 404 and asked["Content-Type"].startswith("text/html")
    assert "영수증이 없는 주문입니다" in asked.content.decode()
    # nor in the console: not on its detail, not by its address, not in a batch of the search
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    page = operator.get(f"/console/orders/{failed.number}/")
    assert page.status_code == 200 and 'id="receipt-link"' not in page.content.decode()
    assert operator.get(f"/console/orders/{failed.number}/receipt.pdf").status_code == 404
    batch = operator.get("/console/receipts/", {"number": failed.number}).content.decode()
    assert "조건에 맞는 주문 0건" in batch


def test_a_members_declined_order_reads_as_not_paid_on_my_page_and_uses_no_mileage_on_the_dashboard(client, shop):
    from django.contrib.auth.models import User
    from django.test import Client
    buyer = shop.new_buyer(15_500)
    client.force_login(User.objects.get(username="hong"))
    add_to_cart(client, "4")  # 20,000원
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, 1_500)
    member = MEMBER
    assert client.post("/shop/order/", {**member, "payment_method": "card",
                                        "card_number": "4000000000000002"}).status_code == 400
    assert Order.objects.get().status == OrderStatus.PAYMENT_FAILED
    page = client.get("/shop/mypage/").content.decode()
    row = page[page.index('id="my-orders"'):]
    assert "결제되지 않음" in row and "사용되지 않음" in row and "-1,500원" not in row
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    assert "마일리지 사용 0건" in operator.get("/console/").content.decode()


def declined_with_mileage(client, shop) -> tuple[str, object]:
    """A guest with 500원 of mileage chosen on the order form of sample 1 pays with a card TEST-PG declines.
    Returns the provider's buyer and the response."""
    buyer = shop.new_buyer(15_500)
    add_to_cart(client, "1")
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, 500)
    return buyer, client.post("/shop/order/", {**GUEST, "payment_method": "card", "card_number": "4000000000000002"})


def test_declined_card_aborts_the_approval(client, shop):
    buyer, response = declined_with_mileage(client, shop)
    assert response.status_code == 400 and "거절" in response.content.decode()
    order = Order.objects.get()
    assert order.status == OrderStatus.PAYMENT_FAILED
    assert list(OutboxMessage.objects.values_list("kind", "status")) == [("abort", "sent")]
    # the approval came first (authorisation before capture) and was aborted: the buyer has every won back
    assert [t["state"] for t in shop.balance(buyer)["transactions"]] == ["ABORTED"]
    assert (shop.balance(buyer)["available"], shop.balance(buyer)["held"]) == (15_500, 0)
    assert order.mileage.state == TransactionState.ABORTED
    # pressing 적립/사용 again opens a new transaction: the aborted reqTxId has no way out at a provider (§2)
    aborted = order.mileage.req_tx_id
    reopened = dict(parse_qsl(urlsplit(client.get("/mileage/popup/open/")["Location"]).query))
    assert reopened.get("reqTxId", "") == ""
    choose_mileage(client, shop, buyer, 500)
    placed = client.post("/shop/order/", {**GUEST, "payment_method": "card", "card_number": "4111111111111111"})
    assert placed.status_code == 302
    again = Order.objects.exclude(pk=order.pk).get()
    assert again.mileage.req_tx_id != aborted and again.mileage_use_won == 500


def test_a_declined_card_whose_abort_is_not_answered_yet_says_the_mileage_is_on_its_way_back(client, shop, settings):
    """The mileage of a declined card goes back through the outbox: while the provider has not answered the abort,
    the buyer's pages say it was asked back (반환 예정), never that it is back; once answered, that it is back."""
    from django.core.cache import cache

    from mileage.services.transactions import outbox_deliver
    from portal.storefront import views
    from tests.provider_proxy import ProviderProxy

    down = [True]
    unavailable = (503, "text/html", b"<h1>Service Unavailable</h1>")
    with ProviderProxy(shop.base_url, lambda path: unavailable if path.endswith("/abort") and down[0] else None) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        buyer, response = declined_with_mileage(client, shop)
        assert response.status_code == 400 and "사용하려던 네이버 마일리지는 돌려드립니다" in response.content.decode()
        order = Order.objects.get()
        assert OutboxMessage.objects.get(order=order, kind="abort").status == "pending"
        assert shop.balance(buyer)["available"] == 15_000  # still taken at the provider
        session = client.session
        session[views.ORDERS_KEY] = [order.number]
        session.save()
        page = client.get(f"/shop/order/{order.number}/complete/").content.decode()
        assert "반환을 요청했습니다 (반환 예정)" in page and "네이버 마일리지와 적립금은 돌려드렸습니다" not in page
        # when the provider answers the abort
        down[0] = False
        outbox_deliver(OutboxMessage.objects.get(order=order, kind="abort").pk, force=True)
        assert shop.balance(buyer)["available"] == 15_500
        page = client.get(f"/shop/order/{order.number}/complete/").content.decode()
        assert "네이버 마일리지와 적립금은 돌려드렸습니다" in page and "반환 예정" not in page


def test_a_popup_reopened_on_a_reqtxid_an_order_took_opens_a_new_transaction(client, shop):
    from tests.conftest import STANDARD_SANDBOX

    buyer = shop.new_buyer(15_500)
    add_to_cart(client, "1")
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, 500)
    taken = client.session["mileage_choice"]["req_tx_id"]
    assert client.post("/shop/order/", {**GUEST, "payment_method": "card", "card_number": "4111111111111111"}
                       ).status_code == 302
    # given a session that still hands the provider that reqTxId (a tab's session saved before the order's)
    session = client.session
    session["mileage_req_tx_id"] = taken
    session.save()
    add_to_cart(client, "1")
    client.get("/shop/order/")
    opened = client.get("/mileage/popup/open/")
    answer = requests.get(opened["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    if STANDARD_SANDBOX:
        # the public protocol's provider answers ERROR for a transaction that moved on; the shop says so and forgets it
        params = dict(parse_qsl(urlsplit(answer.headers["Location"]).query, keep_blank_values=True))
        assert params["resultCode"] == "ERROR" and params["reqTxId"] == taken
        done = client.get("/mileage/popup/done/", params)
        assert done.status_code == 400 and "mileage_req_tx_id" not in client.session
        reopened = dict(parse_qsl(urlsplit(client.get("/mileage/popup/open/")["Location"]).query))
        assert reopened.get("reqTxId", "") == ""
    else:  # the sandbox's own profile opens a new popup under a new reqTxId
        assert f"/{taken}" not in answer.headers["Location"]
    choose_mileage(client, shop, buyer, 500)
    assert client.session["mileage_choice"]["req_tx_id"] != taken


def test_excluded_gift_certificate_is_outside_the_offer_and_the_base(client, shop):
    buyer = shop.new_buyer(15_500)
    add_to_cart(client, "1")
    add_to_cart(client, "GIFT-50000")
    client.get("/shop/order/")
    opened = client.get("/mileage/popup/open/")
    assert dict(parse_qsl(urlsplit(opened["Location"]).query))["maxUseAmount"] == "5000"
    params = shop.choose_in_popup(opened["Location"], buyer, 500)
    client.get("/mileage/popup/done/", params)
    assert client.post("/shop/order/", GUEST).status_code == 302
    mileage = MileageTransaction.objects.get()
    assert (mileage.earn_base_won, mileage.expected_earn_won) == (4_500, 45)
    assert Order.objects.get().excluded_goods_won == 50_000


def test_only_excluded_goods_offer_no_mileage(client, shop):
    add_to_cart(client, "GIFT-50000")
    form = client.get("/shop/order/").content.decode()
    assert "이 주문은 네이버 마일리지 적립/사용 대상이 아닙니다." in form
    assert client.get("/mileage/popup/open/").status_code == 400


def test_excluded_product_page_shows_the_banner_and_no_rate(client, shop):
    page = client.get("/shop/p/GIFT-50000/").content.decode()
    assert "해당 상품은 네이버 마일리지가 지급되지 않는 상품입니다." in page
    assert "% 적립" not in page


def ad_landing(shop, rate: str, path: str):
    """A merchant at `rate` granting 5% more to ad visits, used by the shop; the sandbox's ad click's landing URL."""
    api_id, hash_key = shop.new_merchant(rate=rate, ad_extra_rate="5")
    use_merchant(api_id, hash_key)
    landing = requests.get(f"{shop.base_url}/ad/{api_id}/?to=http://testserver{path}", allow_redirects=False,
                           timeout=5)
    return urlsplit(landing.headers["Location"])


def test_a_link_claiming_more_extra_rate_than_the_provider_grants_shows_no_more_than_it(client, shop):
    # the shop cannot check the token's signature: a link whose aa was raised to 50 must not advertise 50%
    from urllib.parse import parse_qsl, quote

    target = ad_landing(shop, "1", "/shop/p/1/")
    napm = dict(parse_qsl(target.query))["NaPm"]
    assert "|aa=5|" in napm
    forged = napm.replace("|aa=5|", "|aa=50|")
    page = client.get(f"{target.path}?NaPm={quote(forged)}", HTTP_REFERER=shop.base_url + "/").content.decode()
    assert "네이버 마일리지 1% + 추가 5% 적립" in page and "추가 50%" not in page


def test_shirt_through_an_ad_click_shows_the_extra_rate_until_it_ends(client, shop):
    target = ad_landing(shop, "5", "/shop/p/D0SELF0012179/")
    page = client.get(f"{target.path}?{target.query}", HTTP_REFERER=shop.base_url + "/").content.decode()
    assert "21,000원" in page and "네이버 마일리지 5% + 추가 5% 적립" in page
    # browsing the shop keeps it
    assert "추가 5%" in client.get("/shop/p/D0SELF0012179/", HTTP_REFERER="http://testserver/shop/").content.decode()
    # and the popup gets the token: earn at 10%
    buyer = shop.new_buyer(0)
    add_to_cart(client, "D0SELF0012179")
    client.get("/shop/order/", HTTP_REFERER="http://testserver/shop/")
    choose_mileage(client, shop, buyer, 0)
    assert client.post("/shop/order/", GUEST, HTTP_REFERER="http://testserver/shop/order/").status_code == 302
    assert MileageTransaction.objects.get().expected_earn_won == 2_100
    # a page view arriving from another portal ends the extra rate
    page = client.get("/shop/p/D0SELF0012179/", HTTP_REFERER="https://www.daum.net/").content.decode()
    assert "네이버 마일리지 5% 적립" in page and "추가" not in page


def test_a_choice_made_with_the_ads_extra_rate_is_given_back_when_the_buyer_comes_back_from_another_site(
        client, shop):
    target = ad_landing(shop, "5", "/shop/p/D0SELF0012179/")
    client.get(f"{target.path}?{target.query}", HTTP_REFERER=shop.base_url + "/")
    buyer = shop.new_buyer(15_500)
    add_to_cart(client, "D0SELF0012179")
    client.get("/shop/order/", HTTP_REFERER="http://testserver/shop/")
    choose_mileage(client, shop, buyer, 500)  # at 5% + the ad's 5%
    from tests.conftest import STANDARD_SANDBOX

    assert "10% 적립 예정" in client.get("/shop/order/", HTTP_REFERER="http://testserver/shop/").content.decode()
    assert shop.balance(buyer)["held"] == (0 if STANDARD_SANDBOX else 500)  # holds are the sandbox's extension
    # when the buyer goes to another portal and comes back to the shop
    client.get("/shop/p/D0SELF0012179/", HTTP_REFERER="https://search.daum.net/search?q=shirt")
    form = client.get("/shop/order/", HTTP_REFERER="http://testserver/shop/p/D0SELF0012179/").content.decode()
    # then the choice made with the extra rate is gone, its hold given back, and the form says why
    assert "광고로 들어오신 추가 적립이 끝나" in form and "10% 적립 예정" not in form
    assert "mileage_choice" not in client.session and shop.balance(buyer)["held"] == 0
    assert shop.balance(buyer)["available"] == 15_500
    # chosen again, the order earns the base rate alone: 5% of 20,500원
    choose_mileage(client, shop, buyer, 500)
    placed = client.post("/shop/order/", GUEST, HTTP_REFERER="http://testserver/shop/order/")
    assert placed.status_code == 302, placed.content.decode()[-1500:]
    mileage = MileageTransaction.objects.get()
    assert (mileage.base_rate_x10, mileage.add_rate_x10, mileage.expected_earn_won) == (50, 0, 1_025)


def test_an_inflow_older_than_six_hours_gets_no_extra(client, shop, sandbox_clock):
    api_id, hash_key = shop.new_merchant(rate="5", ad_extra_rate="5")
    use_merchant(api_id, hash_key)
    shop.advance(-int(timedelta(hours=6, seconds=1).total_seconds()))
    landing = requests.get(f"{shop.base_url}/ad/{api_id}/?to=http://testserver/shop/p/D0SELF0012179/",
                           allow_redirects=False, timeout=5)
    shop.reset_clock()
    target = urlsplit(landing.headers["Location"])
    page = client.get(f"{target.path}?{target.query}").content.decode()
    assert "네이버 마일리지 5% 적립" in page and "추가" not in page


def test_guest_lookup(client, shop):
    add_to_cart(client, "2")
    client.get("/shop/order/")
    assert client.post("/shop/order/", GUEST).status_code == 302
    order = Order.objects.get()
    other = client.__class__()
    assert other.get(f"/shop/orders/{order.number}/").status_code == 404
    assert other.post("/shop/guest/", {"number": order.number, "password": "wrong123"}).status_code == 400
    found = other.post("/shop/guest/", {"number": order.number, "password": "abcd1234"})
    assert found.status_code == 302
    assert "네이버 마일리지 사용 0원" in other.get(found["Location"]).content.decode()


@pytest.mark.parametrize("quantity", ["0", "-1", "100", "abc"])
def test_bad_quantities_are_refused(client, shop, quantity):
    response = add_to_cart(client, "1", quantity)
    assert response.status_code == 302
    assert "수량" in client.get(response["Location"]).content.decode()
    assert client.session.get("cart", {}) == {}


def test_tampered_done_page_and_replayed_choice_leave_no_order(client, shop):
    buyer = shop.new_buyer(15_500)
    add_to_cart(client, "1")
    client.get("/shop/order/")
    params = choose_mileage(client, shop, buyer, 500)
    tampered = {**params, "mileageUseAmount": "400", "totalUseAmount": "400"}
    assert client.get("/mileage/popup/done/", tampered).status_code == 400
    # the verified choice still stands; place the order once
    assert client.post("/shop/order/", GUEST).status_code == 302
    def replayed(code: str):
        """An order of `code` posted with the same popup result put back into the session."""
        add_to_cart(client, code)
        client.get("/shop/order/")
        session = client.session
        session["mileage_choice"] = {"req_tx_id": params["reqTxId"], "use_won": 500, "base_rate_x10": 10,
                                     "add_rate_x10": 0, "balance_won": 15_000, "params": params}
        session.save()
        return client.post("/shop/order/", GUEST)

    # the same lines and amount with the same spent choice: taken for a second press of the first order, shown it
    response = replayed("1")
    first = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/shop/order/{first.number}/complete/"
    assert shop.balance(buyer)["available"] == 15_000
    # with another cart the spent choice is refused, and nothing is placed
    response = replayed("2")
    assert response.status_code == 400 and "이미 주문에 사용된" in response.content.decode()
    assert Order.objects.count() == 1
    assert shop.balance(buyer)["available"] == 15_000


def test_bad_form_input_is_refused_with_a_message(client, shop):
    add_to_cart(client, "1")
    client.get("/shop/order/")
    response = client.post("/shop/order/", {**GUEST, "guest_password": "ab"})
    assert response.status_code == 400 and "6자에서 12자" in response.content.decode()
    for good in ("0504-1234-5678", "02-555-1234", "01012345678"):  # a 050x 안심번호, Seoul, no hyphens
        assert OrderForm({**GUEST, "orderer_phone": good}, is_member=False).is_valid(), good
    for phone in ("전화", "---------", "-" * 20, "0-1-0-1-2-3-4-5-6", "1234-5678", "010-1234-567", "010 1234 5678"):
        response = client.post("/shop/order/", {**GUEST, "orderer_phone": phone})
        assert response.status_code == 400 and "휴대전화 번호를 010-1234-5678 처럼 입력해 주세요." in response.content.decode()
        # a recipient's phone is held to the same shape
        response = client.post("/shop/order/", {**GUEST, "same_as_orderer": "", "recipient_name": "김선물",
                                                "recipient_phone": phone})
        assert response.status_code == 400 and "휴대전화 번호를 010-1234-5678 처럼 입력해 주세요." in response.content.decode()
    for number in ("abc", "4111-abcd", "<script>"):  # TEST-PG's card number, when typed, is a number
        response = client.post("/shop/order/", {**GUEST, "payment_method": "card", "card_number": number})
        assert response.status_code == 400 and "카드번호는 숫자로 입력해 주세요." in response.content.decode()
        # the box the page hides for another method is not held against the buyer
        response = client.post("/shop/order/", {**GUEST, "payment_method": "bank", "card_number": number,
                                                "orderer_phone": "전화"})
        assert response.status_code == 400 and "카드번호는" not in response.content.decode()
    response = client.post("/shop/order/", {**GUEST, "privacy_agreed": ""})
    assert response.status_code == 400 and "동의" in response.content.decode()
    assert Order.objects.count() == 0


def test_a_phone_typed_without_hyphens_is_kept_as_the_shop_keeps_phones(client, shop):
    """01012345678 on the order form is stored 010-1234-5678, as a member's is: 주문조회's phone search, the masking
    and the invoice call read one shape."""
    from mileage import wire
    from portal.parsing import stored_phone

    add_to_cart(client, "1")
    client.get("/shop/order/")
    response = client.post("/shop/order/", {**GUEST, "orderer_phone": "01098765432", "same_as_orderer": "",
                                            "recipient_name": "김선물", "recipient_phone": "05051234567"})
    assert response.status_code == 302, response.content.decode()[:500]
    order = Order.objects.get()
    assert (order.orderer_phone, order.recipient_phone) == ("010-9876-5432", "0505-123-4567")
    # the shape the delivery invoice call masks and a provider takes (docs/protocol.md §2), the 안심번호's twelve
    # digits too
    assert wire.mask_phone(order.recipient_phone) == "0505-***-4567"
    for typed, stored, masked in (("05051234567", "0505-123-4567", "0505-***-4567"),
                                  ("050412345678", "0504-1234-5678", "0504-****-5678"),
                                  ("0212345678", "02-1234-5678", "02-****-5678")):
        assert stored_phone(typed) == stored and wire.mask_phone(stored) == wire.mask_phone(typed) == masked
        assert wire.is_masked_phone(masked)
    # the same buyer ticking 받는 분 = 주문자 gets the orderer's phone in the same shape
    add_to_cart(client, "1")
    client.get("/shop/order/")
    response = client.post("/shop/order/", {**GUEST, "orderer_phone": "0212345678"})
    assert response.status_code == 302
    assert Order.objects.latest("pk").recipient_phone == "02-1234-5678"


def test_mileage_button_off_when_the_disclosure_is_unpublished(client, shop):
    from cms_pages.models import EarnBaseDisclosurePage

    perk = '<span class="mileage-badge" aria-hidden="true">M</span> 네이버 마일리지 적립'
    assert perk in client.get("/shop/").content.decode() and perk in client.get("/").content.decode()
    EarnBaseDisclosurePage.objects.get().unpublish()
    # the product cards no longer advertise the earn, as the product page and the order form say it is off
    assert perk not in client.get("/shop/").content.decode() and perk not in client.get("/").content.decode()
    assert "네이버 마일리지 제외 상품" in client.get("/shop/c/gift-certificates/").content.decode()
    add_to_cart(client, "1")
    form = client.get("/shop/order/").content.decode()
    assert "지금은 네이버 마일리지를 이용할 수 없습니다." in form
    assert 'id="mileage-button"' not in form


@pytest.mark.extended  # the standard provider holds nothing at the popup: nothing to give back there
def test_a_choice_made_before_the_disclosure_was_unpublished_is_given_back_at_once(shop):
    from cms_pages.models import EarnBaseDisclosurePage

    # given a guest who chose 500원 of mileage on the order form of sample 1 (held at the provider)
    buyer = shop.new_buyer(15_500)
    client = buyer_with_choice(shop, buyer, 500, product="1")
    page = client.get("/shop/order/").content.decode()
    assert shop.balance(buyer)["held"] == 500
    # when the 적립 기준 안내 is unpublished and the guest presses 결제하기 on the page still showing the choice
    EarnBaseDisclosurePage.objects.get().unpublish()
    response = _pay_from(client, page)
    # then nothing is placed, the page says the mileage went back, and the provider no longer holds it
    text = response.content.decode()
    assert response.status_code == 400 and not Order.objects.exists()
    assert "사용하려던 네이버 마일리지를 돌려드렸습니다" in text
    balance = shop.balance(buyer)
    assert (balance["held"], balance["available"]) == (0, 15_500)


def test_the_deposit_account_is_the_one_kept_with_the_business_details(client, shop):
    from wagtail.models import Site

    from cms_pages.models import MerchantDetails

    details = MerchantDetails.for_site(Site.objects.get(is_default_site=True))
    details.deposit_bank, details.deposit_account_no, details.deposit_holder = "신한은행", "110-222-333333", "마일샵"
    details.save()
    client.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    form = client.get("/shop/order/").content.decode()
    assert 'id="deposit-account"' in form and "신한은행 110-222-333333 (예금주: 마일샵)" in form
    assert client.post("/shop/order/", GUEST).status_code == 302
    order = Order.objects.get()
    assert order.payments.get().bank_account == "신한은행 110-222-333333 (예금주: 마일샵)"
    assert "신한은행 110-222-333333" in client.get(f"/shop/orders/{order.number}/").content.decode()
    # with no account kept, a bank transfer is refused with a message and nothing is recorded
    details.deposit_account_no = ""
    details.save()
    client.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    response = client.post("/shop/order/", GUEST)
    assert response.status_code == 400 and "무통장입금 계좌가 아직 준비되지 않았습니다" in response.content.decode()
    assert Order.objects.count() == 1


def test_typed_store_points_reprice_the_form_and_the_popups_offer_before_anything_is_posted(client, shop):
    # given hong (1,000원 of 적립금) on the order form of sample 1 (5,000원): the popup may take 5,000원
    from django.contrib.auth.models import User

    from mileage.views import OFFER_KEY

    client.force_login(User.objects.get(username="hong"))
    add_to_cart(client, "1")
    page = client.get("/shop/order/").content.decode()
    assert 'data-quote-url="/shop/order/quote/"' in page and client.session[OFFER_KEY]["max_use_won"] == 5_000
    data = MEMBER
    # when 1,000 is typed in 적립금 사용 (the page's script asks the server for the amounts)
    quoted = client.post("/shop/order/quote/", {**data, "store_points": "1000", "payment_method": "card"})
    # then the amounts shown are those the payment will have, and the popup offers no more than is left to pay
    assert quoted.status_code == 200
    amounts = quoted.content.decode().split('id="quote"', 1)[1].split("</table>", 1)[0]
    assert "4,000원" in amounts and client.session[OFFER_KEY]["max_use_won"] == 4_000
    # and nothing was placed, whatever else the form lacks
    assert not Order.objects.exists()
    assert client.post("/shop/order/quote/", {"store_points": "abc"}).status_code == 200  # bad input: no 500
    # more 적립금 than hong has, or no whole number: the amounts leave it out and say why, as it is typed
    for typed, why in (("2000", "사용 가능한 적립금은 1,000원입니다."), ("-5", "적립금은 0원 이상이어야 합니다."),
                       ("1.5", "적립금은 숫자로 입력해 주세요."), ("１２３", "적립금은 숫자로 입력해 주세요."),
                       ("9" * 20, "적립금은 가진 적립금까지만 쓸 수 있습니다.")):
        note = client.post("/shop/order/quote/", {**data, "store_points": typed, "payment_method": "card"})
        assert note.content.decode().split('id="points-note"', 1)[1].split("</p>", 1)[0].endswith(why), typed
    page = client.get("/shop/order/").content.decode()  # the page itself: an empty note
    assert 'role="status"></p>' in page.split('id="points-note"', 1)[1][:40]
    # a choice made for the amounts before the 적립금 was typed is dropped, and the mileage row says so
    client.get("/shop/order/")
    choose_mileage(client, shop, shop.new_buyer(15_500), 4_500)
    quoted = client.post("/shop/order/quote/", {**data, "store_points": "1000", "payment_method": "card"})
    page = quoted.content.decode()
    assert 'id="mileage-dropped"' in page and "최대 4,000원 사용 가능" in page and 'id="mileage-choice"' not in page


@pytest.mark.parametrize("typed", ["3000", "-5", "abc"])
def test_store_points_refused_at_payment_place_nothing_and_say_why(client, shop, typed):
    # given hong (1,000원 of 적립금) on the order form of sample 1 (5,000원), paying by card on the TEST gateway
    from django.contrib.auth.models import User

    hong = User.objects.get(username="hong")
    client.force_login(hong)
    add_to_cart(client, "1")
    page = client.get("/shop/order/").content.decode()
    points_before = hong.member.store_points_won
    # when more 적립금 than hong has (or none that reads as an amount) is typed and 결제하기 pressed at once, the page's
    # amounts sent back as they were shown (Enter pressed before the script priced the form again)
    response = client.post("/shop/order/", {**GUEST, "payment_method": "card", "card_number": "4111111111111111",
                                            "store_points": typed, "priced": _hidden(page, "priced"),
                                            "mileage_choice": ""})
    # then nothing is placed or charged, and the form says why, once
    assert response.status_code == 400
    assert not Order.objects.exists()
    why = {"3000": "사용 가능한 적립금은 1,000원입니다.", "-5": "적립금은 0원 이상이어야 합니다.",
           "abc": "적립금은 숫자로 입력해 주세요."}[typed]
    assert response.content.decode().count(why) == 1
    hong.member.refresh_from_db()
    assert hong.member.store_points_won == points_before


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="(\w*)"', page).group(1)


def _pay_from(client, page: str):
    """결제하기 on the page as it was shown: its hidden amounts and mileage choice sent back."""
    return client.post("/shop/order/", {**GUEST, "priced": _hidden(page, "priced"),
                                        "mileage_choice": _hidden(page, "mileage_choice")})


def test_payment_places_only_the_amounts_the_page_showed(client, shop):
    # given a guest's order form of sample 1 (5,000원) with 500원 of mileage chosen
    add_to_cart(client, "1")
    client.get("/shop/order/")
    choose_mileage(client, shop, shop.new_buyer(15_500), 500)
    page = client.get("/shop/order/").content.decode()
    assert "4,500원" in page
    # when sample 8 is added to the cart in another tab, then 결제하기 is pressed on this page
    add_to_cart(client, "8")
    response = _pay_from(client, page)
    # then nothing is placed: the page shows the new amounts and says why
    assert response.status_code == 400 and not Order.objects.exists()
    fresh = response.content.decode()
    assert "결제금액이 바뀌었습니다" in fresh and "샘플상품 8" in fresh
    # and that the mileage chosen for the old amounts was given up (the buyer presses 적립/사용 again)
    assert 'id="mileage-dropped"' in fresh
    # and 결제하기 on the page that shows them places what it shows
    assert _pay_from(client, fresh).status_code == 302
    order = Order.objects.get()
    assert order.lines.count() == 2
    # pressed once more (a double click whose first request emptied the cart): that order is shown, nothing placed
    again = _pay_from(client, fresh)
    assert again.status_code == 302 and again["Location"] == f"/shop/order/{order.number}/complete/"
    assert Order.objects.count() == 1


def test_a_mileage_choice_changed_in_another_tab_is_never_paid_from_the_older_page(client, shop):
    # given sample 2 (10,000원) priced with 3,000원 of mileage: 7,000원 shown
    buyer = shop.new_buyer(15_500)
    add_to_cart(client, "2")
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, 3_000)
    page = client.get("/shop/order/").content.decode()
    assert "7,000원" in page
    # when another tab chooses 500원 in the popup, then 결제하기 is pressed on the first page
    choose_mileage(client, shop, buyer, 500)
    response = _pay_from(client, page)
    # then nothing is placed and the amounts the payment would have are shown
    assert response.status_code == 400 and not Order.objects.exists()
    assert "9,500원" in response.content.decode()


def test_store_points_typed_and_enter_pressed_show_the_amounts_before_placing(client, shop):
    # given hong (1,000원 of 적립금) on the order form of sample 1 (5,000원 shown)
    from django.contrib.auth.models import User

    client.force_login(User.objects.get(username="hong"))
    add_to_cart(client, "1")
    page = client.get("/shop/order/").content.decode()
    data = MEMBER
    # when 1,000 is typed in 적립금 사용 and Enter pressed before the amounts followed
    response = client.post("/shop/order/", {**data, "store_points": "1000", "priced": _hidden(page, "priced"),
                                            "mileage_choice": ""})
    # then nothing is placed; the page shows 4,000원, and pressing again places it
    assert response.status_code == 400 and not Order.objects.exists()
    fresh = response.content.decode()
    assert 'id="payable">4,000원' in fresh
    again = client.post("/shop/order/", {**data, "store_points": "1000", "priced": _hidden(fresh, "priced"),
                                         "mileage_choice": ""})
    assert again.status_code == 302 and Order.objects.get().payable_won == 4_000


def test_a_choice_given_up_by_reopening_the_popup_is_said_once_when_no_new_one_comes(client, shop):
    # given a guest's order form of sample 1 with 500원 of mileage chosen
    add_to_cart(client, "1")
    client.get("/shop/order/")
    choose_mileage(client, shop, shop.new_buyer(15_500), 500)
    data = {k: v for k, v in GUEST.items()}
    # when 적립/사용 is pressed again and its window closed without a choice
    assert client.get("/mileage/popup/open/").status_code == 302
    page = client.post("/shop/order/quote/", data).content.decode()
    # then the form says the earlier choice is gone, and shows no discount
    assert "이전 네이버 마일리지 선택이 취소되었습니다" in page and 'id="mileage-choice"' not in page
    assert 'id="payable">5,000원' in page
    assert "이전 네이버 마일리지 선택이 취소되었습니다" not in client.post("/shop/order/quote/", data).content.decode()


@pytest.mark.extended  # the standard provider holds nothing at the popup: nothing to give back there
def test_a_choice_dropped_because_the_amounts_changed_is_given_back_at_the_provider_at_once(client, shop):
    # given a guest whose 500원 choice on sample 1 is held at the provider
    buyer = shop.new_buyer(15_500)
    add_to_cart(client, "1")
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, 500)
    assert shop.balance(buyer)["held"] == 500
    # when the cart changes (another tab) and the order form is shown again
    add_to_cart(client, "8")
    page = client.get("/shop/order/").content.decode()
    # then the form says the choice was dropped, and the provider holds nothing for it any more
    assert 'id="mileage-dropped"' in page
    assert (shop.balance(buyer)["held"], shop.balance(buyer)["available"]) == (0, 15_500)


def test_an_order_placed_while_the_mail_server_is_down_is_placed_and_says_so(client, shop, settings, caplog):
    # given the mail server refusing every connection
    settings.EMAIL_BACKEND = "tests.support.mail.RefusingBackend"
    buyer = shop.new_buyer(15_500)
    add_to_cart(client, "1")
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, 500)
    # when the buyer pays
    response = client.post("/shop/order/", {**GUEST, "payment_method": "card", "card_number": "4111111111111111"})
    # then the order page answers (never a 500 after the card was charged), the browser remembers the order and the
    # cart is empty, so a reload cannot pay the same cart twice; the failed e-mail is logged
    assert response.status_code == 302, response.content.decode()[-2000:]
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID and mail.outbox == []
    complete = client.get(response["Location"])
    assert complete.status_code == 200 and order.number in complete.content.decode()
    assert client.get(f"/shop/orders/{order.number}/").status_code == 200
    assert "장바구니가 비어" in client.get("/shop/order/", follow=True).content.decode()
    assert f"the order e-mail of {order.number} was not sent" in caplog.text


def test_a_session_written_back_by_a_request_that_ended_after_the_placement_does_not_swallow_the_next_order(
        client, shop):
    # given a buyer whose 결제하기 places an order while a request of the same session that started before it (적립/
    # 사용 pressed in another tab) ends after it and writes the session back as it read it: cart, key and choice
    # (at a provider that holds the use, so that the other tab's choice holds some)
    use_merchant(*shop.new_merchant(rate="1", profile="extended"))
    buyer = shop.new_buyer(15_500)
    add_to_cart(client, "1")
    key = re.search(r'name="submission_key" value="([0-9a-f]{32})"', client.get("/shop/order/").content.decode())[1]
    choose_mileage(client, shop, buyer, 500)
    stale = dict(client.session.items())
    placed = client.post("/shop/order/", {**GUEST, "payment_method": "card", "card_number": "4111111111111111",
                                          "submission_key": key})
    assert placed.status_code == 302
    first = Order.objects.get()
    session = client.session
    session.update(stale)
    session.save()
    # and the other tab's popup, answered, holding a new choice of the buyer's mileage
    choose_mileage(client, shop, buyer, 700)
    assert shop.balance(buyer)["held"] == 700
    # when the buyer comes back to the cart: the spent cart is gone and that hold is given back
    assert "장바구니가 비어" in client.get("/shop/cart/").content.decode()
    assert shop.balance(buyer)["held"] == 0
    # and buys the same product again, without mileage
    add_to_cart(client, "1")
    key = re.search(r'name="submission_key" value="([0-9a-f]{32})"', client.get("/shop/order/").content.decode())[1]
    again = client.post("/shop/order/", {**GUEST, "payment_method": "card", "card_number": "4111111111111111",
                                         "submission_key": key})
    # then it is a new order of one item, paid, never the first order shown again
    assert again.status_code == 302, again.content.decode()[-1500:]
    second = Order.objects.exclude(pk=first.pk).get()
    assert f"/{second.number}/" in again["Location"]
    assert second.status == OrderStatus.PAID and second.lines.get().quantity == 1 and second.mileage_use_won == 0
    assert shop.balance(buyer)["held"] == 0


def test_near_the_500000_won_holding_cap_the_order_form_says_how_much_at_most_will_be_earned(client, shop):
    # given a buyer holding 499,800원 who chooses no use for a 40,000원 order (1%: 400원 before the cap)
    buyer = shop.new_buyer(499_800)
    add_to_cart(client, "8")
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, 0)
    # when the order form shows the choice
    page = client.get("/shop/order/").content.decode()
    # then it says the earn is at most what fits under 500,000원, and why, where it said 400원
    assert "최대 200원" in page and "보유 네이버 마일리지 한도 500,000원까지만 적립됩니다" in page
    assert "적립 예정 400원" not in page
    # and the provider's answer is what the order earns: those 200원
    response = client.post("/shop/order/", {**GUEST, "payment_method": "card"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    assert Order.objects.get().mileage.expected_earn_won == 200


def test_far_from_the_holding_cap_the_order_form_says_the_whole_expected_earn(client, shop):
    buyer = shop.new_buyer(15_500)
    add_to_cart(client, "8")
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, 0)
    page = client.get("/shop/order/").content.decode()
    assert "적립 예정 400원" in page and "최대" not in page[page.index('id="quote-live"'):]
