"""Cancelling the money (manual §7, §8; ADR 0012). 환불완료 is the moment the money moves: a card refund is cancelled
at the gateway with a key bound to the refund and reads 환불완료 only once the gateway confirmed; a refused or
unanswered cancel leaves it 환불전 with the reason and pressing again asks the same thing; a cash refund keeps the
account it went to. 결제취소 on 주문상세정보 (카드결제취소 / 카드부분취소, 계좌이체취소, 휴대폰결제취소 on the day only)
is for money no refund covers. Refunds and cancels together never exceed the charge, at the gateway either."""

import html
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Sum
from django.utils import timezone

from portal.aftersales.models import Refund, RefundReason, RefundStatus
from portal.aftersales.refunds import RefundNotPaid, refund_complete, refunds_resume
from portal.orders import money
from portal.orders.gateway import GatewayResult, GatewayUnavailable, PaymentGateway
from portal.orders.models import (
    GatewayEntry,
    Order,
    OrderStatus,
    PaymentCancel,
    PaymentCancelStatus,
    PaymentStateChange,
    PaymentStatus,
)
from portal.orders.money import PaymentActionError, cancellable_won, payment_cancel

from .conftest import cancelled_keeping_the_charge, delivered, place, returned

pytestmark = pytest.mark.sandbox
on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="two writers at once need PostgreSQL row locks (make test runs it there)")
ACCOUNT = {"bank": "농협", "account_no": "302-1234-5678", "holder": "홍길동"}


def refund_by(operator, order, method: str, cash: int, **extra) -> Refund:
    """주문취소 after payment with the money going back by `method`; the refund waits 환불전."""
    response = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": str(cash), "store_points_won": "0", "mileage_won": str(order.mileage_use_won),
        "shipping_deduction_won": "0", "method": method, **extra})
    assert response.status_code == 302, re.findall(r"<li>[^<]*</li>", response.content.decode())
    return Refund.objects.get(order=order)


def press_refund_complete(operator, refund: Refund) -> str:
    """환불관리: select, see the confirmation, confirm. Returns the confirmation page."""
    confirmation = operator.post("/console/refunds/", {"selection": [refund.pk]}).content.decode()
    operator.post("/console/refunds/", {"selection": [refund.pk], "confirm": "1", **seen_on(confirmation)})
    return confirmation


def seen_on(confirmation: str) -> dict:
    """The fingerprints the confirmation page sends back with 환불완료 (what the operator saw of each refund)."""
    return dict(re.findall(r'name="(seen-\d+)" value="([0-9a-f]+)"', confirmation))


def gateway_cancelled_won(payment) -> int:
    return GatewayEntry.objects.filter(parent_tid=payment.gateway_tid, kind="cancel").aggregate(
        s=Sum("amount_won"))["s"] or 0


def answer_lost_after_the_gateway_applied_it(monkeypatch):
    """The gateway cancels, then its answer is lost (a read timeout); `monkeypatch.undo()` or the returned real
    cancel puts it back."""
    real = PaymentGateway.cancel

    def apply_then_time_out(self, **kwargs):
        real(self, **kwargs)
        raise GatewayUnavailable("read timeout")

    monkeypatch.setattr(PaymentGateway, "cancel", apply_then_time_out)
    return real


def _form(page: str) -> tuple[str, str]:
    action = re.search(r'action="([^"]+/payments/\d+/cancel/)"', page).group(1)
    key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)
    return action, key


def test_refund_complete_cancels_the_card_and_nothing_is_left_to_cancel(shop, operator):
    # given a card order (25,500원 = 26,000원 − 500원 mileage would do; sample 4: 20,000 − 500 = 19,500원 charged)
    order, buyer = place(shop, code="4", method="card")
    refund = refund_by(operator, order, "card", 19_500)
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    # the refund waiting covers the money: no separate 카드결제취소 for it
    assert 'name="key"' not in detail.split('id="payment-cancel"')[1] and "환불완료 때 돌려집니다" in detail
    # when 환불완료 is confirmed
    confirmation = press_refund_complete(operator, refund)
    assert "카드취소 19,500원" in confirmation and "합계 1건" in confirmation and "적립 취소" in confirmation
    # then the gateway cancelled the charge once, the refund is done, the payment says 취소, the mileage is back
    refund.refresh_from_db()
    payment = order.payments.get()
    assert refund.status == RefundStatus.DONE and payment.status == PaymentStatus.CANCELLED
    assert gateway_cancelled_won(payment) == 19_500
    cancel = PaymentCancel.objects.get()
    assert (cancel.label, cancel.amount_won, cancel.refund_number, cancel.status) == ("카드결제취소", 19_500,
                                                                                     refund.number, "done")
    assert shop.balance(buyer)["available"] == 15_500
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    section = detail.split('id="payment-cancel"')[1]
    assert 'name="key"' not in section and 'class="still-charged">0원' in section
    # and every move of the money has its change row
    moves = list(PaymentStateChange.objects.filter(payment=payment).values_list("from_status", "to_status"))
    assert moves == [("", "waiting"), ("waiting", "approved"), ("", "pending"), ("pending", "done"),
                     ("approved", "cancelled")]
    # pressing again moves nothing
    assert refund_complete(refund=refund, by=User.objects.get(username="operator")) is False
    assert gateway_cancelled_won(payment) == 19_500 and PaymentCancel.objects.count() == 1


