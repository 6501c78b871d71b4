"""환불 방식 (ADR 0012): a refund is recorded only with a way of paying back that 환불완료 can carry out (a mobile
payment is cancelled whole and on its day, a real-time transfer whole, a 현금환불 needs the account), and a refund
still 환불전 can change its way — after the gateway refused, once the mobile payment's day has passed, or to add the
account of a bank transfer's exchange refund — but never while a payout it asked for is unanswered. The scheduler
finishes a refund whose payout went through, even when an earlier finish failed; the refund limits never exceed
what the shop took."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from portal.aftersales import refunds as refunds_module
from portal.aftersales.models import Refund, RefundStatus
from portal.aftersales.refunds import RefundNotPaid, refund_complete, refunds_resume
from portal.aftersales.selectors import refund_limits
from portal.orders.gateway import GatewayResult, PaymentGateway
from portal.orders.models import GatewayEntry, Order, PaymentCancel, PaymentStatus
from portal.orders.money import PaymentActionError, payment_cancel

from ..storefront.conftest import GUEST
from .conftest import place
from .test_payment_cancel import (
    ACCOUNT,
    answer_lost_after_the_gateway_applied_it,
    gateway_cancelled_won,
    press_refund_complete,
    refund_by,
)

pytestmark = pytest.mark.sandbox
on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="two writers at once need PostgreSQL row locks (make test runs it there)")


def cancel_form(order, cash: int, method: str, **extra) -> dict:
    return {"cash_won": str(cash), "store_points_won": "0", "mileage_won": str(order.mileage_use_won),
            "shipping_deduction_won": "0", "method": method, **extra}


def change_method(operator, refund, method: str, **account):
    return operator.post(f"/console/refunds/{refund.pk}/method/", {"method": method, **account})


def test_a_partial_mobile_refund_is_refused_when_recorded_and_a_cash_refund_is_offered(shop, operator):
    order, _ = place(shop, method="phone")
    response = operator.post(f"/console/orders/{order.number}/cancel/",
                             cancel_form(order, order.payable_won, "phone", shipping_deduction_won="1000"))
    assert response.status_code == 400
    assert "휴대폰결제는 부분취소할 수 없습니다. 현금환불로 처리해 주세요." in response.content.decode()
    assert not Refund.objects.exists() and Order.objects.get(pk=order.pk).status == "paid"
    refund = refund_by(operator, order, "cash", order.payable_won, shipping_deduction_won="1000", **ACCOUNT)
    assert refund.method == "cash"


def test_a_partial_realtime_transfer_refund_is_refused_when_recorded(shop, operator):
    order, _ = place(shop, method="realtime")
    response = operator.post(f"/console/orders/{order.number}/cancel/",
                             cancel_form(order, order.payable_won, "transfer", shipping_deduction_won="1000"))
    assert response.status_code == 400 and "계좌이체는 전액만 취소할 수 있습니다" in response.content.decode()
    assert not Refund.objects.exists()


def test_a_mobile_refund_past_its_day_changes_to_cash_and_is_paid_once(shop, operator):
    # given a mobile payment's whole refund recorded on its day
    order, buyer = place(shop, method="phone")
    refund = refund_by(operator, order, "phone", order.payable_won)
    # when the operator gets to 환불완료 the next day (the payment is now a day old)
    order.payments.update(approved_at=timezone.now() - timedelta(days=1))
    press_refund_complete(operator, refund)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.BEFORE and "당일" in refund.payout_error
    refunds_page = operator.get("/console/refunds/").content.decode()
    assert f"/console/refunds/{refund.pk}/method/" in refunds_page and "환불 방식 변경" in refunds_page
    # then changing the way back to the mobile payment is refused, and 현금환불 needs the account
    page = operator.get(f"/console/refunds/{refund.pk}/method/").content.decode()
    assert refund.number in page and "당일" in page
    again = change_method(operator, refund, "phone")
    assert again.status_code == 400 and "당일" in again.content.decode()
    no_account = change_method(operator, refund, "cash")
    assert no_account.status_code == 400 and "환불은행, 계좌번호, 예금주" in no_account.content.decode()
    assert Refund.objects.get(pk=refund.pk).method == "phone"
    for bad in ("", "bitcoin", "x" * 500):
        assert change_method(operator, refund, bad).status_code == 400
    assert Refund.objects.get(pk=refund.pk).method == "phone"
    saved = change_method(operator, refund, "cash", **ACCOUNT)
    assert saved.status_code == 302
    refund.refresh_from_db()
    assert (refund.method, refund.bank, refund.account_no, refund.holder, refund.payout_error) == (
        "cash", "농협", "302-1234-5678", "홍길동", "")
    # and 환불완료 pays it as cash to that account, the mobile payment is not cancelled at the gateway
    confirmation = press_refund_complete(operator, refund)
    assert f"현금환불 {order.payable_won:,}원 → 농협 ***-****-5678 홍*동" in confirmation
    refund.refresh_from_db()
    payment = order.payments.get()
    assert refund.status == RefundStatus.DONE and payment.status == PaymentStatus.CANCELLED
    assert gateway_cancelled_won(payment) == 0
    assert shop.balance(buyer)["available"] == 15_500
    # a done refund's way cannot change
    assert change_method(operator, refund, "phone").status_code == 400
    assert "환불 방식 변경" not in operator.get("/console/refunds/?status=done").content.decode()


def test_a_card_refund_the_gateway_refuses_is_paid_as_cash_and_the_card_never_twice(shop, operator, monkeypatch):
    order, _ = place(shop, method="card")
    refund = refund_by(operator, order, "card", order.payable_won)
    monkeypatch.setattr(PaymentGateway, "cancel", lambda self, **kwargs: GatewayResult(False, "", "한도 초과 거절"))
    press_refund_complete(operator, refund)
    assert Refund.objects.get(pk=refund.pk).payout_error == "한도 초과 거절"
    assert change_method(operator, refund, "cash", **ACCOUNT).status_code == 302
    press_refund_complete(operator, refund)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    payment = order.payments.get()
    # one refused card cancel and one cash refund: the buyer is paid once, the books sum to the charge
    assert sorted(payment.cancels.values_list("label", "status")) == [("카드결제취소", "failed"),
                                                                      ("현금환불", "done")]
    assert payment.cancels.filter(status="done").aggregate(s=Sum("amount_won"))["s"] == payment.amount_won
    assert payment.status == PaymentStatus.CANCELLED and gateway_cancelled_won(payment) == 0


def test_the_way_cannot_change_while_the_gateway_has_not_answered(shop, operator, monkeypatch):
    order, _ = place(shop, method="card")
    refund = refund_by(operator, order, "card", order.payable_won)
    answer_lost_after_the_gateway_applied_it(monkeypatch)
    with pytest.raises(RefundNotPaid):
        refund_complete(refund=refund, by=User.objects.get(username="operator"))
    # the card may well be cancelled already: paying cash as well would pay twice
    response = change_method(operator, refund, "cash", **ACCOUNT)
    assert response.status_code == 400 and "아직 답하지 않은" in response.content.decode()
    refund.refresh_from_db()
    assert refund.method == "card" and refund.bank == ""


def _delivered_bank_order(shop, operator, code: str) -> Order:
    order, _ = place(shop, code=code, method="bank")
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    operator.post(f"/console/orders/{order.number}/action/ship/", {"carrier": "cj", "invoice_no": "1234"})
    operator.post(f"/console/orders/{order.number}/action/deliver/")
    order.refresh_from_db()
    assert order.status == "delivered"
    return order


def _exchange(operator, order, new_code: str):
    line = order.lines.get()
    response = operator.post(f"/console/orders/{order.number}/exchange/", {
        f"qty_{line.pk}": "1", f"new_{new_code}": "1", "mileage_returned_won": "0", "action": "complete"})
    assert response.status_code == 302, response.content.decode()[-1500:]


def test_a_bank_transfers_exchange_refund_asks_for_the_account_before_it_pays(shop, operator):
    # given a 10,000원 bank-transfer order exchanged for a 5,000원 product: a 현금환불 waits, with no account yet
    order = _delivered_bank_order(shop, operator, "2")
    _exchange(operator, order, "1")
    refund = Refund.objects.get(order=order)
    assert refund.method == "cash" and refund.cash_won == 5_000 and refund.account_no == ""
    # 주문상세정보 states what was taken and the refund still to pay, so that neither reads as the other
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    paid = order.payments.get().amount_won
    assert f'<tr id="collected"><th>실 결제금액</th><td class="won">{paid:,}원</td></tr>' in detail
    assert '<tr id="refunded">' in detail and "환불전 5,000원은 환불완료 때 돌려줍니다" in detail
    # the confirmation says before the press that it cannot be paid, offers no 환불완료 and promises no 현금환불
    confirmation = press_refund_complete(operator, refund)
    row = confirmation.split(f'id="preview-{refund.number}"', 1)[1].split("</tr>", 1)[0]
    assert "처리하지 않음: 현금환불할 계좌가 없습니다" in row and f'name="seen-{refund.pk}"' not in row
    # its mileage column says the exchange re-approved it already (not "변동 없음")
    assert "상품교환완료 때 재승인됨 (반환도 그때)" in row and "변동 없음" not in row
    assert 'id="refund-blocked"' in confirmation and 'id="refund-confirm"' not in confirmation
    assert "현금환불 5,000원" not in confirmation.split('id="refund-totals"', 1)[1]
    # when 환불완료 is posted all the same: nothing is paid to nowhere
    refund.refresh_from_db()
    assert refund.status == RefundStatus.BEFORE and "계좌" in refund.payout_error
    assert not PaymentCancel.objects.filter(refund_number=refund.number).exists()
    # then with the account entered it is paid to it
    assert change_method(operator, refund, "cash", **ACCOUNT).status_code == 302
    press_refund_complete(operator, refund)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    assert PaymentCancel.objects.get(refund_number=refund.number).message == "농협 302-1234-5678 홍길동"


def test_an_exchanges_payment_still_to_come_is_never_refunded(shop, operator):
    # given a 5,000원 bank-transfer order exchanged for a 10,000원 product: 5,000원 추가 결제예정, not yet taken
    order = _delivered_bank_order(shop, operator, "1")
    _exchange(operator, order, "2")
    order.refresh_from_db()
    paid = order.payments.get().amount_won
    assert order.payable_won == paid + 5_000
    # then a refund may give back what the shop took, not the payment still to come
    assert refund_limits(order)["cash"] == paid
    page = operator.get(f"/console/orders/{order.number}/return/").content.decode()
    assert f"최대 {paid:,}원" in page


def _buyers_page(order) -> str:
    """The order's page as its guest buyer reads it (비회원 주문조회)."""
    buyer = Client()
    found = buyer.post("/shop/guest/", {"number": order.number, "password": GUEST["guest_password"]})
    return buyer.get(found["Location"]).content.decode()


