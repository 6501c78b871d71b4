"""A call the provider refused for good never strands the order's later calls: a cancel (which takes everything
back) is sent whatever failed before it, and a cancel the provider refused because it had ended the transaction
already is recorded as such by an operator, with what they checked (docs/protocol.md §2: a provider may answer a
second cancel with a state error instead of 3092)."""

import pytest

from mileage.models import MileageEvent, OutboxMessage, OutboxStatus, TransactionState
from mileage.provider import outbox
from mileage.provider.client import ProviderError
from portal.aftersales.models import Refund
from portal.aftersales.refunds import refund_complete
from portal.orders.models import OrderStatus

from .conftest import place

pytestmark = pytest.mark.sandbox


def refuse(monkeypatch, call: str, code: str, message: str) -> None:
    """The provider refuses every `call` (a kind of the outbox) with `code`."""

    def refused(client, ids, payload, key):
        raise ProviderError(code, message)

    monkeypatch.setitem(outbox.CALLS, call, refused)


def deposit_refused(shop, operator, monkeypatch):
    """A bank transfer with 500원 of mileage whose 입금확인 the provider refused for good (3011): its order and the
    failed call."""
    order, buyer = place(shop)
    with monkeypatch.context() as patched:
        refuse(patched, "stated", "3011", "stated not allowed in CANCELLED")
        operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    return order, buyer, OutboxMessage.objects.get(order=order, kind="stated")


def cancelled_and_refunded(operator, order) -> None:
    """배송전 취소 with all of it back (the money as 현금환불), then 환불완료."""
    response = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": str(order.payable_won), "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "cash", "bank": "국민은행", "account_no": "123-456-789",
        "holder": "홍길동"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    assert refund_complete(refund=Refund.objects.get(order=order), by=operator_user(operator)) is True


def test_a_refused_deal_done_does_not_hold_back_the_orders_cancel(shop, operator, monkeypatch):
    # given a bank transfer with 500원 of mileage whose 입금확인 the provider refused for good (3011)
    order, buyer, stated = deposit_refused(shop, operator, monkeypatch)
    assert stated.status == OutboxStatus.FAILED and "[3011]" in stated.last_error
    # 주문상세정보 says the provider has not taken it, beside the mileage, with the way to 전송 대기열
    summary = operator.get(f"/console/orders/{order.number}/").content.decode().split('id="mileage-summary"', 1)[1]
    failed = summary.split("</td>", 1)[0]
    assert 'id="failed-calls"' in failed and "거래완료" in failed and "[3011]" in failed
    # when the order is cancelled before shipping and its refund completed
    cancelled_and_refunded(operator, order)
    # then the cancel went out (the failed 입금확인 before it notwithstanding) and the buyer has the 500원 back
    cancel = OutboxMessage.objects.get(order=order, kind="cancel")
    assert cancel.status == OutboxStatus.SENT
    assert shop.balance(buyer)["available"] == 15_500
    order.mileage.refresh_from_db()
    assert (order.mileage.state, order.mileage.provider_use_won) == (TransactionState.CANCELLED, 0)
    # the cancel closed the failed call: nothing is said to wait any more
    assert 'id="failed-calls"' not in operator.get(f"/console/orders/{order.number}/").content.decode()


def test_a_cancel_passes_the_calls_stuck_behind_a_refused_one_and_closes_them(shop, operator, monkeypatch):
    # given a transfer whose 입금확인 the provider refused for good, then set back to 입금전 (미입금상태로 전환):
    # its cancel/stated waits behind the refused call
    order, buyer, _stated = deposit_refused(shop, operator, monkeypatch)
    operator.post(f"/console/orders/{order.number}/action/mark_unpaid/")
    stuck = OutboxMessage.objects.get(order=order, kind="cancel_stated")
    assert (stuck.status, stuck.attempts) == (OutboxStatus.PENDING, 0)
    # when the order is cancelled before payment
    assert operator.post(f"/console/orders/{order.number}/cancel/").status_code == 302
    # then the cancel went out past both, the buyer has the 500원 back, and the two are closed, never to be sent
    assert OutboxMessage.objects.get(order=order, kind="cancel").status == OutboxStatus.SENT
    assert shop.balance(buyer)["available"] == 15_500
    assert set(OutboxMessage.objects.filter(order=order, kind__in=("stated", "cancel_stated"))
               .values_list("status", flat=True)) == {OutboxStatus.SUPERSEDED}
    page = operator.get("/console/outbox/").content.decode()
    assert order.number not in page  # nothing left to look at
    stated = OutboxMessage.objects.get(order=order, kind="stated")
    operator.post("/console/outbox/", {"message": stated.pk})  # 다시 보내기 of a closed call sends nothing
    stated.refresh_from_db()
    assert stated.status == OutboxStatus.SUPERSEDED