def test_the_shipping_fee_applied_is_kept_and_the_rest_goes_back_to_the_card(shop, operator):
    # given a card order of sample 4 (20,000 − 500 mileage = 19,500원 charged), cancelled with 배송비적용 2,500원
    order, _ = place(shop, code="4", method="card")
    refund = refund_by(operator, order, "card", 19_500, shipping_deduction_won="2500")
    # then every screen names the same 17,000원 (manual: 30,000원 with 2,500원 applied pays back 27,500원)
    listing = operator.get("/console/refunds/").content.decode()
    assert "17,000원" in listing and "19,500원" not in listing
    confirmation = press_refund_complete(operator, refund)
    assert "카드취소 17,000원" in confirmation
    refund.refresh_from_db()
    payment = order.payments.get()
    # and the card is cancelled for 17,000원 alone: the shop keeps the 2,500원 fee, still charged
    assert refund.status == RefundStatus.DONE and gateway_cancelled_won(payment) == 17_000
    assert PaymentCancel.objects.get().amount_won == 17_000 and money.still_charged_won(payment) == 2_500
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert "카드취소 17,000원" in detail and "배송비 2,500원 적용" in detail


def test_a_shipping_fee_as_large_as_the_refund_is_refused(shop, operator):
    order, _ = place(shop, code="4", method="card")
    response = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "2000", "store_points_won": "0", "mileage_won": "0", "shipping_deduction_won": "2000",
        "method": "card"})
    assert response.status_code == 400 and "배송비는 총 환불금액 이상 입력이 불가능합니다" in response.content.decode()
    assert not Refund.objects.exists()


def test_a_shipping_fee_taking_the_whole_money_back_is_refused_though_mileage_goes_back(shop, operator):
    # 총 환불액 is the money (and store points) given back, as the form shows it: the mileage returned beside it
    # never lets the shipping fee swallow the whole card refund
    order, buyer = place(shop, method="card")  # 5,000원 with 500원 of mileage: 4,500원 charged
    form = operator.get(f"/console/orders/{order.number}/cancel/").content.decode()
    assert re.search(r'data-sum="total">4,500원<', form)
    response = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "4500", "store_points_won": "0", "mileage_won": "500", "shipping_deduction_won": "4500",
        "method": "card"})
    assert response.status_code == 400 and "배송비는 총 환불금액 이상 입력이 불가능합니다" in response.content.decode()
    assert not Refund.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and shop.balance(buyer)["available"] == 15_000
    # one won less is a refund of 1원 to the card
    response = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "4500", "store_points_won": "0", "mileage_won": "500", "shipping_deduction_won": "4499",
        "method": "card", "seen": re.search(r'name="seen" value="([^"]*)"', form).group(1)})
    assert response.status_code == 302
    assert Refund.objects.get().payout_won == 1


def test_a_confirmation_opened_before_the_refund_changed_moves_nothing(shop, operator):
    # given a card refund whose confirmation the operator opened: 카드취소 19,500원
    order, _ = place(shop, code="4", method="card")
    refund = refund_by(operator, order, "card", 19_500)
    confirmation = operator.post("/console/refunds/", {"selection": [refund.pk]}).content.decode()
    assert "카드취소 19,500원" in confirmation
    # when someone else changes it to 현금환불 meanwhile and the first tab's 환불완료 is pressed
    admin = operator.__class__()
    admin.force_login(User.objects.get(username="admin"))
    assert admin.post(f"/console/refunds/{refund.pk}/method/", {"method": "cash", **ACCOUNT}).status_code == 302
    response = operator.post("/console/refunds/", {"selection": [refund.pk], "confirm": "1",
                                                   **seen_on(confirmation)})
    # then nothing moved and the confirmation is shown again with what would move now
    page = response.content.decode()
    assert response.status_code == 409 and refund.number in page and "현금환불 19,500원" in page
    refund.refresh_from_db()
    assert refund.status == RefundStatus.BEFORE and not PaymentCancel.objects.exists()
    # and confirming what is shown now pays it
    operator.post("/console/refunds/", {"selection": [refund.pk], "confirm": "1", **seen_on(page)})
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE and PaymentCancel.objects.get().label == "현금환불"


def test_a_cancel_after_payment_gives_back_the_mileage_whole(shop, operator):
    # given a card order that used 500원 of mileage, cancelled whole before shipping (manual §7: the mileage used
    # goes back as it was); when the operator types less mileage back, then nothing is recorded and the form says so
    order, buyer = place(shop, code="4", method="card")
    for mileage in ("0", "499"):
        response = operator.post(f"/console/orders/{order.number}/cancel/", {
            "cash_won": "19500", "store_points_won": "0", "mileage_won": mileage, "shipping_deduction_won": "0",
            "method": "card"})
        assert response.status_code == 400 and "네이버 마일리지 500원을 그대로 반환" in response.content.decode()
    order.refresh_from_db()
    assert not Refund.objects.exists() and order.status == "paid"


