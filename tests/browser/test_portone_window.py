"""Paying through PortOne's window in a real browser (Chromium), against the PortOne emulator and the provider
sandbox: the vendored @portone/browser-sdk loads the emulator's stand-in script, the window shows the amount the
server pre-registered; cancelled, the order form says so and keeps everything; paid, the order is 결제완료, PortOne
holds exactly the payable amount and the mileage is approved at the provider."""

import os

import pytest

from mileage.models import TransactionState
from portal.catalog.models import Product
from portal.orders.models import Order, OrderStatus

from .flows import order_form_with_mileage
from .test_buyer_path import CHROMIUM, CHROMIUM_ARGS, browser_shop, csp_violations  # noqa: F401
from .test_every_screen import shoot

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                                      reason="Debian chromium is not installed (CI installs it)")]


def test_a_buyer_with_mileage_pays_by_card_in_portones_window_after_cancelling_it_once(browser_shop, portone):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    from portal.orders.gateway import get_gateway

    sandbox, shop_url = browser_shop
    buyer = sandbox.new_buyer(15_500)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ko-KR", viewport={"width": 1366, "height": 1000})
        violations = csp_violations(page)
        order_form_with_mileage(page, shop_url, buyer, "500")
        expect(page.locator("#payable")).to_have_text("4,500원")
        page.check("input[name=payment_method][value=card]")

        # 결제하기: the window over the order form, for the amount the server pre-registered
        page.click("#pay")
        window = page.frame_locator("#portone-window iframe")
        expect(window.locator("#amount")).to_contain_text("4,500")
        expect(window.locator("#order-name")).to_have_text(Product.objects.get(code="1").name)
        expect(window.locator("#pay")).to_be_visible()
        shoot(page, 1366, "shop-portone-window", full_page=False)
        # cancelled in the window: a message on the form, nothing placed, the inputs and the mileage choice kept
        window.locator("#cancel").click()
        expect(page.locator("#payment-window-message")).to_contain_text("결제를 취소했습니다")
        expect(page.locator("#portone-window")).to_have_count(0)
        expect(page.locator("#id_orderer_name")).to_have_value("홍길동")
        expect(page.locator("#mileage-choice")).to_contain_text("네이버 마일리지 사용 500원")
        shoot(page, 1366, "shop-portone-window-cancelled", full_page=False)
        assert not Order.objects.exists()

        # 결제하기 again, 결제하기 in the window: 주문완료
        page.click("#pay")
        page.frame_locator("#portone-window iframe").locator("#pay").click()
        expect(page.locator("h1")).to_have_text("주문완료")
        browser.close()
    assert violations == []
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID and (order.mileage_use_won, order.payable_won) == (500, 4_500)
    payment = order.payments.get()
    at_pg = get_gateway().client.get_payment(payment_id=payment.gateway_tid)
    assert type(at_pg).__name__ == "PaidPayment" and at_pg.amount.paid == 4_500 == at_pg.amount.total
    assert order.mileage.state in (TransactionState.APPROVED, TransactionState.STATED)  # approved at the provider
    assert sandbox.balance(buyer)["available"] == 15_000 and sandbox.balance(buyer)["held"] == 0
