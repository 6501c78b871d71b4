"""An operator walks §6, §8 and §9 in a real browser on orders placed with mileage: 입금전 취소 returns the use at
once, a partial return gives back part of it after 반송완료 and 환불완료, and an exchange up keeps the original earn
basis; each checked on the provider's side. `make pytest-standard` runs it against a provider of the public protocol
alone as well (ADR 0011)."""

import os

import pytest
from django.contrib.auth.models import User
from django.test import Client

from portal.aftersales.models import RefundStatus, ReturnRequest
from portal.orders.models import OrderStatus
from tests.portal.console.conftest import place

from .flows import log_in
from .test_buyer_path import CHROMIUM, CHROMIUM_ARGS, SHOTS, browser_shop, csp_violations  # noqa: F401

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                                      reason="Debian chromium is not installed (CI installs it)")]


def _deliver(order) -> None:
    """Shipping and delivery are not what this walk checks: done through the console's own actions."""
    staff = Client()
    staff.force_login(User.objects.get(username="operator"))
    staff.post(f"/console/orders/{order.number}/action/ship/", {"carrier": "cj", "invoice_no": "6541111"})
    staff.post(f"/console/orders/{order.number}/action/deliver/")
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED


def test_cancel_before_payment_partial_return_and_exchange_through_the_screens(browser_shop):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    sandbox, shop_url = browser_shop
    unpaid, unpaid_buyer = place(sandbox)  # bank transfer, 500원 used, 입금전
    returned, return_buyer = place(sandbox, method="card", quantity="2", use=1_000)  # 10,000원, 1,000원 used
    exchanged, exchange_buyer = place(sandbox, method="card")  # 5,000원, 500원 used
    _deliver(returned)
    _deliver(exchanged)
    user = User.objects.get(username="operator")
    user.set_password("operator1234!")
    user.save()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ko-KR", viewport={"width": 1200, "height": 1200})
        violations = csp_violations(page)
        log_in(page, shop_url, "operator", f"/console/orders/{unpaid.number}/")
        # §6 입금전 취소: the use comes back at once
        page.click("#cancel-button")
        expect(page.locator("#mileage-return")).to_contain_text("500원 (최대 500원 까지 환원 가능)")
        page.screenshot(path=SHOTS / "as-1-cancel-before.png", full_page=True)
        page.click("#cancel-complete")
        expect(page.locator("#order-status")).to_have_text("주문취소")
        assert sandbox.balance(unpaid_buyer)["available"] == 15_500
        # §8 a partial return: one of two, 700원 of the 1,000원
        page.goto(f"{shop_url}/console/orders/{returned.number}/return/")
        line = returned.lines.get()
        page.fill(f"input[name=qty_{line.pk}]", "1")
        page.fill("#id_cash_won", "4300")  # the item's 5,000원 with the mileage: at most what the goods cost
        page.fill("#id_mileage_won", "700")
        page.select_option("#id_method", "card")
        # the lines under the amounts follow what is typed: 총 환불액, 카드취소/현금환불액, 네이버 마일리지 반환액
        expect(page.locator("[data-sum=total]")).to_have_text("4,300원")
        expect(page.locator("[data-sum=payout]")).to_have_text("4,300원")
        expect(page.locator("[data-sum=mileage]")).to_have_text("700원")
        page.screenshot(path=SHOTS / "as-2-return.png", full_page=True)
        page.click("#return-submit")
        page.click("button:has-text('반송중')")
        page.click("button:has-text('반송완료')")
        refund = ReturnRequest.objects.get(order=returned).refund
        page.goto(f"{shop_url}/console/refunds/?status=before")
        page.check(f"input[name=selection][value='{refund.pk}']")
        page.click("#refund-complete")
        expect(page.locator("h1")).to_have_text("환불완료 확인")  # what will move, before anything moves
        page.click("#refund-confirm")
        expect(page.locator(".messages")).to_contain_text("환불완료 1건")
        page.screenshot(path=SHOTS / "as-3-return-refunded.png", full_page=True)
        refund.refresh_from_db()
        assert refund.status == RefundStatus.DONE
        balance = sandbox.balance(return_buyer)
        assert balance["available"] == 15_500 - 300 and balance["pending"] == 47  # (5,000 − 300) × 1%
        # §9 an exchange up (5,000원 → 30,000원): 500원 returned, 25,500원 to pay, the earn stays on 4,500원
        page.goto(f"{shop_url}/console/orders/{exchanged.number}/exchange/")
        page.fill(f"input[name=qty_{exchanged.lines.get().pk}]", "1")
        page.fill("input[name=new_6]", "1")
        page.fill("#id_mileage_returned_won", "500")
        page.click("button[value=quote]")
        expect(page.locator("#additional")).to_have_text("25,500원")
        expect(page.locator("#earn-basis")).to_have_text("4,500원")
        page.screenshot(path=SHOTS / "as-4-exchange.png", full_page=True)
        page.click("#exchange-complete")
        expect(page.locator("h1")).to_contain_text("주문상세정보")
        browser.close()
    assert violations == []
    last = sandbox.balance(exchange_buyer)["transactions"][-1]
    assert sandbox.balance(exchange_buyer)["available"] == 15_500
    assert (last["earn"], last["amount"]) == (45, 4_500)