def test_the_before_payment_cancel_sent_after_the_deposit_says_why_and_cancels_nothing(shop, operator):
    # given the 입금전 cancel page open while someone else confirms the deposit
    order, _ = place(shop, method="bank")
    page = operator.get(f"/console/orders/{order.number}/cancel/").content.decode()
    assert 'name="kind" value="before_payment"' in page
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    # when its 취소완료 is pressed
    response = operator.post(f"/console/orders/{order.number}/cancel/", {"kind": "before_payment"})
    # then the 배송전 form is shown, filled, with why; no field errors, nothing cancelled
    page = response.content.decode()
    assert response.status_code == 200 and "그 사이 입금이 확인되어" in page and "필수" not in page
    assert f'value="{order.payable_won:,}"' in page  # the 배송전 form, filled with what can be refunded
    order.refresh_from_db()
    assert order.status == "paid" and not Refund.objects.exists()


def test_an_account_belongs_to_a_cash_refund_only_and_must_be_a_number(shop, operator):
    order, _ = place(shop, code="4", method="card")
    refund = refund_by(operator, order, "card", 19_500)
    url = f"/console/refunds/{refund.pk}/method/"
    # letters are no account number: refused, nothing changed
    response = operator.post(url, {"method": "cash", **ACCOUNT, "account_no": "abcd"})
    assert response.status_code == 400 and "계좌번호는 숫자와 - 로 입력해 주세요." in response.content.decode()
    refund.refresh_from_db()
    assert (refund.method, refund.account_no) == ("card", "")
    # 현금환불 keeps its account; back to 카드취소, the account goes with it (환불관리 shows none)
    assert operator.post(url, {"method": "cash", **ACCOUNT}).status_code == 302
    refund.refresh_from_db()
    assert (refund.method, refund.account_no) == ("cash", ACCOUNT["account_no"])
    assert operator.post(url, {"method": "card", **ACCOUNT}).status_code == 302
    refund.refresh_from_db()
    assert (refund.method, refund.bank, refund.account_no, refund.holder) == ("card", "", "", "")
    assert "5678" not in operator.get("/console/refunds/").content.decode()


def test_the_cancel_form_defaults_to_the_way_the_order_was_paid(shop, operator):
    card, _ = place(shop, method="card")
    page = operator.get(f"/console/orders/{card.number}/cancel/").content.decode()
    assert re.search(r'<option value="card" selected>', page)
    bank, _ = place(shop, method="bank")
    operator.post(f"/console/orders/{bank.number}/action/confirm_deposit/")
    page = operator.get(f"/console/orders/{bank.number}/cancel/").content.decode()
    assert re.search(r'<option value="cash" selected>', page)


def test_a_cash_refund_keeps_its_account_and_the_card_cannot_pay_it_again(shop, operator):
    order, _ = place(shop, method="card")
    # 현금환불 without the account is refused, nothing recorded
    response = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": str(order.payable_won), "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "cash"})
    assert response.status_code == 400 and "환불은행, 계좌번호, 예금주" in response.content.decode()
    assert not Refund.objects.exists()
    refund = refund_by(operator, order, "cash", order.payable_won, **ACCOUNT)
    confirmation = press_refund_complete(operator, refund)
    # the confirmation names the account masked (the operator lacks view_personal_data); the payout the full one
    assert "현금환불 4,500원 → 농협 ***-****-5678 홍*동" in confirmation and "302-1234-5678" not in confirmation
    cancel = PaymentCancel.objects.get()
    assert (cancel.label, cancel.amount_won, cancel.message) == ("현금환불", 4_500, "농협 302-1234-5678 홍길동")
    payment = order.payments.get()
    assert payment.status == PaymentStatus.CANCELLED and gateway_cancelled_won(payment) == 0
    # the order's payment lists it as money the shop paid, not as a cancel at the card company
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    row = detail.split('id="payment-cancel"', 1)[1].split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert "현금환불" in row and "지급완료" in row and "취소완료" not in row
    # and the card reads 환불완료 (the shop paid it all back), not 취소: the gateway cancelled nothing
    assert re.search(rf'id="payment-status-{payment.pk}">([^<]+)<', detail).group(1) == "환불완료"
    with pytest.raises(PaymentActionError):
        payment_cancel(payment=payment, amount_won=order.payable_won, key="twice")
    assert PaymentCancel.objects.count() == 1


def test_a_card_refund_of_a_bank_transfer_is_refused(shop, operator):
    order, _ = place(shop, method="bank")
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    response = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": str(order.payable_won), "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "card"})
    assert response.status_code == 400 and "무통장입금" in response.content.decode()


