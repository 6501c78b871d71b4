"""현금영수증 in a real browser: the buyer asks for a 소득공제용 receipt with 무통장입금 (the fields show only with a
cash-like method), the operator presses 입금확인 and 주문상세정보 shows its 승인번호; after a partial return is paid
back the receipt is cancelled and the next one, for what is left, shows there."""

import os

import pytest
from django.contrib.auth.models import User
from django.test import Client

from portal.aftersales.models import Refund, ReturnRequest
from portal.orders.models import CashReceipt, CashReceiptStatus, Order

from .flows import log_in
from .test_buyer_path import CHROMIUM, CHROMIUM_ARGS, SHOTS, browser_shop, csp_violations  # noqa: F401

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                                      reason="Debian chromium is not installed (CI installs it)")]


def _return_one_and_refund(order) -> None:
    """The return and its refund are not what this walk checks: done through the console's own actions."""
    staff = Client()
    staff.force_login(User.objects.get(username="operator"))
    staff.post(f"/console/orders/{order.number}/action/ship/", {"carrier": "cj", "invoice_no": "6541111"})
    staff.post(f"/console/orders/{order.number}/action/deliver/")
    line = order.lines.get()
    response = staff.post(f"/console/orders/{order.number}/return/", {
        f"qty_{line.pk}": "1", "cash_won": "5000", "store_points_won": "0", "mileage_won": "0",
        "shipping_deduction_won": "0", "method": "cash", "bank": "농협", "account_no": "302-1234-5678",
        "holder": "홍길동"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    returned = ReturnRequest.objects.get(order=order)
    staff.post(f"/console/returns/{returned.pk}/shipping/")
    staff.post(f"/console/returns/{returned.pk}/complete/")
    refund = Refund.objects.get(order=order)
    staff.post("/console/refunds/", {"selection": [refund.pk], "confirm": "1"})
    refund.refresh_from_db()
    assert refund.status == "done"


def test_a_bank_deposit_receipt_is_issued_at_the_deposit_and_reissued_after_a_partial_return(browser_shop):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    sandbox, shop_url = browser_shop
    user = User.objects.get(username="operator")
    user.set_password("operator1234!")
    user.save()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ko-KR", viewport={"width": 1100, "height": 1400})
        violations = csp_violations(page)
        # the buyer orders two 5,000원 products by 무통장입금
        page.goto(f"{shop_url}/shop/p/1/")
        page.fill("#id_quantity", "2")
        page.click("#buy-now")
        expect(page.locator("h1")).to_have_text("주문서작성")
        page.fill("#id_orderer_name", "홍길동")
        page.fill("#id_orderer_phone", "010-1234-5678")
        page.fill("#id_address", "서울 동작구 신대방2동")
        page.fill("#id_guest_password", "abcd1234")
        page.check("#id_privacy_agreed")
        # the receipt's fields go with a card and come back with a cash-like method
        # (as do the 입금자명 with 무통장입금, the card number with 신용카드 and the 가상계좌 note with 가상계좌)
        receipt_box, depositor = page.locator("#cash-receipt"), page.locator("#id_depositor_name")
        # (the card number is the TEST gateway's: with PortOne the card is typed in its window, no field here)
        card, vbank_note = page.locator("#id_card_number"), page.locator("#virtual-account-note")
        has_card_field = card.count() > 0
        expect(receipt_box).to_be_visible()  # 무통장입금 is chosen at first
        expect(depositor).to_be_visible()
        expect(vbank_note).to_be_hidden()
        page.check("input[name=payment_method][value=card]")
        expect(receipt_box).to_be_hidden()
        expect(depositor).to_be_hidden()
        if has_card_field:
            expect(card).to_be_visible()
        page.check("input[name=payment_method][value=vbank]")
        expect(vbank_note).to_be_visible()
        expect(receipt_box).to_be_visible()
        if has_card_field:
            expect(card).to_be_hidden()
        page.check("input[name=payment_method][value=bank]")
        expect(receipt_box).to_be_visible()
        expect(depositor).to_be_visible()
        # a wrong number is refused on its field, the rest kept
        page.check("input[name=cash_receipt_kind][value=personal]")
        page.fill("#id_cash_receipt_identifier", "010-98")
        page.click("#pay")
        expect(page.locator("#cash-receipt")).to_contain_text("현금영수증 휴대폰번호는 010-1234-5678처럼 입력해 주세요.")
        expect(page.locator("#id_orderer_name")).to_have_value("홍길동")
        assert not Order.objects.exists()
        page.fill("#id_guest_password", "abcd1234")  # a password field is not sent back
        page.fill("#id_cash_receipt_identifier", "010-9876-5432")
        page.screenshot(path=SHOTS / "cr-1-order-form.png", full_page=True)
        page.click("#pay")
        expect(page.locator("h1")).to_have_text("주문완료")
        expect(page.locator("#cash-receipts")).to_contain_text("발급요청")
        expect(page.locator("#cash-receipts")).to_contain_text("*******5432")
        expect(page.locator("#cash-receipts")).not_to_contain_text("9876")
        order = Order.objects.get()
        # the operator confirms the deposit on 주문상세정보
        log_in(page, shop_url, "operator", f"/console/orders/{order.number}/")
        page.click("#actions button:has-text('입금확인')")
        first = CashReceipt.objects.get(payment__order=order)
        assert first.status == CashReceiptStatus.ISSUED and first.amount_won == 10_000
        receipts = page.locator("#cash-receipts")
        expect(receipts).to_contain_text(first.approval_number)
        expect(receipts).to_contain_text("발급완료")
        expect(receipts).to_contain_text("소득공제용")
        expect(receipts).to_contain_text("10,000원")
        page.screenshot(path=SHOTS / "cr-2-issued.png", full_page=True)
        # one of the two is returned and its 5,000원 paid back: the receipt is reissued for 5,000원
        _return_one_and_refund(order)
        page.reload()
        first.refresh_from_db()
        second = CashReceipt.objects.get(payment__order=order, sequence=2)
        assert first.status == CashReceiptStatus.CANCELLED and second.amount_won == 5_000
        expect(page.locator("#cash-receipt-1")).to_contain_text("발급취소")
        expect(page.locator("#cash-receipt-2")).to_contain_text(second.approval_number)
        expect(page.locator("#cash-receipt-2")).to_contain_text("5,000원")
        page.screenshot(path=SHOTS / "cr-3-reissued.png", full_page=True)
        browser.close()
    assert violations == []