def test_a_call_after_a_refused_one_that_is_no_cancel_waits_and_says_for_what(shop, operator, monkeypatch):
    order, _buyer, stated = deposit_refused(shop, operator, monkeypatch)
    operator.post(f"/console/orders/{order.number}/action/ship/", {"carrier": "cj", "invoice_no": "6541111"})
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    invoice = OutboxMessage.objects.get(order=order, kind="invoice")
    assert stated.status == OutboxStatus.FAILED
    assert (invoice.status, invoice.attempts) == (OutboxStatus.PENDING, 0)  # in order: never before the 입금확인
    # the queue lists what waits, as the dashboard counts it, and what it waits for
    page = operator.get("/console/outbox/").content.decode()
    assert f"#{stated.pk} 요청을 기다리는 중" in page and order.number in page
    # a call that is no cancel cannot be recorded by hand
    operator.post("/console/outbox/", {"message": stated.pk, "action": "resolve", "note": "확인"})
    stated.refresh_from_db()
    assert stated.status == OutboxStatus.FAILED


def test_a_refused_invoice_holds_back_no_later_call(shop, operator, monkeypatch):
    # the delivery invoice only tells the provider what shipped: refused, it waits for an operator in 전송 대기열
    # while the purchase confirmation goes
    order, _buyer = place(shop, method="card")
    with monkeypatch.context() as patched:
        refuse(patched, "invoice", "3020", "invoice refused")
        operator.post(f"/console/orders/{order.number}/action/ship/", {"carrier": "cj", "invoice_no": "6541111"})
    operator.post(f"/console/orders/{order.number}/action/deliver/")
    operator.post(f"/console/orders/{order.number}/action/confirm_purchase/")
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    invoice = OutboxMessage.objects.get(order=order, kind="invoice")
    confirmed = OutboxMessage.objects.get(order=order, kind="confirmed")
    assert invoice.status == OutboxStatus.FAILED and confirmed.status == OutboxStatus.SENT
    order.mileage.refresh_from_db()
    assert order.mileage.state == "confirmed"
    page = operator.get("/console/outbox/").content.decode()
    assert order.number in page and f"#{invoice.pk} 요청을 기다리는 중" not in page


@pytest.mark.parametrize("code", ["3013", "5302"])  # the sandbox's state error, and a provider's own numbering
def test_a_cancel_refused_as_already_cancelled_is_recorded_by_an_operator_with_what_they_checked(
        shop, operator, monkeypatch, code):
    # given a bank transfer the provider had cancelled by itself, whose 입금전 취소 it refuses with a state error
    order, buyer = place(shop)
    with monkeypatch.context() as patched:
        refuse(patched, "cancel", code, "cancel not allowed in state CANCELLED")
        assert operator.post(f"/console/orders/{order.number}/cancel/").status_code == 302
    message = OutboxMessage.objects.get(order=order, kind="cancel")
    assert message.status == OutboxStatus.FAILED
    assert "(반환 예정)" in operator.get(f"/console/orders/{order.number}/").content.decode()
    page = operator.get("/console/outbox/").content.decode()
    assert "이미 취소됨으로 기록" in page
    # when the operator records it without saying what they checked: refused, nothing changes
    for note in ("", "   "):
        operator.post("/console/outbox/", {"message": message.pk, "action": "resolve", "note": note})
        message.refresh_from_db()
        assert message.status == OutboxStatus.FAILED
    # and with what they checked on the partner site
    response = operator.post("/console/outbox/", {"message": message.pk, "action": "resolve",
                                                  "note": "파트너센터에서 취소 완료 확인"}, follow=True)
    assert "이미 취소된 것으로 기록했습니다" in response.content.decode()
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    event = MileageEvent.objects.filter(transaction__order=order).latest("pk")
    assert (event.kind, event.result_code, event.result_message) == ("cancel", "HAND", "파트너센터에서 취소 완료 확인")
    assert event.created_by.username == operator_user(operator).username
    order.mileage.refresh_from_db()
    assert (order.mileage.state, order.mileage.provider_use_won) == (TransactionState.CANCELLED, 0)
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert "(반환 완료)" in detail and "반환 예정" not in detail
    # once: a second record changes nothing
    operator.post("/console/outbox/", {"message": message.pk, "action": "resolve", "note": "다시"})
    assert MileageEvent.objects.filter(transaction__order=order, result_code="HAND").count() == 1