def test_a_refused_cancel_leaves_the_refund_before_and_pressing_again_asks_the_same(shop, operator, monkeypatch):
    order, buyer = place(shop, method="card")
    refund = refund_by(operator, order, "card", order.payable_won)
    keys = []
    real = PaymentGateway.cancel

    def refuse(self, **kwargs):
        keys.append(kwargs["idempotency_key"])
        return GatewayResult(False, "", "카드사 점검 중입니다")

    monkeypatch.setattr(PaymentGateway, "cancel", refuse)
    press_refund_complete(operator, refund)
    refund.refresh_from_db()
    # then nothing moved: 환불전 with the gateway's reason on 환불관리, 주문상세정보 and the dashboard
    assert refund.status == RefundStatus.BEFORE and refund.payout_error == "카드사 점검 중입니다"
    assert shop.balance(buyer)["available"] == 15_000  # the mileage is not returned either
    assert "카드사 점검 중입니다" in operator.get("/console/refunds/").content.decode()
    assert "카드사 점검 중입니다" in operator.get(f"/console/orders/{order.number}/").content.decode()
    assert 'id="ops-refunds-not-paid">1건' in operator.get("/console/").content.decode()
    assert order.payments.get().status == PaymentStatus.APPROVED
    # when the gateway answers again and the operator presses again: the same key, one cancel
    monkeypatch.setattr(PaymentGateway, "cancel", lambda self, **kwargs: keys.append(kwargs["idempotency_key"])
                        or real(self, **kwargs))
    press_refund_complete(operator, refund)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE and refund.payout_error == ""
    assert len(set(keys)) == 1 and len(keys) == 2
    assert gateway_cancelled_won(order.payments.get()) == order.payable_won
    assert shop.balance(buyer)["available"] == 15_500


def test_an_answer_lost_after_the_gateway_applied_it_is_applied_once(shop, operator, monkeypatch):
    order, _ = place(shop, method="card")
    refund = refund_by(operator, order, "card", order.payable_won)
    real = answer_lost_after_the_gateway_applied_it(monkeypatch)
    with pytest.raises(RefundNotPaid) as caught:
        refund_complete(refund=refund, by=User.objects.get(username="operator"))
    assert "응답하지 않았습니다" in caught.value.message
    refund.refresh_from_db()
    assert refund.status == RefundStatus.BEFORE
    monkeypatch.setattr(PaymentGateway, "cancel", real)
    assert refund_complete(refund=refund, by=User.objects.get(username="operator")) is True
    payment = order.payments.get()
    assert gateway_cancelled_won(payment) == payment.amount_won  # once, though asked twice
    assert GatewayEntry.objects.filter(kind="cancel").count() == 1
    assert payment.status == PaymentStatus.CANCELLED


def test_a_refund_whose_process_died_after_the_gateway_answered_is_finished_by_the_scheduler(shop, operator):
    order, buyer = place(shop, method="card")
    refund = refund_by(operator, order, "card", order.payable_won)
    # given a process that reserved the cancel, had the gateway apply it, and died before recording the answer
    from django.db import transaction

    with transaction.atomic():
        cancel, ask = money.refund_payout_prepare(order=order, refund_number=refund.number, method="card", method_label="카드취소",
                                                  amount_won=refund.cash_won)
    assert ask
    money.refund_payout_send(cancel)
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.BEFORE
    assert refunds_resume() == 0  # not yet: it may still be under way
    # when the scheduler sweeps after the cut-off
    assert refunds_resume(now=timezone.now() + timedelta(minutes=6)) == 1
    # then the refund is done, the gateway cancelled once, the mileage went back
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    assert GatewayEntry.objects.filter(kind="cancel").count() == 1
    assert order.payments.get().status == PaymentStatus.CANCELLED
    assert shop.balance(buyer)["available"] == 15_500


def test_a_refusal_recorded_before_the_other_presses_success_does_not_hide_the_money_that_moved(shop, operator):
    # two operators press 환불완료 at once: the gateway cancels the card for one and refuses the other (nothing left
    # to cancel), and the refusal happens to be recorded first — the success recorded after it still stands
    from django.db import transaction

    order, buyer = place(shop, method="card")
    refund = refund_by(operator, order, "card", order.payable_won)
    with transaction.atomic():
        cancel, ask = money.refund_payout_prepare(order=order, refund_number=refund.number, method="card",
                                                  method_label="카드취소", amount_won=refund.cash_won)
    assert ask
    answer = money.refund_payout_send(cancel)
    assert answer.approved
    with transaction.atomic():
        refused = money.refund_payout_record(cancel, GatewayResult(False, "", "이미 취소된 결제 건입니다."))
    assert refused.status == PaymentCancelStatus.FAILED
    with transaction.atomic():
        moved = money.refund_payout_record(cancel, answer)
    assert moved.status == PaymentCancelStatus.DONE
    payment = order.payments.get()
    assert payment.status == PaymentStatus.CANCELLED and cancellable_won(payment) == 0
    # the refund is finished (the sweep finds its payout done), once: the card cancelled once, the mileage back
    assert refunds_resume() == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE and refund.payout_error == ""
    assert GatewayEntry.objects.filter(kind="cancel").count() == 1
    assert shop.balance(buyer)["available"] == 15_500
    # and nothing offers the same money again
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert "이미 취소된 결제 건입니다" not in page


