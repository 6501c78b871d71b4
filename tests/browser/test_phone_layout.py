"""Issue 24, "Phone": every storefront screen fits a 390 px phone without scrolling sideways; the cart's quantity box
is wide enough to show its value and its headings sit over their cells; My Page's 처리상태 stays on screen; the
category bar shows every name whole (no "골드비" cut at the edge)."""

import os

import pytest
from django.contrib.auth.models import User

from portal.accounts.models import Member
from tests.portal.console.conftest import place

from .flows import log_in
from .test_buyer_path import CHROMIUM, CHROMIUM_ARGS, SHOTS, browser_shop  # noqa: F401
from .test_screens import axe_violations

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                                      reason="Debian chromium is not installed (CI installs it)")]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
SMALL_PHONE = {**PHONE, "viewport": {"width": 375, "height": 667}}  # the console on the narrowest phones in use

FITS = "document.documentElement.scrollWidth <= window.innerWidth"

# the header of each column and the left/right edges of its cells in the first row, for cells shown on the screen
# each shown cell of the cart's first line: its column's name (the stacked card's label), where it ends, and whether
# its text fits inside it
CELLS = """table => [...table.tBodies[0].rows[0].cells].filter(c => c.offsetWidth > 0).map(c => [
  c.dataset.label || "", Math.round(c.getBoundingClientRect().right), c.scrollWidth <= c.clientWidth + 1])"""


@pytest.fixture
def hong(browser_shop):  # noqa: F811
    sandbox, _ = browser_shop
    order, _ = place(sandbox, method="card")
    member = Member.objects.get(user__username="hong")
    order.member = member
    order.save(update_fields=["member"])
    user = User.objects.get(username="hong")
    user.set_password("hong1234!")
    user.save()
    return order


def _fits(page, name: str) -> None:
    """The screen fits the phone and axe-core finds no serious or critical violation on it."""
    page.wait_for_load_state("load")  # its pictures and styles (no screen fetches anything after its load)
    page.screenshot(path=SHOTS / f"phone-{name}.png", full_page=True)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert page.evaluate(FITS), f"{name} scrolls sideways on a phone: {width}"
    violations = axe_violations(page)
    assert not violations, f"{name}: " + "; ".join(violations)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_storefront_fits_a_phone(browser_shop, hong, language):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    _, shop_url = browser_shop
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        phone = browser.new_context(locale="ko-KR", bypass_csp=True, **PHONE)
        phone.add_cookies([{"name": "django_language", "value": language, "url": shop_url}])
        page = phone.new_page()
        page.goto(f"{shop_url}/shop/")
        _fits(page, f"{language}-shop")
        # every category's name is whole on screen: the bar wraps rather than cutting the last one at the edge
        links = page.locator(".category-bar .nav-link")
        for i in range(links.count()):
            box = links.nth(i).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, f"{links.nth(i).inner_text()} is cut: {box}"
        category = links.nth(1).get_attribute("href")
        page.goto(f"{shop_url}{category}")
        _fits(page, f"{language}-category")
        for code in ("1", "2"):
            page.goto(f"{shop_url}/shop/p/{code}/")
            _fits(page, f"{language}-product-{code}")
            page.click("#add-to-cart")
        page.goto(f"{shop_url}/shop/cart/")
        _fits(page, f"{language}-cart")
        # the quantity box is wide enough for a thumb and shows its value
        quantity = page.locator("#qty-1")
        expect(quantity).to_be_visible()
        assert quantity.bounding_box()["width"] >= 44
        assert quantity.evaluate("e => e.scrollWidth <= e.clientWidth && e.value === '1'")
        assert quantity.bounding_box()["x"] + quantity.bounding_box()["width"] <= 390
        # a line of the cart is a card on a phone: every cell on screen, whole, named by its column (the picture's
        # cell is hidden); none cut at the screen's edge, the total (합계) included
        cells = page.locator(".cart-table").evaluate(CELLS)
        assert tuple(label for label, _right, _fits_in in cells) == [
            ("상품명", "판매가", "수량", "합계"), ("Product name", "Price", "Quantity", "Total")][language == "en"]
        for label, right, fits_in in cells:
            assert right <= 390 and fits_in, f"{label} is cut: ends at {right}"
        page.goto(f"{shop_url}/shop/order/")
        _fits(page, f"{language}-order-form")
        page.goto(f"{shop_url}/shop/guest/")
        _fits(page, f"{language}-guest-lookup")
        for path in ("/earn-base/", "/exchange-policy/", "/"):
            if page.goto(f"{shop_url}{path}").status < 400:
                _fits(page, f"{language}-page{path.replace('/', '-')}")
        # My Page: every order's 처리상태 is on screen
        log_in(page, shop_url, "hong", "/shop/mypage/")
        expect(page.locator("#my-orders")).to_contain_text(hong.number)
        _fits(page, f"{language}-mypage")
        status = page.locator("#my-orders .status-cell .badge").first
        expect(status).to_be_in_viewport(ratio=1)
        box = status.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= 390
        page.click(f"text={hong.number}")
        expect(page.locator("#order-number")).to_have_text(hong.number)
        _fits(page, f"{language}-order-detail")
        # its lines are cards too: every cell on screen, whole, named by its column (수량 and 합계 were cut off)
        cells = page.locator("table.lines").evaluate(CELLS)
        assert tuple(label for label, _right, _fits_in in cells) == [
            ("상품명", "판매가", "수량", "합계"), ("Product name", "Price", "Quantity", "Total")][language == "en"]
        for label, right, fits_in in cells:
            assert right <= 390 and fits_in, f"{label} is cut: ends at {right}"
        # the statement's amounts stay right-aligned and inside the screen
        for cell in page.locator("#statement td.won").all():
            box = cell.bounding_box()
            assert box["x"] + box["width"] <= 390
        phone.close()
        browser.close()


