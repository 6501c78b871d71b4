"""현금영수증 from the order form to the refund (issue 23): asked for with a cash-like method and checked on the form,
issued when the cash arrives (실시간계좌이체 at payment, 무통장입금 at 입금확인) for the cash paid, cancelled and
reissued for what is left after a partial refund, only cancelled after a whole one. A gateway refusing leaves the
order and the refund as they are, the reason on 주문상세정보 and 현금영수증 재발급 asks again. The buyer sees the
masked number only."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from portal.aftersales.models import Refund
from portal.orders.gateway import GatewayResult, PaymentGateway
from portal.orders.models import CashReceipt, CashReceiptStatus, GatewayEntry, Order, OrderStatus
from portal.receipts.render import receipt_html

from .conftest import GUEST, cancelled_keeping_the_charge, choose_mileage, returned
from .test_payment_cancel import press_refund_complete, refund_by

pytestmark = pytest.mark.sandbox

PHONE, PHONE_DIGITS, PHONE_MASKED = "010-9876-5432", "01098765432", "*******5432"
BUSINESS = "220-81-62517"  # a valid 사업자등록번호 (its check digit)
ACCOUNT = {"bank": "농협", "account_no": "302-1234-5678", "holder": "홍길동"}


def order_page(shop, *, code="1", quantity="1", use=None) -> tuple[Client, str]:
    buyer = shop.new_buyer(15_500)
    client = Client()
    client.post("/shop/cart/add/", {"code": code, "quantity": quantity})
    client.get("/shop/order/")
    if use is not None:
        choose_mileage(client, shop, buyer, use)
    return client, buyer


def place_with_receipt(shop, *, method="bank", kind="personal", identifier=PHONE, code="1", quantity="1", use=None):
    client, _buyer = order_page(shop, code=code, quantity=quantity, use=use)
    data = {**GUEST, "payment_method": method, "cash_receipt_kind": kind, "cash_receipt_identifier": identifier}
    if method != "bank":
        data["card_number"] = "4111111111111111"
    response = client.post("/shop/order/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    return Order.objects.order_by("-id").first(), client


def receipts(order) -> list[CashReceipt]:
    return list(CashReceipt.objects.filter(payment__order=order).order_by("sequence"))


def refusing_receipts(monkeypatch, message="현금영수증 발급 거절: 국세청 전송 장애"):
    monkeypatch.setattr(PaymentGateway, "issue_cash_receipt",
                        lambda self, **kwargs: GatewayResult(False, "", message))


# --- the order form ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "identifier", "message"), [
    ("personal", "010-12", "현금영수증 휴대폰번호는 010-1234-5678처럼 입력해 주세요."),
    ("personal", "", "현금영수증 휴대폰번호는 010-1234-5678처럼 입력해 주세요."),
    ("corporate", "220-81-62518", "사업자번호 10자리를 올바르게 입력해 주세요."),
    ("both", PHONE, "현금영수증 신청 방법을 골라 주세요."),
])
def test_a_wrong_number_is_refused_on_its_field_and_nothing_is_placed(shop, kind, identifier, message):
    client, _buyer = order_page(shop)
    response = client.post("/shop/order/", {**GUEST, "cash_receipt_kind": kind,
                                            "cash_receipt_identifier": identifier})
    page = response.content.decode()
    assert response.status_code == 400 and message in page
    assert not Order.objects.exists() and not CashReceipt.objects.exists()


def test_the_form_offers_the_receipt_with_the_cash_like_methods(shop):
    client, _buyer = order_page(shop)
    page = client.get("/shop/order/").content.decode()
    assert 'id="cash-receipt"' in page and 'data-methods="bank realtime vbank"' in page
    assert "소득공제용 (휴대폰번호)" in page and "지출증빙용 (사업자번호)" in page and "신청안함" in page


def test_a_card_order_asks_for_no_receipt_whatever_was_typed(shop):
    order, _client = place_with_receipt(shop, method="card", identifier="not a number")
    assert order.status == OrderStatus.PAID and receipts(order) == []


def test_none_asked_records_none(shop):
    order, _client = place_with_receipt(shop, kind="none", identifier="")
    assert order.status == OrderStatus.AWAITING_DEPOSIT and receipts(order) == []


# --- 무통장입금: issued at 입금확인, reissued after a partial refund ---------------------------------------------------

def test_bank_deposit_receipt_issued_at_the_deposit_and_reissued_for_what_a_partial_return_leaves(shop, operator):
    # given a guest's 무통장입금 of two 5,000원 products with 1,000원 of mileage, asking for a 소득공제용 receipt
    order, buyer = place_with_receipt(shop, quantity="2", use=1_000)
    assert order.payable_won == 9_000
    [asked] = receipts(order)
    assert (asked.status, asked.kind, asked.identifier, asked.identifier_masked, asked.amount_won) == (
        CashReceiptStatus.REQUESTED, "personal", PHONE_DIGITS, PHONE_MASKED, 9_000)
    assert not GatewayEntry.objects.filter(kind="cashrcpt").exists()  # nothing asked before the cash is in
    mine = buyer.get(f"/shop/orders/{order.number}/").content.decode()
    assert "발급요청" in mine and PHONE_MASKED in mine and PHONE not in mine and PHONE_DIGITS not in mine
    # when the operator confirms the deposit
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    # then it is issued for the cash paid (the mileage taken off)
    [issued] = receipts(order)
    assert issued.status == CashReceiptStatus.ISSUED and issued.approval_number.startswith("TEST-CR-")
    assert issued.amount_won == 9_000
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    block = detail.split('id="cash-receipts"')[1]
    assert issued.approval_number in block and "소득공제용" in block and PHONE_MASKED in block
    assert "9,000원" in block and "발급완료" in block and "현금영수증 재발급" not in block
    mine = buyer.get(f"/shop/orders/{order.number}/").content.decode()
    assert issued.approval_number in mine and PHONE_DIGITS not in mine
    # when one of the two is returned and its 4,500원 paid back in cash
    operator.post(f"/console/orders/{order.number}/action/ship/", {"carrier": "cj", "invoice_no": "6541111"})
    operator.post(f"/console/orders/{order.number}/action/deliver/")
    line = order.lines.get()
    returned(operator, order, {
        f"qty_{line.pk}": "1", "cash_won": "4500", "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "cash", **ACCOUNT})
    press_refund_complete(operator, Refund.objects.get(order=order))
    # then the first receipt is cancelled at the gateway and the next states the 4,500원 kept
    first, second = receipts(order)
    assert first.status == CashReceiptStatus.CANCELLED
    assert GatewayEntry.objects.filter(kind="cashcncl", parent_tid=first.approval_number).count() == 1
    assert (second.status, second.amount_won, second.sequence) == (CashReceiptStatus.ISSUED, 4_500, 2)
    assert second.approval_number not in ("", first.approval_number)
    block = operator.get(f"/console/orders/{order.number}/").content.decode().split('id="cash-receipts"')[1]
    assert second.approval_number in block and "4,500원" in block and "발급취소" in block
    # and the receipt PDF states the same
    pdf = receipt_html(order)
    assert "현금영수증" in pdf and second.approval_number in pdf and PHONE_MASKED in pdf and PHONE_DIGITS not in pdf


def test_an_order_cancelled_before_the_deposit_never_issues_its_receipt(shop, operator):
    order, _client = place_with_receipt(shop, kind="corporate", identifier=BUSINESS)
    operator.post(f"/console/orders/{order.number}/cancel/", {"confirm": "1"})
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    [receipt] = receipts(order)
    assert receipt.status == CashReceiptStatus.CANCELLED and not receipt.approval_number
    assert not GatewayEntry.objects.filter(kind="cashrcpt").exists()


def test_a_deposit_undone_cancels_its_receipt_and_the_next_deposit_issues_a_new_one(shop, operator):
    order, _client = place_with_receipt(shop)
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    [first] = receipts(order)
    assert first.status == CashReceiptStatus.ISSUED
    # when the operator finds the deposit was not there (미입금상태로 전환)
    operator.post(f"/console/orders/{order.number}/action/mark_unpaid/")
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DEPOSIT
    # then the receipt is cancelled at the gateway and the ask waits for the next deposit
    first, waiting = receipts(order)
    assert first.status == CashReceiptStatus.CANCELLED and waiting.status == CashReceiptStatus.REQUESTED
    assert GatewayEntry.objects.filter(kind="cashcncl", parent_tid=first.approval_number).count() == 1
    assert (waiting.identifier, waiting.amount_won) == (PHONE_DIGITS, first.amount_won)
    # when the deposit comes: the next receipt is issued
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    _first, second = receipts(order)
    assert second.status == CashReceiptStatus.ISSUED and second.approval_number != first.approval_number
    assert CashReceipt.objects.filter(status=CashReceiptStatus.ISSUED).count() == 1


# --- 실시간계좌이체: issued at payment; a whole refund only cancels ------------------------------------------------------

def test_transfer_receipt_issued_at_payment_and_only_cancelled_after_a_whole_refund(shop, operator):
    order, buyer = place_with_receipt(shop, method="realtime", kind="corporate", identifier=BUSINESS, code="4",
                                      use=500)
    assert order.status == OrderStatus.PAID
    [issued] = receipts(order)
    assert (issued.status, issued.kind, issued.amount_won, issued.identifier_masked) == (
        CashReceiptStatus.ISSUED, "corporate", 19_500, "******2517")
    complete = buyer.get(f"/shop/order/{order.number}/complete/").content.decode()
    assert issued.approval_number in complete and "지출증빙용" in complete and "2208162517" not in complete
    # when the whole order is cancelled and its 19,500원 paid back
    refund = refund_by(operator, order, "transfer", 19_500)
    press_refund_complete(operator, refund)
    # then the receipt is cancelled and none is issued for nothing
    [cancelled] = receipts(order)
    assert cancelled.status == CashReceiptStatus.CANCELLED
    block = operator.get(f"/console/orders/{order.number}/").content.decode().split('id="cash-receipts"')[1]
    assert "발급취소" in block and "현금영수증 재발급" not in block


def test_a_refused_receipt_leaves_the_order_paid_and_the_retry_button_issues_it(shop, operator, monkeypatch):
    # given the gateway refuses the receipt when the transfer is captured
    refusing_receipts(monkeypatch)
    order, buyer = place_with_receipt(shop, method="realtime", code="4")
    monkeypatch.undo()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    [failed] = receipts(order)
    assert failed.status == CashReceiptStatus.FAILED and "국세청 전송 장애" in failed.failure_reason
    # then the operator sees why, with the button; the buyer sees it failed, not the gateway's words
    block = operator.get(f"/console/orders/{order.number}/").content.decode().split('id="cash-receipts"')[1]
    assert "발급실패" in block and "국세청 전송 장애" in block and "현금영수증 재발급" in block
    mine = buyer.get(f"/shop/order/{order.number}/complete/").content.decode()
    assert "발급실패" in mine and "국세청 전송 장애" not in mine
    # when the operator presses 현금영수증 재발급
    response = operator.post(f"/console/orders/{order.number}/cash-receipt/retry/", follow=True)
    # then the same receipt is issued, once
    [issued] = receipts(order)
    assert issued.pk == failed.pk and issued.status == CashReceiptStatus.ISSUED and not issued.failure_reason
    assert issued.approval_number in response.content.decode()
    assert GatewayEntry.objects.filter(kind="cashrcpt").count() == 1
    # pressed again: nothing more is asked
    again = operator.post(f"/console/orders/{order.number}/cash-receipt/retry/", follow=True).content.decode()
    assert "다시 발급할 현금영수증이 없습니다." in again
    assert GatewayEntry.objects.filter(kind="cashrcpt").count() == 1


def test_a_receipt_refused_at_the_deposit_and_retried_after_a_partial_return_states_what_is_left(
        shop, operator, monkeypatch):
    # given a 무통장입금 of 9,000원 whose receipt the gateway refused at 입금확인
    order, _buyer = place_with_receipt(shop, quantity="2", use=1_000)
    refusing_receipts(monkeypatch)
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    monkeypatch.undo()
    [failed] = receipts(order)
    assert (failed.status, failed.amount_won) == (CashReceiptStatus.FAILED, 9_000)
    # and one of the two products returned, its 4,500원 paid back in cash
    operator.post(f"/console/orders/{order.number}/action/ship/", {"carrier": "cj", "invoice_no": "6541112"})
    operator.post(f"/console/orders/{order.number}/action/deliver/")
    line = order.lines.get()
    returned(operator, order, {
        f"qty_{line.pk}": "1", "cash_won": "4500", "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "cash", **ACCOUNT})
    press_refund_complete(operator, Refund.objects.get(order=order))
    # when the operator presses 현금영수증 재발급
    operator.post(f"/console/orders/{order.number}/cash-receipt/retry/")
    # then the receipt asked first is settled as asked and the one in force states the 4,500원 kept
    first, second = receipts(order)
    assert (first.status, first.amount_won) == (CashReceiptStatus.CANCELLED, 9_000)
    assert (second.status, second.amount_won) == (CashReceiptStatus.ISSUED, 4_500)
    block = operator.get(f"/console/orders/{order.number}/").content.decode().split('id="cash-receipts"')[1]
    assert second.approval_number in block and "현금영수증 재발급" not in block


def test_the_retry_button_is_for_operators_only(shop, operator, monkeypatch):
    refusing_receipts(monkeypatch)
    order, buyer = place_with_receipt(shop, method="realtime", code="4")
    monkeypatch.undo()
    clerk = Client()
    clerk.force_login(User.objects.create_user("clerk"))
    assert clerk.post(f"/console/orders/{order.number}/cash-receipt/retry/").status_code == 403
    assert buyer.post(f"/console/orders/{order.number}/cash-receipt/retry/").status_code == 302  # to the login
    assert receipts(order)[0].status == CashReceiptStatus.FAILED


def test_a_refused_cancel_after_the_refund_keeps_the_refund_and_the_button_settles_it(shop, operator, monkeypatch):
    # given an issued receipt of a 19,500원 transfer
    order, _buyer = place_with_receipt(shop, method="realtime", code="4", use=500)
    [issued] = receipts(order)
    # when the refund is paid out while the gateway refuses to cancel the receipt
    monkeypatch.setattr(PaymentGateway, "cancel_cash_receipt",
                        lambda self, **kwargs: GatewayResult(False, "", "현금영수증 취소 거절"))
    refund = refund_by(operator, order, "transfer", 19_500)
    press_refund_complete(operator, refund)
    monkeypatch.undo()
    # then the refund is done, the receipt still issued with the reason shown and the button offered
    refund.refresh_from_db()
    assert refund.status == "done"
    [kept] = receipts(order)
    assert kept.status == CashReceiptStatus.ISSUED and "현금영수증 취소 거절" in kept.failure_reason
    block = operator.get(f"/console/orders/{order.number}/").content.decode().split('id="cash-receipts"')[1]
    assert "현금영수증 취소 거절" in block and "현금영수증 재발급" in block
    # when the operator presses 현금영수증 재발급: it is cancelled, and nothing reissued for nothing
    operator.post(f"/console/orders/{order.number}/cash-receipt/retry/")
    [cancelled] = receipts(order)
    assert cancelled.pk == issued.pk and cancelled.status == CashReceiptStatus.CANCELLED
    assert not cancelled.failure_reason


def test_a_transfer_cancelled_on_the_order_detail_cancels_its_receipt(shop, operator):
    order, _client = place_with_receipt(shop, method="realtime", code="4", use=500)
    cancelled_keeping_the_charge(operator, order)  # the money given back by 계좌이체취소, not by the refund
    payment = order.payments.get()
    response = operator.post(f"/console/orders/{order.number}/payments/{payment.pk}/cancel/",
                             {"amount_won": str(payment.amount_won), "key": "c1"}, follow=True)
    assert "계좌이체취소" in response.content.decode()
    [cancelled] = receipts(order)
    assert cancelled.status == CashReceiptStatus.CANCELLED
    assert GatewayEntry.objects.filter(kind="cashcncl", parent_tid=cancelled.approval_number).count() == 1


def test_a_declined_transfer_never_issues_its_receipt(shop, monkeypatch):
    monkeypatch.setattr(PaymentGateway, "charge", lambda self, **kwargs: GatewayResult(False, "", "이체 거절"))
    client, _buyer = order_page(shop, code="4")
    response = client.post("/shop/order/", {**GUEST, "payment_method": "realtime", "cash_receipt_kind": "personal",
                                            "cash_receipt_identifier": PHONE})
    assert response.status_code == 400 and "이체 거절" in response.content.decode()
    order = Order.objects.get()
    assert order.status == OrderStatus.PAYMENT_FAILED
    assert [r.status for r in receipts(order)] == [CashReceiptStatus.CANCELLED]
    assert not GatewayEntry.objects.filter(kind="cashrcpt").exists()