def test_a_standing_orders_charge_goes_back_by_a_refund_never_by_the_cancel_button_alone(shop, operator):
    # given a paid card order with 500원 of mileage (19,500원 charged), and the same order after 구매확정
    order, _buyer = place(shop, code="4", method="card")
    payment = order.payments.get()
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    # then 결제취소 offers nothing of it: the page says 주문취소 or a return gives it back (with the mileage)
    assert "/payments/" not in page and 'id="refund-instead"' in page and "주문취소(배송 전) 또는 반품(배송 후)" in page
    with pytest.raises(PaymentActionError) as caught:
        payment_cancel(payment=payment, amount_won=10_000, key="standing")
    assert "주문취소(배송 전) 또는 반품(배송 후)" in caught.value.message
    assert not PaymentCancel.objects.exists() and gateway_cancelled_won(payment) == 0


def test_the_cancel_button_for_money_no_refund_covers_never_more_than_charged(shop, operator):
    order, _buyer = place(shop, code="4", method="card")  # 19,500원 charged
    cancelled_keeping_the_charge(operator, order)  # its refund gives back the mileage only
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    action, key = _form(page)
    operator.post(action, {"amount_won": "5000", "key": key}, follow=True)
    again = operator.post(action, {"amount_won": "5000", "key": key}, follow=True).content.decode()
    assert "이미 처리된" in again
    payment = order.payments.get()
    payment.refresh_from_db()
    assert list(payment.cancels.values_list("label", "amount_won")) == [("카드부분취소", 5_000)]
    assert payment.status == PaymentStatus.PARTIAL
    action, key = _form(operator.get(f"/console/orders/{order.number}/").content.decode())
    refused = operator.post(action, {"amount_won": "14501", "key": key}, follow=True).content.decode()
    assert "14,500원까지" in refused and payment.cancels.count() == 1
    done = operator.post(action, {"amount_won": "14500", "key": key}, follow=True).content.decode()
    assert "카드결제취소" in done and 'id="nothing-charged"' not in done
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED and gateway_cancelled_won(payment) == 19_500


def test_a_cancel_that_gives_back_less_money_than_was_charged_says_what_it_keeps(shop, operator):
    # given a card order of 19,500원 with 500원 of mileage, cancelled before shipping with only 19,000원 going back
    order, _buyer = place(shop, code="4", method="card")
    page = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "19000", "store_points_won": "0", "mileage_won": str(order.mileage_use_won),
        "shipping_deduction_won": "0", "method": "card"}, follow=True).content.decode()
    # then the order's page says the 500원 left charged is not given back by this refund, and where it can be
    assert "취소완료" in page and "결제된 금액 중 500원은 이 환불로 돌려주지 않습니다" in page
    # and a cancel giving back everything charged says nothing of the kind
    other, _buyer = place(shop, code="4", method="card")
    page = operator.post(f"/console/orders/{other.number}/cancel/", {
        "cash_won": "19500", "store_points_won": "0", "mileage_won": str(other.mileage_use_won),
        "shipping_deduction_won": "0", "method": "card"}, follow=True).content.decode()
    assert "취소완료" in page and "돌려주지 않습니다" not in page
    # and the confirmation of 환불완료 says it again beside that refund alone, before anything moves
    kept, whole = Refund.objects.get(order=order), Refund.objects.get(order=other)
    confirmation = operator.post("/console/refunds/", {"selection": [kept.pk, whole.pk]}).content.decode()
    assert re.search(rf'id="kept-{kept.number}">결제된 금액 중 500원은 이 환불로 돌려주지 않습니다', confirmation)
    assert f"kept-{whole.number}" not in confirmation


def test_a_partly_returned_order_back_at_the_shop_gives_no_money_back_through_the_cancel_button(shop, operator):
    # given a card order of two of sample 1 (10,000원, 1,000원 of mileage: 9,000원 charged), one of them returned and
    # back at the shop (반송완료), its refund of 4,500원 and 500원 of mileage waiting in 환불관리
    order, _buyer = place(shop, method="card", quantity="2", use=1_000)
    delivered(operator, order)
    line = order.lines.get()
    returned(operator, order, {f"qty_{line.pk}": "1", "cash_won": "4500", "store_points_won": "0",
                               "mileage_won": "500", "shipping_deduction_won": "0", "method": "card"})
    order.refresh_from_db()
    assert order.status == "returned"
    payment = order.payments.get()
    # then the buyer keeps the other one: what was paid for it is not offered to 결제취소, and refused if sent
    assert cancellable_won(payment) == 0
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert 'id="refund-instead"' in page
    with pytest.raises(PaymentActionError) as caught:
        payment_cancel(payment=payment, amount_won=4_500, key="kept-goods")
    assert "반품(배송 후)" in caught.value.message
    assert not PaymentCancel.objects.exists()