# the right edges of a heading and of the cells under it, for each column whose cells are amounts
AMOUNTS = """table => {
  const heads = [...table.tHead.rows[0].cells];
  return [...table.tBodies[0].rows[0].cells].map((cell, i) => [cell, heads[i]])
    .filter(([cell, head]) => cell.classList.contains('won') && head)
    .map(([cell, head]) => [head.textContent.trim(), Math.round(head.getBoundingClientRect().right),
                            Math.round(cell.getBoundingClientRect().right)]);
}"""


def test_console_fits_a_phone_and_its_amounts_sit_under_their_headings(browser_shop):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    from portal.aftersales.cancellations import order_cancel_after_payment
    from portal.aftersales.common import RefundInput
    from portal.orders.models import Payment
    from portal.orders.money import payment_cancel

    sandbox, shop_url = browser_shop
    order, _ = place(sandbox, method="card")
    # and an order cancelled after payment, its card given back by 결제취소, with a PG's long payment id
    cancelled, _ = place(sandbox, method="card")
    order_cancel_after_payment(order=cancelled, by=None, data=RefundInput(
        cash_won=0, store_points_won=0, mileage_won=cancelled.mileage_use_won))
    payment_cancel(payment=cancelled.payments.get(), amount_won=1_000, key="phone-layout")
    Payment.objects.filter(order=cancelled).update(gateway_tid="pay-" + "0123456789abcdef" * 3)  # 52 of its 60 characters
    # and the first order with an exchange's 추가입금 recorded (its line: the day, the shop's account, the status)
    from django.db import transaction

    from portal.orders.money import payment_additional_deposit

    with transaction.atomic():
        payment_additional_deposit(order=order, amount_won=25_500,
                                   bank_account="기업은행 11231-23-2123 (예금주: (주)마일리지샵)")
    user = User.objects.get(username="operator")
    user.set_password("operator1234!")
    user.save()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for language in ("ko", "en"):
            phone = browser.new_context(locale="ko-KR", bypass_csp=True, **SMALL_PHONE)
            phone.add_cookies([{"name": "django_language", "value": language, "url": shop_url}])
            page = phone.new_page()
            log_in(page, shop_url, "operator", "/console/")
            expect(page.locator("#mileage-chart")).to_be_visible()
            for path in ("/console/", "/console/orders/", f"/console/orders/{order.number}/",
                         f"/console/orders/{cancelled.number}/", f"/console/orders/{order.number}/exchange/",
                         "/console/refunds/",
                         "/console/outbox/", "/console/mileage/settings/", "/console/mileage/exclusions/",
                         "/console/mileage/rates/", "/console/mileage/settlement/", "/console/invoices/"):
                page.goto(f"{shop_url}{path}")
                _fits(page, f"{language}-console{path.replace('/', '-')}")
            phone.close()
        desk = browser.new_context(locale="ko-KR", viewport={"width": 1366, "height": 900}, bypass_csp=True)
        page = desk.new_page()
        log_in(page, shop_url, "operator", "/console/mileage/exclusions/")
        for path in ("/console/mileage/exclusions/", "/console/orders/"):
            page.goto(f"{shop_url}{path}")
            columns = page.locator(".console-main table").first.evaluate(AMOUNTS)
            assert columns, f"{path}: no amount column found"
            for heading, head_right, cell_right in columns:
                assert abs(head_right - cell_right) <= 2, f"{path}: {heading!r} is not over its amounts"
        desk.close()
        browser.close()