def test_a_second_exchange_counts_what_was_paid_never_the_payment_still_to_come(shop, operator):
    # given a 5,000원 bank-transfer order (500원 of mileage) exchanged up for a 10,000원 product: 5,000원 still to come
    order = _delivered_bank_order(shop, operator, "1")
    paid = order.payments.get().amount_won
    _exchange(operator, order, "2")
    # the buyer's statement and 주문상세정보 say what is still to pay (추가입금), and where to
    statement = _buyers_page(order)
    assert 'id="exchange-due"' in statement and "<strong>5,000원</strong>" in statement
    assert "입금계좌" in statement
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert 'id="exchange-due"' in detail and "추가입금을 받으셔야만 배송이 가능합니다" in detail
    # when the new product is exchanged back for a 5,000원 one before that payment arrives
    line = order.lines.get(product__code="2")
    url = f"/console/orders/{order.number}/exchange/"
    form = {f"qty_{line.pk}": "1", "new_1": "1", "mileage_returned_won": "0"}
    page = operator.post(url, {**form, "action": "quote"}).content.decode()
    assert f'<td class="won">{paid:,}원</td>' in page  # 기존 결제금액: what the shop took
    assert operator.post(url, {**form, "action": "complete"}).status_code == 302
    # then nothing is refunded (the shop never took the 5,000원) and nothing more is due
    assert not Refund.objects.filter(order=order).exists()
    order.refresh_from_db()
    assert order.payable_won == paid and refund_limits(order)["cash"] == paid
    assert list(order.exchanges.order_by("id").values_list("additional_payment_won", "refund_won")) == [
        (5_000, 0), (0, 0)]
    assert 'id="exchange-due"' not in _buyers_page(order)
    assert 'id="exchange-due"' not in operator.get(f"/console/orders/{order.number}/").content.decode()
    # and the first exchange's goods, exchanged again before they left, are no longer to be shipped: only the
    # second exchange's are
    from portal.aftersales.selectors import exchanges_awaiting_shipping

    assert [e.pk for e in exchanges_awaiting_shipping(order)] == [order.exchanges.order_by("id").last().pk]