def test_bad_amount_changes_nothing(shop, operator):
    order, _ = place(shop, method="card")
    cancelled_keeping_the_charge(operator, order)
    action, key = _form(operator.get(f"/console/orders/{order.number}/").content.decode())
    for amount in ("abc", "-1", "0", "²", "9" * 30):
        response = operator.post(action, {"amount_won": amount, "key": key}, follow=True)
        assert response.status_code == 200
    assert not PaymentCancel.objects.exists()


def test_phone_payment_is_cancelled_on_the_day_only_and_whole(shop, operator):
    order, _ = place(shop, method="phone")
    cancelled_keeping_the_charge(operator, order)
    payment = order.payments.get()
    with pytest.raises(PaymentActionError):
        payment_cancel(payment=payment, amount_won=1_000, key="p1")
    with pytest.raises(PaymentActionError) as caught:
        payment_cancel(payment=payment, amount_won=payment.amount_won, key="p2",
                       now=timezone.now() + timedelta(days=1))
    assert "당일" in caught.value.message
    assert payment_cancel(payment=payment, amount_won=payment.amount_won, key="p3").label == "휴대폰결제취소"


def test_a_cancel_the_pg_would_refuse_is_said_on_the_order_instead_of_a_button(shop, operator):
    # given a mobile payment left whole by its order's cancel, a day later (the PG cancels it on its day only)
    order, _ = place(shop, method="phone")
    cancelled_keeping_the_charge(operator, order)
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert f'action="/console/orders/{order.number}/payments/' in page  # on its day: the button
    order.payments.update(approved_at=timezone.now() - timedelta(days=1))
    # when 주문상세정보 is read
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    # then it says why the money cannot go back by 결제취소 and offers no button that would be refused
    section = page[page.index('id="payment-cancel"'):]
    assert "휴대폰결제는 결제한 당일에만 취소되어" in section and "결제취소로 돌려줄 수 없습니다" in section
    assert f'action="/console/orders/{order.number}/payments/' not in section
    assert '취소 가능 <strong class="cancellable">0원</strong>' in section


def test_bank_transfer_has_no_gateway_cancel(shop, operator):
    order, _ = place(shop, method="bank")
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert "카드결제취소" not in page
    with pytest.raises(PaymentActionError) as caught:
        payment_cancel(payment=order.payments.get(), amount_won=1, key="b1")
    assert "현금환불" in caught.value.message


def test_realtime_transfer_cancels_whole(shop, operator):
    order, _ = place(shop, method="realtime")
    cancelled_keeping_the_charge(operator, order)
    payment = order.payments.get()
    with pytest.raises(PaymentActionError):
        payment_cancel(payment=payment, amount_won=100, key="r1")
    assert payment_cancel(payment=payment, amount_won=payment.amount_won, key="r2").label == "계좌이체취소"


@on_postgres
def test_two_operators_refund_complete_and_cancel_at_once_pay_the_buyer_once(shop, operator):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    # given a 19,500원 card order with a 10,000원 card refund waiting
    order, _ = place(shop, code="4", method="card")
    refund = refund_by(operator, order, "card", 10_000)
    payment = order.payments.get()
    users = [User.objects.get(username="operator"), User.objects.get(username="admin")]

    def act(what):
        try:
            if what.startswith("refund"):
                return ("refund", refund_complete(refund=refund, by=users[what == "refund-2"]))
            return ("cancel", payment_cancel(payment=payment, amount_won=9_500, key=what) is not None)
        except (PaymentActionError, RefundNotPaid):
            return (what, False)
        finally:
            connection.close()

    # when two operators press 환불완료 and two press 카드결제취소 for the rest, all at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(act, ["refund-1", "refund-2", "cancel-a", "cancel-b"]))
    # then the refund is paid once, the rest cancelled once, never more than was charged
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    assert sum(ok for kind, ok in results if kind == "refund") == 1
    assert gateway_cancelled_won(payment) == 19_500
    assert PaymentCancel.objects.filter(payment=payment).exclude(status="failed").aggregate(
        s=Sum("amount_won"))["s"] == 19_500
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED


@on_postgres
def test_two_refunds_of_one_order_completed_at_once_both_pay_without_a_deadlock(shop, operator):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from portal.aftersales.common import create_refund
    from portal.aftersales.models import RefundReason

    # given a 19,500원 card order with two card refunds waiting (10,000원 and 9,500원)
    order, _ = place(shop, code="4", method="card")
    refunds = [create_refund(timezone.now(), order=order, reason=RefundReason.CANCEL, cash_won=amount, method="card")
               for amount in (10_000, 9_500)]
    users = [User.objects.get(username="operator"), User.objects.get(username="admin")]

    def complete(job):
        refund, user = job
        try:
            return refund_complete(refund=refund, by=user)
        finally:
            connection.close()

    # when two operators complete one each at the same moment
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(complete, zip(refunds, users, strict=True)))
    # then both are paid, once each, and the charge is gone
    assert results == [True, True]
    assert gateway_cancelled_won(order.payments.get()) == 19_500
    assert order.payments.get().status == PaymentStatus.CANCELLED


