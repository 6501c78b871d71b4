"""Every screen of the three audiences at 1366 px and at 390 px: axe-core finds no serious or critical violation,
the phone width never scrolls sideways, and each screen leaves a screenshot per width in test-artifacts/screenshots/
(with README_SCREENSHOTS=1 — `make screenshots` — in docs/screenshots/1366/ and docs/screenshots/390/, the pictures
a reviewer judges the screens by)."""

import os

import pytest
from django.contrib.auth.models import User

from portal.accounts.models import Member
from portal.aftersales.cancellations import order_cancel_after_payment
from portal.aftersales.common import RefundInput
from portal.aftersales.fulfilment import order_deliver, order_ship
from tests.portal.console.conftest import place

from .flows import LOGINS, log_in
from .test_buyer_path import CHROMIUM, CHROMIUM_ARGS, SHOTS, browser_shop  # noqa: F401
from .test_screens import README_SHOTS, axe_violations

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                                      reason="Debian chromium is not installed (CI installs it)")]

WIDTHS = {1366: {"viewport": {"width": 1366, "height": 900}},
          390: {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}}


def _screens(paid, shipped, refund) -> dict[str | None, list[tuple[str, str]]]:
    """(name, path) of every screen, per login (None: a guest)."""
    return {
        None: [("shop-home", "/shop/"), ("shop-category", "/shop/c/clothes/"), ("shop-product", "/shop/p/1/"),
               ("shop-benefits", "/shop/mileage/"), ("shop-guest-lookup", "/shop/guest/"),
               ("page-home", "/"), ("page-service", "/service/"), ("page-earn-base", "/earn-base/"),
               ("page-exchange-policy", "/exchange-policy/"), ("page-help", "/help/"),
               ("page-help-how-to-use", "/help/how-to-use/"), ("login", "/accounts/login/"),
               ("join", "/accounts/join/")],
        "hong": [("shop-cart", "/shop/cart/"), ("shop-order-form", "/shop/order/"),
                 ("shop-order-complete", f"/shop/order/{paid.number}/complete/"), ("shop-mypage", "/shop/mypage/"),
                 ("shop-order-detail", f"/shop/orders/{paid.number}/")],
        "operator": [("console-dashboard", "/console/"), ("console-orders", "/console/orders/"),
                     ("console-order-detail", f"/console/orders/{paid.number}/"),
                     ("console-cancel", f"/console/orders/{paid.number}/cancel/"),
                     ("console-shipped-order", f"/console/orders/{shipped.number}/"),
                     ("console-return", f"/console/orders/{shipped.number}/return/"),
                     ("console-exchange", f"/console/orders/{shipped.number}/exchange/"),
                     ("console-refunds", "/console/refunds/"),
                     ("console-refund-method", f"/console/refunds/{refund.pk}/method/"),
                     ("console-invoices", "/console/invoices/"), ("console-receipts", "/console/receipts/"),
                     ("console-outbox", "/console/outbox/"), ("console-mileage-about", "/console/mileage/about/"),
                     ("console-mileage-settings", "/console/mileage/settings/"),
                     ("console-exclusions", "/console/mileage/exclusions/"),
                     ("console-rates", "/console/mileage/rates/"),
                     ("console-settlement", "/console/mileage/settlement/")],
        "editor": [("cms-dashboard", "/cms/"), ("cms-pages", "/cms/pages/")],
        "privacy": [("console-access-log", "/console/access-log/")],
    }


@pytest.fixture
def orders(browser_shop):  # noqa: F811
    """A member's card order (결제완료), a shipped and delivered one (반품 and 교환 take it), and one cancelled before
    shipping whose refund waits."""
    sandbox, _ = browser_shop
    operator = User.objects.get(username="operator")
    for username, password in LOGINS.items():
        user = User.objects.get(username=username)
        user.set_password(password)
        user.save()
    hong = Member.objects.get(user__username="hong")
    paid, shipped, cancelled = (place(sandbox, method="card")[0] for _ in range(3))
    order_ship(order=shipped, invoice_no="123456789012", carrier="cj", by=operator)
    order_deliver(order=shipped, by=operator)
    for order in (paid, shipped):
        order.member = hong
        order.save(update_fields=["member"])
    refund = order_cancel_after_payment(order=cancelled, by=operator, data=RefundInput(
        cash_won=cancelled.payable_won, store_points_won=0, mileage_won=cancelled.mileage_use_won))
    return paid, shipped, refund


def _login(page, shop_url: str, username: str) -> None:
    log_in(page, shop_url, username)
    page.wait_for_load_state("networkidle")


def shoot(page, width: int, name: str, *, full_page: bool = True) -> None:
    """A screen's picture in test-artifacts/screenshots/ (and docs/screenshots/<width>/ with README_SCREENSHOTS=1);
    `full_page=False` for what lies over the viewport (a payment window)."""
    page.screenshot(path=SHOTS / f"every-{width}-{name}.png", full_page=full_page)
    if os.environ.get("README_SCREENSHOTS") == "1":
        (README_SHOTS / str(width)).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=README_SHOTS / str(width) / f"{name}.png", full_page=full_page)


@pytest.mark.parametrize("width", WIDTHS)  # one test per width, so that the suite's workers share them
def test_every_screen_at_both_widths(browser_shop, orders, width):  # noqa: F811
    from playwright.sync_api import sync_playwright

    _, shop_url = browser_shop
    screens = _screens(*orders)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for options in (WIDTHS[width],):
            for login, pages in screens.items():
                context = browser.new_context(locale="ko-KR", bypass_csp=True, **options)
                page = context.new_page()
                if login == "hong":
                    page.goto(f"{shop_url}/shop/p/1/")
                    page.click("#add-to-cart")
                if login is not None:
                    _login(page, shop_url, login)
                for name, path in pages:
                    response = page.goto(f"{shop_url}{path}")
                    if response.status >= 400:
                        problems.append(f"{width} {name}: {path} answered {response.status}")
                        continue
                    # goto has waited for the page's load (its scripts, styles and pictures); no screen fetches
                    # anything after it, so there is no network to wait out
                    shoot(page, width, name)
                    if width == 390 and not page.evaluate(
                            "document.documentElement.scrollWidth <= window.innerWidth"):
                        problems.append(f"390 {name}: scrolls sideways")
                    problems += [f"{width} {name}: {line}" for line in axe_violations(page)]
                context.close()
        browser.close()
    assert not problems, "\n".join(problems)
