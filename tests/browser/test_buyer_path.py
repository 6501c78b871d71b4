"""The buyer's path in a real browser (Playwright driving Debian's Chromium, headless), with screenshots:
ad click → product page → order form → popup → use 500원 → bank transfer → 주문완료."""

import os
import shutil
from pathlib import Path

import pytest
from django.core.cache import cache

from mileage.models import MileageSettings
from tests.support.db_state import load_demo

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                       reason="Debian chromium is not installed (CI installs it)"),
]

def csp_violations(page) -> list[str]:
    """Collects the browser's Content-Security-Policy reports of `page` (the tests run with the policy on)."""
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text)
            if "Content Security Policy" in message.text else None)
    return found


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# `make pytest-browser-portone` (CI): every browser path again with PortOne as the shop's gateway (the emulator's)
BROWSER_GATEWAY = os.environ.get("BROWSER_GATEWAY", "test")


@pytest.fixture
def browser_shop(sandbox, live_server, settings, transactional_db, request):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    settings.MILEAGE_API_BASE = settings.MILEAGE_SERVICE_BASE = sandbox.base_url
    if BROWSER_GATEWAY == "portone":
        request.getfixturevalue("portone")
    cache.clear()
    load_demo()
    MileageSettings.objects.filter(pk=1).update(api_id="1TWXDZ", hash_key="aaf23a53f426561f62e71139c5f27adfd67da711")
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield sandbox, live_server.url
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_buyer_path_with_500_won_of_mileage(browser_shop):
    from playwright.sync_api import expect, sync_playwright

    from portal.orders.models import Order

    sandbox, shop_url = browser_shop
    buyer = sandbox.new_buyer(15_500)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ko-KR", viewport={"width": 1100, "height": 1400})
        violations = csp_violations(page)
        # an ad click at the provider lands on the product page with the inflow token
        page.goto(f"{sandbox.base_url}/ad/1TWXDZ/?to={shop_url}/shop/p/1/")
        expect(page.locator("#mileage-rate")).to_contain_text("네이버 마일리지 1% + 추가 5% 적립")
        page.screenshot(path=SHOTS / "1-product.png", full_page=True)
        page.click("#buy-now")
        expect(page.locator("h1")).to_have_text("주문서작성")
        page.fill("#id_orderer_name", "홍길동")
        page.fill("#id_orderer_phone", "010-1234-5678")
        page.fill("#id_address", "서울 동작구 신대방2동")
        page.fill("#id_guest_password", "abcd1234")
        page.check("#id_privacy_agreed")
        page.screenshot(path=SHOTS / "2-order-form.png", full_page=True)
        # 적립/사용 opens the provider's popup
        with page.expect_popup() as popup_info:
            page.click("#mileage-button")
        popup = popup_info.value
        violations += csp_violations(popup)
        popup.fill("input[name=login_id]", buyer)
        popup.fill("input[name=password]", "demo1234!")
        popup.click("text=로그인")
        expect(popup.locator("#balance")).to_have_text("15,500원")
        expect(popup.locator("#rate")).to_contain_text("적립대상금액의 1% + 추가 5%")
        popup.fill("#use", "500")
        popup.screenshot(path=SHOTS / "3-popup.png", full_page=True)
        with popup.expect_event("close"):  # the done page hands the choice to the order form and closes
            popup.click("#confirm")
        # the order form shows the verified choice and the new amount, and kept what was typed
        expect(page.locator("#mileage-choice")).to_contain_text("네이버 마일리지 사용 500원")
        expect(page.locator("#payable")).to_have_text("4,500원")
        expect(page.locator("#id_orderer_name")).to_have_value("홍길동")
        page.screenshot(path=SHOTS / "4-order-form-with-mileage.png", full_page=True)
        # 적립/사용 again, then 취소 in the popup: it closes, and the form shows what now stands (the choice dropped)
        with page.expect_popup() as popup_info:
            page.click("#mileage-button")
        popup = popup_info.value
        with popup.expect_event("close"):
            popup.click("#cancel")
        expect(page.locator("#payable")).to_have_text("5,000원")
        expect(page.locator("#mileage-choice")).to_have_count(0)
        expect(page.locator("#id_orderer_name")).to_have_value("홍길동")
        # and chosen again, the order goes through with it
        with page.expect_popup() as popup_info:
            page.click("#mileage-button")
        popup = popup_info.value
        popup.fill("#use", "500")
        with popup.expect_event("close"):
            popup.click("#confirm")
        expect(page.locator("#payable")).to_have_text("4,500원")
        page.click("#pay")
        expect(page.locator("h1")).to_have_text("주문완료")
        expect(page.locator("#mileage-line")).to_contain_text("네이버 마일리지 사용 -500원")
        expect(page.locator("#mileage-line")).to_contain_text("6% 적립 예정 270원")
        page.screenshot(path=SHOTS / "5-complete.png", full_page=True)
        assert page.evaluate("() => document.querySelectorAll('script:not([src])').length") == 0
        browser.close()
    assert violations == []
    order = Order.objects.get()
    assert (order.mileage_use_won, order.payable_won, order.mileage.expected_earn_won) == (500, 4_500, 270)
    assert sandbox.balance(buyer)["available"] == 15_000