def test_a_card_order_cannot_be_set_back_to_unpaid(shop, operator):
    # a card charge stays at the gateway: 미입금상태로 전환 would hide it from every refund
    order, _ = place(shop, method="card")
    assert "미입금상태로 전환" not in operator.get(f"/console/orders/{order.number}/").content.decode()
    page = operator.post(f"/console/orders/{order.number}/action/mark_unpaid/", follow=True).content.decode()
    assert "무통장입금 주문만" in page
    order.refresh_from_db()
    assert order.status == "paid" and order.payments.get().status == PaymentStatus.APPROVED


def test_set_back_to_unpaid_the_transfer_gets_fifteen_days_again(shop, operator):
    # given a bank transfer placed 10 days ago and paid since
    from datetime import timedelta

    from django.utils import timezone

    from mileage.policy.constants import UNPAID_TRANSFER_PERIOD

    order, _ = place(shop, method="bank")
    Order.objects.filter(pk=order.pk).update(deposit_deadline=timezone.now() + UNPAID_TRANSFER_PERIOD
                                             - timedelta(days=10))
    assert operator.post(f"/console/orders/{order.number}/action/confirm_deposit/").status_code == 302
    # when the operator sets it back to 입금전 (the deposit was a mistake)
    before = timezone.now()
    assert operator.post(f"/console/orders/{order.number}/action/mark_unpaid/").status_code == 302
    # then its deadline counts 15 days from now, as the provider's does after cancel/stated (E8)
    order.refresh_from_db()
    assert order.status == "awaiting_deposit"
    assert before + UNPAID_TRANSFER_PERIOD <= order.deposit_deadline <= timezone.now() + UNPAID_TRANSFER_PERIOD
    # and nothing reads as paid any more: no 입금 확인일, no 실 결제금액, nor after the order is cancelled unpaid
    for step in ("", "cancel"):
        if step:
            assert operator.post(f"/console/orders/{order.number}/cancel/", {"kind": "before_payment"},
                                 follow=True).status_code == 200
            order.refresh_from_db()
            assert order.status == "cancelled"
        detail = operator.get(f"/console/orders/{order.number}/").content.decode()
        assert re.search(r"입금 확인일</th><td>-</td>", detail), step
        assert money.collected_won(order) == 0


