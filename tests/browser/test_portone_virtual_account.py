"""가상계좌 through PortOne's window in a real browser (Chromium), against the PortOne emulator and the provider
sandbox: the buyer has the account issued in the window, 주문완료 shows PortOne's bank, number, holder and deadline;
the deposit (the emulator's test control) sends PortOne's signed webhook to the shop, and the order is 결제완료
without an operator, `stated` sent for its mileage."""

import os

import pytest

from mileage.models import OutboxMessage
from mileage.policy.constants import BUSINESS_TZ
from portal.orders.models import Order, OrderStatus, PaymentStatus

from .flows import order_form_with_mileage
from .test_buyer_path import CHROMIUM, CHROMIUM_ARGS, browser_shop, csp_violations  # noqa: F401
from .test_every_screen import shoot

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                                      reason="Debian chromium is not installed (CI installs it)")]


def test_a_buyer_with_mileage_pays_by_virtual_account_and_the_deposit_confirms_the_order(browser_shop, portone):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    sandbox, shop_url = browser_shop
    buyer = sandbox.new_buyer(15_500)
    portone.control("webhook-url", url=f"{shop_url}/payments/webhooks/portone/")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(locale="ko-KR", viewport={"width": 1366, "height": 1000})
            violations = csp_violations(page)
            order_form_with_mileage(page, shop_url, buyer, "500")
            expect(page.locator("#payable")).to_have_text("4,500원")
            page.check("input[name=payment_method][value=vbank]")
            expect(page.locator("#virtual-account-note")).to_contain_text("15일 이내에 입금해 주세요")

            # 결제하기: the window asks which bank, then issues the account; no token, nothing charged
            page.click("#pay")
            window = page.frame_locator("#portone-window iframe")
            expect(window.locator("#amount")).to_contain_text("4,500")
            expect(window.locator("#vbank-note")).to_be_visible()
            window.locator("#bank").select_option("WOORI")
            shoot(page, 1366, "shop-portone-virtual-account-window", full_page=False)
            window.locator("#pay").click()
            expect(page.locator("h1")).to_have_text("주문완료")
            order = Order.objects.get()
            payment = order.payments.get()
            due = payment.vbank_due_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")
            expect(page.locator("#vbank-bank")).to_have_text("우리은행")
            expect(page.locator("#vbank-number")).to_have_text(payment.vbank_number)
            expect(page.locator("#vbank-holder")).to_have_text("에뮬레이터상점")
            expect(page.locator("#vbank-due")).to_have_text(due)
            shoot(page, 1366, "shop-virtual-account-complete", full_page=False)
            assert order.status == OrderStatus.AWAITING_DEPOSIT

            # the buyer deposits: PortOne's webhook reaches the shop, which confirms the deposit by itself
            deposited = portone.control(f"payments/{payment.gateway_tid}/deposit")
            assert deposited["delivered"] == 200
            page.goto(f"{shop_url}/shop/orders/{order.number}/")
            expect(page.locator("body")).to_contain_text("결제완료")
            browser.close()
    finally:
        portone.control("webhook-url", url="")
    assert violations == []
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payments.get().status == PaymentStatus.APPROVED
    assert (order.mileage_use_won, order.payable_won) == (500, 4_500)
    assert OutboxMessage.objects.filter(order=order, kind="stated").count() == 1
    assert sandbox.balance(buyer)["available"] == 15_000