def test_a_failed_finish_after_the_payout_is_finished_at_the_next_sweep(shop, operator, monkeypatch):
    order, buyer = place(shop, method="card")
    refund = refund_by(operator, order, "card", order.payable_won)
    # given a payout the gateway confirmed, whose refund a dead process never finished
    real = answer_lost_after_the_gateway_applied_it(monkeypatch)
    with pytest.raises(RefundNotPaid):
        refund_complete(refund=refund, by=User.objects.get(username="operator"))
    monkeypatch.setattr(PaymentGateway, "cancel", real)
    # when the scheduler's sweep records the payout but finishing the refund fails once
    original = refunds_module._tell_provider

    def fail_once(*args, **kwargs):
        monkeypatch.setattr(refunds_module, "_tell_provider", original)
        raise RuntimeError("database went away")

    monkeypatch.setattr(refunds_module, "_tell_provider", fail_once)
    later = timezone.now() + timedelta(minutes=6)
    assert refunds_resume(now=later) == 0
    refund.refresh_from_db()
    assert refund.status == RefundStatus.BEFORE
    payment = order.payments.get()
    assert payment.status == PaymentStatus.CANCELLED  # the money went back
    # then the next sweep finishes it, and pressing 환불완료 finds it done: the card is cancelled once
    assert refunds_resume(now=later) == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    assert refund_complete(refund=refund, by=User.objects.get(username="operator")) is False
    assert GatewayEntry.objects.filter(kind="cancel").count() == 1
    assert shop.balance(buyer)["available"] == 15_500