def test_a_completed_refunds_method_page_says_so_before_anything_is_typed(shop, operator):
    order, _ = place(shop, code="4", method="card")
    refund = refund_by(operator, order, "card", 19_500)
    assert operator.get(f"/console/refunds/{refund.pk}/method/").status_code == 200
    press_refund_complete(operator, refund)
    response = operator.get(f"/console/refunds/{refund.pk}/method/", follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == "/console/refunds/" and "환불 방식을 바꿀 수 없습니다" in page
    assert 'id="refund-method-form"' not in page


def test_a_cancel_outside_any_refund_reads_as_money_given_back_on_every_statement(shop, operator):
    # given a cancelled card order whose refund gave back only the mileage, and its card cancelled by 결제취소
    from django.test import Client

    from portal.receipts.render import receipt_html

    order, _buyer = place(shop, code="4", method="card")  # 19,500원 charged
    cancelled_keeping_the_charge(operator, order)
    payment = order.payments.get()
    payment_cancel(payment=payment, amount_won=19_500, key="rest")
    # then 주문상세정보's 환불금액 counts it, as 환불관리 writes amounts (no minus sign)
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    refunded = re.search(r'<tr id="refunded">.*?</tr>', detail, re.S).group(0)
    assert "19,500원" in refunded and "-19,500" not in refunded
    # the buyer's 환불 내역 and the receipt list it beside the refund
    buyer = Client()
    page = buyer.post("/shop/guest/", {"number": order.number, "password": "abcd1234"}, follow=True)
    section = re.search(r'<section[^>]*id="refunds".*?</section>', page.content.decode(), re.S).group(0)
    assert "카드결제취소" in section and "19,500원" in section
    receipt = receipt_html(order)
    assert "카드결제취소" in receipt and "19,500원" in receipt


def test_a_cash_refund_leaves_the_charge_at_the_gateway_and_the_page_says_so(shop, operator):
    # given a card order (19,500원 charged) cancelled with 17,000원 paid back by the shop in cash and 환불완료
    order, _ = place(shop, code="4", method="card")
    refund = refund_by(operator, order, "cash", 19_500, shipping_deduction_won="2500", **ACCOUNT)
    press_refund_complete(operator, refund)
    payment = order.payments.get()
    assert gateway_cancelled_won(payment) == 0 and money.still_charged_won(payment) == 2_500
    # then the card reads 부분환불, not 부분취소: nothing was cancelled at the gateway, and the page says what it holds
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    badge = re.search(rf'id="payment-status-{payment.pk}">([^<]+)<', detail).group(1)
    assert badge == "부분환불"
    at_gateway = re.search(rf'id="charge-at-gateway-{payment.pk}">(.*?)</p>', detail, re.S).group(1)
    assert "쇼핑몰이 직접 돌려준 금액 17,000원" in at_gateway and "결제대행사에 남은 결제 19,500원" in at_gateway
    # when the 2,500원 left is cancelled at the gateway
    cancel = payment_cancel(payment=payment, amount_won=2_500, key="rest")
    # then it is a partial cancel of the 19,500원 the gateway holds, and named so
    assert cancel.label == "카드부분취소" and gateway_cancelled_won(payment) == 2_500
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    # and all of it is back with the buyer: 환불완료, not 취소 (the gateway still holds the 17,000원 the shop paid)
    assert re.search(rf'id="payment-status-{payment.pk}">([^<]+)<', detail).group(1) == "환불완료"
    assert "결제대행사 취소 2,500원 · 결제대행사에 남은 결제 17,000원" in detail
    # and 환불금액 (19,500원) says which part 환불관리 lists and which 결제취소 gave back
    refunded = re.search(r'<tr id="refunded">.*?</tr>', detail, re.S).group(0)
    assert "19,500원" in refunded and "환불관리의 환불 17,000원 + 결제취소 2,500원" in refunded


def test_a_bank_transfers_cash_refund_names_no_gateway(shop, operator):
    # given a 무통장입금 order, deposited, cancelled before shipping and paid back in cash by the shop
    order, _ = place(shop, code="4", method="bank")
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    order.refresh_from_db()
    payment = order.payments.get()
    refund = refund_by(operator, order, "cash", payment.amount_won, **ACCOUNT)
    press_refund_complete(operator, refund)
    # then 주문상세정보 says the shop paid it back, and nothing of a gateway that never held the money
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    line = re.search(rf'id="charge-at-gateway-{payment.pk}">(.*?)</p>', detail, re.S).group(1)
    assert f"쇼핑몰이 직접 돌려준 금액 {payment.amount_won:,}원" in line and "결제대행사" not in line


def _seen(page: str) -> str:
    return re.search(r'name="seen" value="([^"]+)"', page).group(1)


def test_a_cancel_form_opened_before_an_exchange_cancels_nothing_and_shows_the_order_as_it_is(shop, operator):
    # given a paid card order whose cancel form an operator opened
    order, _buyer = place(shop, code="4", method="card")
    url = f"/console/orders/{order.number}/cancel/"
    seen = _seen(operator.get(url).content.decode())
    # when another operator completes an exchange of its line meanwhile, and the first presses 취소완료 as typed
    line = order.lines.get()
    exchanged = operator.post(f"/console/orders/{order.number}/exchange/", {
        f"qty_{line.pk}": "1", "new_1": "1", "mileage_returned_won": "0", "action": "complete"})
    assert exchanged.status_code == 302
    fields = {"cash_won": "4000", "store_points_won": "0", "mileage_won": str(order.mileage_use_won),
              "shipping_deduction_won": "0", "method": "card"}
    mistyped = operator.post(url, {**fields, "shipping_deduction_won": "abc", "seen": seen})
    assert mistyped.status_code == 400  # refused for what was typed, and the change is said as well
    assert "취소 양식을 연 뒤에 주문이 바뀌었습니다" in html.unescape(mistyped.content.decode())
    response = operator.post(url, {**fields, "seen": seen})
    # then nothing is cancelled, and the form is shown again with what was typed and the figures as they are now
    assert response.status_code == 409
    page = html.unescape(response.content.decode())
    assert "취소 양식을 연 뒤에 주문이 바뀌었습니다" in page and 'value="4000"' in page
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and not Refund.objects.filter(order=order, reason=RefundReason.CANCEL).exists()
    # pressed again from the page shown now, it cancels
    response = operator.post(url, {**fields, "seen": _seen(page)})
    assert response.status_code == 302, response.content.decode()[-1500:]
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert Refund.objects.get(order=order, reason=RefundReason.CANCEL).cash_won == 4_000


def test_the_cancel_form_says_before_it_is_sent_what_of_the_charge_it_would_not_give_back(shop, operator):
    order, _buyer = place(shop, code="4", method="card")  # 19,500원 charged
    url = f"/console/orders/{order.number}/cancel/"
    page = operator.get(url).content.decode()
    # its 환불은행 offers the banks to pick from (the manual's "고르세요"); one the list lacks can still be typed
    assert 'list="refund-banks"' in page and '<option value="KB국민은행">' in page
    # the form opens giving back everything: nothing is said to be kept
    assert re.search(r'<tr id="refund-kept" hidden', page) and 'data-charged="19500"' in page
    # sent with less money and a mistake elsewhere, it is shown again saying how much would stay charged
    page = operator.post(url, {"cash_won": "5000", "store_points_won": "0", "mileage_won": "-1",
                               "shipping_deduction_won": "0", "method": "card", "seen": _seen(page)}).content.decode()
    assert re.search(r'<tr id="refund-kept">.*?id="refund-kept-won">14,500원<', page, re.S)
    assert "주문 전체를 취소하면서 결제된 금액보다 적게 돌려줍니다" in page
    assert not Refund.objects.filter(order=order).exists()
