"""An operator walks §7 in a real browser: a paid order → 주문취소 (배송전) → 환불관리 → 환불완료, with screenshots."""

import os

import pytest
from django.contrib.auth.models import User

from tests.portal.console.conftest import place

from .flows import log_in
from .test_buyer_path import (  # noqa: F401
    BROWSER_GATEWAY,
    CHROMIUM,
    CHROMIUM_ARGS,
    SHOTS,
    browser_shop,
    csp_violations,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                                      reason="Debian chromium is not installed (CI installs it)")]


def test_operator_cancels_after_payment_and_completes_the_refund(browser_shop):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    sandbox, shop_url = browser_shop
    order, buyer = place(sandbox, method="card")
    user = User.objects.get(username="operator")
    user.set_password("operator1234!")
    user.save()
    assert sandbox.balance(buyer)["available"] == 15_000
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ko-KR", viewport={"width": 1200, "height": 1200})
        violations = csp_violations(page)
        log_in(page, shop_url, "operator", "/console/orders/")
        expect(page.locator("h1")).to_have_text("주문조회/취소/교환")
        expect(page.locator(".mileage-badge").first).to_be_visible()
        page.screenshot(path=SHOTS / "op-1-orders.png", full_page=True)
        page.click(f"text={order.number}")
        expect(page.locator("#mileage-summary")).to_contain_text("-500원 사용 · 1% 적립")
        page.screenshot(path=SHOTS / "op-2-detail.png", full_page=True)
        page.get_by_role("button", name="주문취소", exact=True).click()  # the manual's [주문취소] 버튼
        expect(page.locator("#mileage-return")).to_contain_text("최대 500원 까지 환불가능")
        # typing less than was charged says, before anything is sent, what this cancel would not give back
        expect(page.locator("#refund-kept")).to_be_hidden()
        page.fill("#id_cash_won", "4000")
        expect(page.locator("#refund-kept")).to_be_visible()
        expect(page.locator("#refund-kept-won")).to_have_text("500원")
        page.screenshot(path=SHOTS / "op-3a-cancel-keeping.png", full_page=True)
        page.fill("#id_cash_won", "4500")
        expect(page.locator("#refund-kept")).to_be_hidden()
        page.screenshot(path=SHOTS / "op-3-cancel.png", full_page=True)
        page.click("#cancel-complete")
        expect(page.locator("#order-status")).to_have_text("주문취소")
        page.click("text=환불관리")
        page.check("input[name=selection]")
        page.screenshot(path=SHOTS / "op-4-refunds.png", full_page=True)
        page.click("#refund-complete")
        expect(page.locator("h1")).to_have_text("환불완료 확인")  # what will move, before anything moves
        expect(page.locator("#refund-preview")).to_contain_text("카드취소 4,500원")
        page.screenshot(path=SHOTS / "op-4b-confirm.png", full_page=True)
        page.click("#refund-confirm")
        expect(page.locator(".messages")).to_contain_text("환불완료 1건")
        page.screenshot(path=SHOTS / "op-5-done.png", full_page=True)
        browser.close()
    assert violations == []
    assert sandbox.balance(buyer)["available"] == 15_500 and sandbox.balance(buyer)["pending"] == 0
    payment = order.payments.get()
    assert payment.status == "cancelled" and payment.cancels.get().amount_won == 4_500  # the card, not only the mileage
    # cancelled where it was charged: at PortOne when the shop is on it (its own record says so), else TEST-PG
    assert payment.gateway == ("PortOne" if BROWSER_GATEWAY == "portone" else "TEST-PG (테스트 결제)")
    if BROWSER_GATEWAY == "portone":
        from portal.orders.gateway import get_gateway

        charged = get_gateway("PortOne").client.get_payment(payment_id=payment.gateway_tid)
        assert type(charged).__name__ == "CancelledPayment" and charged.amount.cancelled == 4_500