def test_pressing_again_after_the_sweep_recorded_the_payout_finishes_the_refund(shop, operator, monkeypatch):
    order, buyer = place(shop, method="card")
    refund = refund_by(operator, order, "card", order.payable_won)
    real = answer_lost_after_the_gateway_applied_it(monkeypatch)
    with pytest.raises(RefundNotPaid):
        refund_complete(refund=refund, by=User.objects.get(username="operator"))
    monkeypatch.setattr(PaymentGateway, "cancel", real)
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(refunds_module, "_tell_provider", fail)
    refunds_resume(now=timezone.now() + timedelta(minutes=6))  # the payout recorded done, the finish failed
    assert order.payments.get().status == PaymentStatus.CANCELLED
    monkeypatch.undo()
    # the operator's press finds the payout done (the payment is 취소 now) and completes the refund
    assert refund_complete(refund=refund, by=User.objects.get(username="operator")) is True
    assert GatewayEntry.objects.filter(kind="cancel").count() == 1
    assert shop.balance(buyer)["available"] == 15_500


@on_postgres
def test_a_cancel_button_and_a_refund_recorded_at_once_never_promise_the_same_money(shop, operator):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from portal.aftersales.cancellations import order_cancel_after_payment
    from portal.aftersales.common import ActionError, RefundInput

    for _round in range(3):
        order, _ = place(shop, code="4", method="card")  # 19,500원 charged
        payment = order.payments.get()
        user = User.objects.get(username="operator")

        def act(what, order=order, payment=payment, user=user):
            try:
                if what == "refund":
                    order_cancel_after_payment(order=order, by=user, data=RefundInput(
                        cash_won=payment.amount_won, store_points_won=0, mileage_won=order.mileage_use_won,
                        method="card"))
                else:
                    payment_cancel(payment=payment, amount_won=payment.amount_won, key=f"whole-{order.pk}", by=user)
                return True
            except (ActionError, PaymentActionError):
                return False
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(act, ["refund", "cancel"]))
        promised = (Refund.objects.filter(order=order).aggregate(s=Sum("cash_won"))["s"] or 0) + (
            PaymentCancel.objects.filter(payment=payment, refund_number="").exclude(status="failed").aggregate(
                s=Sum("amount_won"))["s"] or 0)
        assert sum(results) >= 1 and promised <= payment.amount_won


def test_a_refused_cancel_asked_again_is_checked_against_what_is_left(shop, operator):
    from django.db import transaction

    from portal.orders import money

    order, _ = place(shop, code="4", method="card")  # 19,500원 charged
    payment = order.payments.get()
    # given a cancel of the whole charge the gateway refused, and then another one that took the whole charge
    with transaction.atomic():
        refused, _ask = money._reserve(payment, amount_won=19_500, key="first", label="카드결제취소",
                                       refund_number="", by=None)
        money._record(refused.pk, GatewayResult(False, "", "거절"), None)
        taken, _ask = money._reserve(payment, amount_won=19_500, key="second", label="카드결제취소",
                                     refund_number="", by=None)
    # when the refused one is asked again with its key: refused, nothing is left to cancel
    with pytest.raises(PaymentActionError) as caught, transaction.atomic():
        money._reserve(payment, amount_won=19_500, key="first", label="카드결제취소", refund_number="", by=None)
    assert "0원" in caught.value.message
    assert PaymentCancel.objects.get(idempotency_key="first").status == "failed"


