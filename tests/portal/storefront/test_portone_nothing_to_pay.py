"""An order the Naver mileage pays in whole, with PortOne as the gateway (issue 23): as on the TEST gateway it is
placed without any payment at the PG — no window opens, nothing is pre-registered or confirmed — the mileage is
approved by the provider first, and the order is 결제완료 — whatever method was chosen, 무통장입금 included (no 0원
deposit is awaited, no 가상계좌 issued). Against the provider sandbox and the PortOne emulator."""

import io

import pytest
from django.core import mail
from pypdf import PdfReader

from mileage.models import TransactionState
from portal.orders.models import Order, OrderStatus, PaymentStatus
from portal.receipts.render import receipt_pdf
from tests.portone_process import window_opened

from .conftest import GUEST, buyer_with_choice

pytestmark = pytest.mark.sandbox

CARD = {**GUEST, "payment_method": "card", "card_number": ""}


def test_an_order_the_mileage_pays_in_whole_opens_no_window_and_is_paid(shop, portone):
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 5_000, product="1")  # 5,000원, no shipping fee
    # 결제하기: the server answers "post the form" rather than a window to open
    answer = browser.post("/shop/order/payment-window/", CARD)
    assert answer.status_code == 200 and answer.json() == {"ok": False, "submit": True, "nothing_to_pay": True}
    assert "payment_window" not in browser.session  # nothing pre-registered at PortOne
    response = browser.post("/shop/order/", CARD)
    assert response.status_code == 302, response.content.decode()[-1500:]
    order = Order.objects.get()
    payment = order.payments.get()
    assert (order.status, order.mileage_use_won, order.payable_won) == (OrderStatus.PAID, 5_000, 0)
    assert (payment.gateway, payment.gateway_tid, payment.amount_won, payment.status) == (
        "PortOne", "", 0, PaymentStatus.APPROVED)
    assert order.mileage.state in (TransactionState.APPROVED, TransactionState.STATED) and order.mileage.tx_id
    assert shop.balance(buyer)["available"] == 10_500  # the mileage used once
    complete = browser.get(f"/shop/order/{order.number}/complete/").content.decode()
    assert "결제완료" in complete and 'id="nothing-paid"' in complete and "PortOne" not in complete
    # the e-mail and the receipt say the same: nothing went through the card
    email = mail.outbox[-1].body
    assert "결제방법: 네이버 마일리지와 적립금으로 모두 결제" in email and "신용카드" not in email
    receipt = "".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt_pdf(order))).pages)
    assert "모두 결제" in receipt and "신용카드" not in receipt and "PortOne" not in receipt


def test_an_order_with_something_left_to_pay_still_needs_the_window(shop, portone):
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 4_000, product="1")
    assert window_opened(browser, CARD)["totalAmount"] == 1_000
    response = browser.post("/shop/order/", CARD)  # posted without the window
    assert response.status_code == 400 and "결제창에서 결제를 마쳐 주세요" in response.content.decode()
    assert not Order.objects.exists()
    balance = shop.balance(buyer)
    assert balance["available"] + balance["held"] == 15_500  # held for the form, nothing used


@pytest.mark.parametrize("method", ["bank", "vbank"])
@pytest.mark.parametrize("gateway", ["test", "portone"])
def test_the_method_is_irrelevant_when_nothing_is_payable_even_a_deposit(shop, portone_emulator, gateway, method,
                                                                      request):
    if gateway == "portone":
        request.getfixturevalue("portone")
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 5_000, product="1")
    response = browser.post("/shop/order/", {**GUEST, "payment_method": method})  # 무통장입금 or 가상계좌 chosen
    assert response.status_code == 302, response.content.decode()[-1500:]
    order = Order.objects.get()
    payment = order.payments.get()
    assert (order.status, order.payable_won, order.deposit_deadline) == (OrderStatus.PAID, 0, None)
    assert (payment.status, payment.amount_won, payment.vbank_number) == (PaymentStatus.APPROVED, 0, "")
    assert order.mileage.state in (TransactionState.APPROVED, TransactionState.STATED)
    assert shop.balance(buyer)["available"] == 10_500


def test_a_card_declined_after_the_window_says_so_on_the_form_and_gives_the_mileage_back(shop, portone):
    # given a buyer with 700원 of mileage chosen who pays in PortOne's window, and the card company refuses the confirm
    from tests.portone_process import paid_in_window

    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 700, product="2")
    payment_id, token = paid_in_window(portone, browser, CARD)
    portone.control("decline-next-confirm")
    response = browser.post("/shop/order/", {**CARD, "payment_id": payment_id, "payment_token": token})
    # then the form says why, where the buyer sees it (not beside the TEST gateway's hidden card number field)
    page = response.content.decode()
    assert response.status_code == 400
    errors = page.split('class="errorlist alert alert-danger', 1)
    assert len(errors) == 2 and "사용하려던 네이버 마일리지는 돌려드립니다" in errors[1][:2000], page[-3000:]
    # and the mileage is the buyer's again, nothing charged
    assert Order.objects.get().status == OrderStatus.PAYMENT_FAILED
    balance = shop.balance(buyer)
    assert balance["available"] == 15_500 and not balance.get("held")


def test_a_guest_password_the_order_would_refuse_opens_no_window(shop, portone):
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500)  # 20,000원 to pay in the window
    # 결제하기 with a password of digits alone: the page is told to post the form, which says why; no window
    answer = browser.post("/shop/order/payment-window/", {**CARD, "guest_password": "1234"})
    assert answer.json() == {"ok": False, "submit": True} and "payment_window" not in browser.session
    shown = browser.post("/shop/order/", {**CARD, "guest_password": "1234"})
    assert shown.status_code == 400
    assert "비회원결제비밀번호는 영문과 숫자를 모두 섞어 6자에서 12자로 입력해 주세요." in shown.content.decode()
    assert not Order.objects.exists()
    # with a good one, the window opens
    assert browser.post("/shop/order/payment-window/", CARD).json()["ok"] is True