def operator_user(client):
    from django.contrib.auth.models import User

    return User.objects.get(pk=client.session["_auth_user_id"])


def test_a_failed_call_is_not_sent_again_once_a_cancel_of_its_order_is_on_its_way(shop, operator, monkeypatch):
    order, _buyer, stated = deposit_refused(shop, operator, monkeypatch)
    with monkeypatch.context() as patched:
        patched.setattr(outbox, "_schedule", lambda message_id: None)  # the cancel recorded, not sent yet
        cancelled_and_refunded(operator, order)
        assert OutboxMessage.objects.get(order=order, kind="cancel").status == OutboxStatus.PENDING
        # 다시 보내기 of the refused 입금확인 now would reach the provider after the cancel: refused, said why
        page = operator.post("/console/outbox/", {"message": stated.pk}, follow=True).content.decode()
        assert "취소 요청이 이미 나가 있어" in page
        stated.refresh_from_db()
        assert (stated.status, stated.attempts) == (OutboxStatus.FAILED, 1)


def test_a_cancel_refused_for_its_key_cannot_be_recorded_as_cancelled(shop, operator, monkeypatch):
    # a refusal of the request itself (the sandbox's 2xxx: the key) says nothing of the transaction's state
    order, _buyer = place(shop)
    with monkeypatch.context() as patched:
        refuse(patched, "cancel", "2003", "wrong secret")
        assert operator.post(f"/console/orders/{order.number}/cancel/").status_code == 302
    message = OutboxMessage.objects.get(order=order, kind="cancel")
    assert message.status == OutboxStatus.FAILED and not message.resolvable_by_hand
    assert "이미 취소됨으로 기록" not in operator.get("/console/outbox/").content.decode()
    response = operator.post("/console/outbox/", {"message": message.pk, "action": "resolve", "note": "확인"},
                             follow=True)
    assert "취소된 것으로 기록할 수 있습니다" in response.content.decode()
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.FAILED


def test_a_retry_pressed_while_another_operators_retry_is_sending_says_so_not_failed(shop, operator, monkeypatch):
    # given a failed call
    from mileage.models import MileageSettings

    order, _buyer = place(shop)
    with monkeypatch.context() as patched:
        refuse(patched, "cancel", "2003", "wrong secret")
        operator.post(f"/console/orders/{order.number}/cancel/")
    message = OutboxMessage.objects.get(order=order, kind="cancel")
    assert message.status == OutboxStatus.FAILED
    # when this press finds it unanswered (the provider down): a failure of this press, with its reason
    api_id = MileageSettings.load().api_id
    shop.fault(api_id, "http500", count=5)
    page = operator.post("/console/outbox/", {"message": message.pk, "action": "retry"}, follow=True).content.decode()
    assert "전송 실패" in page and "UNAVAILABLE" in page and "이미 다시 보내는 중입니다" not in page
    shop.fault(api_id, "", count=0)
    # and when another operator's press took it first (pending, being sent): this press says so, not a failure
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.PENDING)
    page = operator.post("/console/outbox/", {"message": message.pk, "action": "retry"}, follow=True).content.decode()
    assert "이미 다시 보내는 중입니다" in page and "전송 실패" not in page