def test_the_order_detail_marks_the_replaced_line_and_offers_no_empty_actions(shop, operator):
    order = _delivered_bank_order(shop, operator, "2")
    _exchange(operator, order, "1")
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    replaced = page.split('class="order-line line-replaced')[1].split("</tr>")[0]
    assert "<s>샘플상품 2</s>" in replaced and "반품/교환됨" in replaced
    assert 'id="lines-note"' in page and "-500원 사용 · 1% 적립" in page
    # a cancelled order has nothing left to do: no empty action card
    cancelled, _ = place(shop, method="bank")
    operator.post(f"/console/orders/{cancelled.number}/cancel/")
    page = operator.get(f"/console/orders/{cancelled.number}/").content.decode()
    assert "취소" in page and 'id="actions"' not in page


def test_the_cancel_form_writes_amounts_as_every_screen_does_and_takes_them_back(shop, operator):
    order, _ = place(shop, code="4", method="card")  # 19,500원 charged
    page = operator.get(f"/console/orders/{order.number}/cancel/").content.decode()
    assert 'name="cash_won" value="19,500"' in page and 'inputmode="numeric"' in page
    response = operator.post(f"/console/orders/{order.number}/cancel/", cancel_form(order, 0, "card") | {
        "cash_won": "19,500"})
    assert response.status_code == 302
    assert Refund.objects.get(order=order).cash_won == 19_500


def test_the_english_console_reads_the_status_history_in_english(shop, operator, settings):
    order, _ = place(shop, method="bank")
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    operator.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    history = operator.get(f"/console/orders/{order.number}/").content.decode().split('id="history"')[1]
    history = history.split("</table>")[0]
    assert "Confirm deposit" in history and "입금확인" not in history


def test_the_ship_action_takes_a_listed_carrier_by_code_or_name_and_refuses_others(shop, operator):
    orders = [place(shop, method="card")[0] for _ in range(3)]
    url = "/console/orders/{}/action/ship/"
    page = operator.post(url.format(orders[0].number), {"carrier": "택배아님", "invoice_no": "1"},
                         follow=True).content.decode()
    assert "택배사를 목록에서 골라 주세요" in page and Order.objects.get(pk=orders[0].pk).status == "paid"
    operator.post(url.format(orders[0].number), {"carrier": "hanjin", "invoice_no": "111"})
    operator.post(url.format(orders[1].number), {"carrier": "롯데택배", "invoice_no": "222"})
    operator.post(url.format(orders[2].number), {"company": "CJ대한통운", "invoice_no": "333"})
    assert [Order.objects.get(pk=o.pk).carrier for o in orders] == ["hanjin", "lotte", "cj"]


def test_a_change_of_refund_method_is_kept_in_the_order_s_history(shop, operator):
    # given a card refund waiting, changed to 현금환불 to an account, then back to 카드취소
    order, _ = place(shop, code="4", method="card")
    refund = refund_by(operator, order, "card", order.payable_won)
    assert change_method(operator, refund, "cash", **ACCOUNT).status_code == 302
    assert change_method(operator, refund, "card").status_code == 302
    # then 주문상세정보 lists both changes: when, which refund, who, from what to what (the account masked)
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    history = detail.split('id="refund-history"', 1)[1].split("</table>", 1)[0]
    assert history.count(refund.number) == 2 and "operator" in history
    assert "카드취소 → 현금환불" in history and "현금환불 → 카드취소" in history
    assert "***-****-5678" in history and "302-1234-5678" not in history


