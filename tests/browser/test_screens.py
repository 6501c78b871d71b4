"""Each audience's main screens in a real browser: axe-core finds no serious or critical violation, and every
screen leaves a screenshot in test-artifacts/screenshots/ (and, with README_SCREENSHOTS=1 — `make screenshots` —
the README's pictures in docs/screenshots/)."""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from portal.demo.merchant import load_product_images
from tests.portal.console.conftest import place

from .flows import log_in
from .test_buyer_path import CHROMIUM, CHROMIUM_ARGS, SHOTS, browser_shop  # noqa: F401

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                                      reason="Debian chromium is not installed (CI installs it)")]

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
README_SHOTS = ROOT / "docs" / "screenshots"
BLOCKING = ("serious", "critical")


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, as readable lines."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['impact']} {v['id']}: {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:5])
            for v in result["violations"] if v["impact"] in BLOCKING]


def shoot(page, name: str, readme: str | None = None, *, full_page: bool = True) -> None:
    page.screenshot(path=SHOTS / f"{name}.png", full_page=full_page)
    if readme and os.environ.get("README_SCREENSHOTS") == "1":
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=README_SHOTS / f"{readme}.png", full_page=full_page)


def check(page, name: str, readme: str | None = None, *, full_page: bool = True) -> list[str]:
    page.wait_for_load_state("networkidle")
    shoot(page, name, readme, full_page=full_page)
    return [f"{name}: {line}" for line in axe_violations(page)]


@pytest.fixture
def pictures(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    load_product_images()


def test_main_screens_pass_axe_and_leave_screenshots(browser_shop, pictures):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    sandbox, shop_url = browser_shop
    order, buyer = place(sandbox, method="card")
    user = User.objects.get(username="operator")
    user.set_password("operator1234!")
    user.save()
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        # the buyer: shop home, product, order form with the popup's choice — desktop and a 390 px phone
        shop = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page = shop.new_page()
        page.goto(f"{shop_url}/shop/")
        expect(page.locator(".product-card").first).to_be_visible()
        problems += check(page, "shop-home", "shop-desktop", full_page=False)
        page.goto(f"{shop_url}/shop/p/D0SELF0012179/")
        expect(page.locator("#mileage-rate")).to_contain_text("네이버 마일리지")
        problems += check(page, "shop-product", "shop-product", full_page=False)
        page.click("#buy-now")
        expect(page.locator("h1")).to_have_text("주문서작성")
        page.fill("#id_orderer_name", "홍길동")
        page.fill("#id_orderer_phone", "010-1234-5678")
        page.fill("#id_address", "서울 동작구 신대방2동")
        problems += check(page, "shop-order-form", "order-form")
        shop.close()
        phone = browser.new_context(locale="ko-KR", viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                    is_mobile=True, has_touch=True, bypass_csp=True)
        page = phone.new_page()
        page.goto(f"{shop_url}/shop/")
        problems += check(page, "shop-home-phone", "shop-phone", full_page=False)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the shop scrolls sideways on a phone"
        page.goto(f"{shop_url}/shop/p/1/")
        problems += check(page, "shop-product-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        phone.close()

        # the operator: dashboard, order queue, order detail, cancel → refund queue, mileage settings
        console = browser.new_context(locale="ko-KR", viewport={"width": 1366, "height": 900}, bypass_csp=True)
        page = console.new_page()
        log_in(page, shop_url, "operator", "/console/")
        expect(page.locator("h1")).to_have_text("대시보드")
        expect(page.locator("#mileage-chart")).to_be_visible()
        problems += check(page, "console-dashboard", "console-dashboard")
        page.click(".console-menu >> text=주문조회/취소/교환")
        expect(page.locator("h1")).to_have_text("주문조회/취소/교환")
        problems += check(page, "console-orders")
        page.click(f"text={order.number}")
        expect(page.locator("#breadcrumb")).to_contain_text("주문상세정보")
        problems += check(page, "console-order-detail", "console-order-detail")
        page.click("#cancel-button")
        problems += check(page, "console-cancel")
        page.click("#cancel-complete")
        page.click(".console-menu >> text=환불관리")
        expect(page.locator("#refund-form")).to_contain_text(order.number)
        problems += check(page, "console-refunds", "console-refunds")
        page.click(".refund-method-change >> nth=0")
        expect(page.locator("h1")).to_contain_text("환불 방식 변경")
        problems += check(page, "console-refund-method")
        page.click(".console-menu >> text=송장 일괄등록")
        expect(page.locator("h1")).to_contain_text("송장 일괄등록")
        problems += check(page, "console-invoice-upload")
        page.click(".console-menu >> text=노출설정 및 셋팅")
        expect(page.locator("#breadcrumb")).to_contain_text("상점관리")
        problems += check(page, "console-mileage-settings")
        page.click(".console-menu >> text=정산")
        problems += check(page, "console-settlement")
        console.close()
        browser.close()
    assert not problems, "\n".join(problems)