def test_typed_store_points_reprice_the_form_before_the_payment(browser_shop):
    """A member types 적립금 사용 on the order form: the amounts follow at once (the payment window would otherwise
    charge another amount than the form showed), and a mileage choice made for the old amounts is dropped, said."""
    from playwright.sync_api import expect, sync_playwright

    from portal.orders.models import Order

    from .flows import log_in, mileage_chosen

    sandbox, shop_url = browser_shop
    buyer = sandbox.new_buyer(15_500)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ko-KR", viewport={"width": 1100, "height": 1400})
        violations = csp_violations(page)
        log_in(page, shop_url, "hong", "/shop/p/1/")
        page.click("#buy-now")
        expect(page.locator("#payable")).to_have_text("5,000원")
        mileage_chosen(page, buyer, "500", by_enter=True)  # Enter in the amount confirms it
        expect(page.locator("#payable")).to_have_text("4,500원")
        # when 1,000원 of 적립금 is typed, then the amounts follow and the old choice is said to be gone
        page.fill("#id_store_points", "1000")
        expect(page.locator("#payable")).to_have_text("4,000원")
        expect(page.locator("#mileage-dropped")).to_contain_text("최대 4,000원 사용 가능")
        # a later repricing (the field left, the popup's window noticed closed) keeps the note until a new choice
        page.locator("#id_store_points").blur()
        page.wait_for_load_state("networkidle")
        expect(page.locator("#mileage-dropped")).to_contain_text("최대 4,000원 사용 가능")
        expect(page.locator("#payable")).to_have_text("4,000원")
        page.screenshot(path=SHOTS / "6-order-form-store-points.png", full_page=True)
        # the kept note's most-usable amount follows the amounts as they change again
        page.fill("#id_store_points", "300")
        expect(page.locator("#payable")).to_have_text("4,700원")
        expect(page.locator("#mileage-dropped")).to_contain_text("최대 4,700원 사용 가능")
        # 500 typed and Enter pressed at once: the page shows the amounts first, then the order is placed with them
        page.fill("#id_store_points", "500")
        page.press("#id_store_points", "Enter")
        expect(page.locator("h1")).to_have_text("주문완료")
        browser.close()
    assert violations == []
    order = Order.objects.get()
    assert (order.store_points_won, order.mileage_use_won, order.payable_won) == (500, 0, 4_500)


def test_the_recipient_follows_the_orderer_while_the_same_box_is_ticked_and_a_typed_one_is_never_lost(browser_shop):
    from playwright.sync_api import expect, sync_playwright

    sandbox, shop_url = browser_shop
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ko-KR", viewport={"width": 1100, "height": 1400})
        page.goto(f"{shop_url}/shop/p/1/")
        page.click("#buy-now")
        expect(page.locator("#id_same_as_orderer")).to_be_checked()
        page.fill("#id_orderer_name", "홍길동")
        page.fill("#id_orderer_phone", "010-1234-5678")
        # ticked: the recipient is the orderer, read-only, following what is typed above
        expect(page.locator("#id_recipient_name")).to_have_value("홍길동")
        expect(page.locator("#id_recipient_phone")).to_have_value("010-1234-5678")
        expect(page.locator("#id_recipient_name")).not_to_be_editable()
        # unticked: the buyer types a gift's recipient, and the order goes to that person
        page.uncheck("#id_same_as_orderer")
        expect(page.locator("#id_recipient_name")).to_be_editable()
        page.fill("#id_recipient_name", "김수령")
        page.fill("#id_recipient_phone", "010-9999-8888")
        page.fill("#id_address", "부산 해운대구 우동")
        page.fill("#id_guest_password", "abcd1234")
        page.check("#id_privacy_agreed")
        page.screenshot(path=SHOTS / "order-form-gift-recipient.png", full_page=True)
        page.click("#pay")
        expect(page.locator("#order-number")).to_be_visible()
        expect(page.locator("body")).to_contain_text("김수령")
        browser.close()