def test_a_statement_after_an_exchange_adds_up_to_what_was_placed_and_states_the_exchange_apart(shop, operator):
    # given a 10,000원 bank-transfer order (500원 of mileage: 9,500원 paid) exchanged down for a 5,000원 product
    order = _delivered_bank_order(shop, operator, "2")
    paid = order.payments.get().amount_won
    _exchange(operator, order, "1")
    page = _buyers_page(order)
    statement = page.split('id="statement"', 1)[1].split("</table>", 1)[0]

    def figure(name: str) -> int:
        return int(statement.split(f'id="{name}">', 1)[1].split("원", 1)[0].replace(",", ""))

    # then the lines above the total add up to it: the goods as ordered, less the mileage used, is what was paid
    assert figure("statement-goods") == 10_000 and figure("statement-total") == paid == 10_000 - 500
    assert 'id="statement-placed-note"' in statement
    # and the exchange's 5,000원 going back is the refund's, below
    refunds = page.split('id="refunds"', 1)[1]
    assert "5,000원" in refunds and "교환" in refunds
    # the receipt says the same: the goods as ordered, the total what was taken
    from portal.receipts.render import receipt_html

    receipt = receipt_html(Order.objects.get(pk=order.pk))
    assert 'id="receipt-goods">10,000원' in receipt and f'id="total">{paid:,}원' in receipt


def test_my_page_states_an_exchanged_order_as_its_statement_does(shop, operator):
    """My Page's 결제금액 is the statement's 총 주문합계 금액 (the order as placed), and what an exchange leaves to pay
    is stated beside it — never the exchanged order's new total, as if it were paid."""
    from portal.accounts.models import Member

    order = _delivered_bank_order(shop, operator, "1")
    paid = order.payments.get().amount_won
    Order.objects.filter(pk=order.pk).update(member=Member.objects.get(user__username="hong"))
    _exchange(operator, order, "2")  # 5,000원 → 10,000원: 5,000원 still to come
    hong = Client()
    hong.force_login(User.objects.get(username="hong"))
    row = hong.get("/shop/mypage/").content.decode().split(order.number, 1)[1].split("</tr>", 1)[0]
    statement = hong.get(f"/shop/orders/{order.number}/").content.decode()
    total = statement.split('id="statement-total">', 1)[1].split("<", 1)[0]
    assert total == f"{paid:,}원" and f">{paid:,}원" in row
    assert "추가 결제예정 금액 5,000원" in row and f"{paid + 5_000:,}원" not in row


@pytest.mark.parametrize(("method", "why"), [("realtime", "계좌이체는 전액만 취소되어 남긴 금액을 나중에 결제취소로 돌려줄 수 없습니다."),
                                             ("phone", "휴대폰결제는 부분취소가 되지 않아 남긴 금액을 나중에 결제취소로 돌려줄 수 없습니다."),
                                             ("bank", "무통장입금은 결제취소가 없어 남긴 금액을 나중에 돌려줄 수 없습니다.")])
def test_a_whole_cancel_that_would_keep_money_no_cancel_can_give_back_is_refused(shop, operator, method, why):
    # given a paid order whose payment cannot be cancelled in part later (a transfer, a mobile payment, a deposit)
    order, _ = place(shop, method=method)
    if method == "bank":
        operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
        order.refresh_from_db()
        assert order.status == "paid"
    form = operator.get(f"/console/orders/{order.number}/cancel/").content.decode()
    assert "취소완료가 거절됩니다" in form  # said before anything is typed
    # when 주문취소 gives back 1,000원 less than was paid, as 현금환불
    response = operator.post(f"/console/orders/{order.number}/cancel/",
                             cancel_form(order, order.payable_won - 1_000, "cash", **ACCOUNT))
    # then it is refused with why, and nothing changed: the 1,000원 would have stayed with the shop for good
    assert response.status_code == 400 and why in response.content.decode()
    assert "1,000원이 배송비라면 배송비적용에" in response.content.decode()
    # a transfer or a mobile payment (cancelled whole only) may still be left out whole: the message says so
    assert ("모두 남겨 나중에 결제취소로 돌려주세요" in response.content.decode()) == (method != "bank")
    assert not Refund.objects.exists() and Order.objects.get(pk=order.pk).status == "paid"
    # and the same money kept as 배송비 is a refund like any other
    assert refund_by(operator, order, "cash", order.payable_won, shipping_deduction_won="1000", **ACCOUNT).payout_won \
        == order.payable_won - 1_000


def test_a_whole_cancel_of_a_card_may_keep_money_which_결제취소_gives_back_later(shop, operator):
    order, _ = place(shop, method="card")
    form = operator.get(f"/console/orders/{order.number}/cancel/").content.decode()
    assert "돌려주려면 주문상세정보의 결제취소로 취소해야 합니다" in form and "취소완료가 거절됩니다" not in form
    refund = refund_by(operator, order, "card", order.payable_won - 1_000)
    assert refund.cash_won == order.payable_won - 1_000 and Order.objects.get(pk=order.pk).status == "cancelled"
