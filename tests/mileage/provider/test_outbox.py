"""The outbox: provider calls written with the state change, sent after commit, retried, never twice."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from mileage.models import (
    MileageEvent,
    MileageSettings,
    MileageTransaction,
    OutboxMessage,
    OutboxStatus,
    TransactionState,
)
from mileage.provider import outbox
from mileage.services.transactions import (
    mileage_approval_ask,
    mileage_approval_record,
    mileage_call,
    mileage_hold_record,
    outbox_deliver,
    outbox_deliver_due,
    outbox_retry_by_hand,
)
from tests.conftest import STANDARD_SANDBOX
from tests.factories import ProductFactory, order_for
from tests.mileage.provider.helpers import client_for, popup_choice

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]


def mileage_authorize(*, order):
    """The approval asked and recorded at once, as the checkout does around its charge."""
    from django.db import transaction

    approval = mileage_approval_ask(order=order)
    with transaction.atomic():
        return mileage_approval_record(approval)


@pytest.fixture
def portal(sandbox, merchant, settings):
    settings.MILEAGE_API_BASE = settings.MILEAGE_SERVICE_BASE = sandbox.base_url
    mileage_settings = MileageSettings.load()
    mileage_settings.api_id, mileage_settings.hash_key = merchant
    mileage_settings.save()
    return sandbox


def placed_order(portal, merchant, use=500):
    buyer = portal.new_buyer(15_500)
    done = popup_choice(portal, client_for(portal, merchant), buyer, use, 5_000)
    with transaction.atomic():
        order = order_for([(ProductFactory(price_won=5_000), 1)], mileage_use_won=use)
        mileage_hold_record(order=order, done=done)
    return order, buyer


def test_approval_is_synchronous_and_lands_in_the_ledger(portal, merchant):
    order, buyer = placed_order(portal, merchant)
    mileage = mileage_authorize(order=order)
    mileage.refresh_from_db()
    assert mileage.state == TransactionState.APPROVED and mileage.tx_id
    assert mileage.expected_earn_won == 45
    event = MileageEvent.objects.get(transaction=mileage)
    assert (event.kind, event.result_code, event.new_tx_id) == ("approve", "1000", mileage.tx_id)
    assert not OutboxMessage.objects.filter(order=order).exists()
    assert portal.balance(buyer)["available"] == 15_000
    states = list(mileage.state_changes.values_list("from_state", "to_state"))
    assert states == [("", "held"), ("held", "approving"), ("approving", "approved")]


def test_approval_is_refused_inside_a_database_transaction(portal, merchant):
    order, buyer = placed_order(portal, merchant)
    with pytest.raises(RuntimeError), transaction.atomic():
        mileage_authorize(order=order)
    assert portal.balance(buyer)["transactions"] == []


def test_nothing_is_sent_when_the_transaction_rolls_back(portal, merchant):
    order, buyer = placed_order(portal, merchant)
    mileage_authorize(order=order)
    with pytest.raises(RuntimeError), transaction.atomic():
        mileage_call(order=order, kind="cancel")
        raise RuntimeError("the refund failed to save")
    assert not OutboxMessage.objects.exists()
    assert portal.balance(buyer)["transactions"][0]["state"] == "APPROVED"


def test_enqueue_outside_a_transaction_is_refused(portal, merchant):
    order, _ = placed_order(portal, merchant)
    with pytest.raises(RuntimeError):
        outbox.enqueue_call(kind="cancel", order_id=order.pk, payload={"mileage_id": order.mileage.pk},
                            idempotency_key="x")


def test_sandbox_down_then_up_delivers_in_order_and_once(portal, merchant):
    order, buyer = placed_order(portal, merchant)
    mileage_authorize(order=order)
    # given the provider is down
    portal.stop()
    try:
        mileage_call(order=order, kind="stated")
        mileage_call(order=order, kind="confirmed")
        stated, confirmed = OutboxMessage.objects.filter(order=order).order_by("id")
        stated.refresh_from_db()
        assert stated.status == OutboxStatus.PENDING and stated.attempts == 1
        assert "UNAVAILABLE" in stated.last_error
        assert stated.next_attempt_at > timezone.now()
        # the later call of the same order waits behind the first
        assert outbox_deliver(confirmed.pk, now=timezone.now() + timedelta(hours=1)) is None
    finally:
        portal.restart()
    # when the provider is back and the sweep runs
    assert outbox_deliver_due(now=timezone.now() + timedelta(hours=1)) == 2
    # then both went out once, in order
    assert list(OutboxMessage.objects.filter(order=order).values_list("status", flat=True)) == ["sent"] * 2
    kinds = list(MileageEvent.objects.filter(transaction__order=order).values_list("kind", flat=True))
    assert kinds == ["approve", "stated", "confirmed"]
    assert portal.balance(buyer)["pending"] == 45
    assert portal.balance(buyer)["transactions"][-1]["state"] == "CONFIRMED"
    assert outbox_deliver_due(now=timezone.now() + timedelta(hours=2)) == 0


def test_after_the_last_try_it_waits_for_an_operator(portal, merchant):
    order, buyer = placed_order(portal, merchant)
    mileage_authorize(order=order)
    portal.fault(merchant[0], "http500", count=100)
    try:
        mileage_call(order=order, kind="cancel")
        message = OutboxMessage.objects.get(order=order, kind="cancel")
        moment = timezone.now()
        for _ in range(outbox.MAX_ATTEMPTS):
            moment += timedelta(hours=2)
            outbox_deliver(message.pk, now=moment)
        message.refresh_from_db()
        assert message.status == OutboxStatus.FAILED and message.attempts == outbox.MAX_ATTEMPTS
        assert outbox_deliver_due(now=moment + timedelta(days=1)) == 0
    finally:
        portal.fault(merchant[0], "", count=0)
    assert portal.balance(buyer)["available"] == 15_000
    # the operator presses retry
    assert outbox_retry_by_hand(message.pk).status == OutboxStatus.SENT
    assert portal.balance(buyer)["available"] == 15_500
    assert MileageEvent.objects.filter(transaction__order=order, kind="cancel").count() == 1


def test_a_refusal_fails_at_once_with_the_providers_code(portal, merchant):
    order, _buyer = placed_order(portal, merchant)
    mileage_authorize(order=order)
    mileage_call(order=order, kind="cancel")
    mileage_call(order=order, kind="stated")
    message = OutboxMessage.objects.get(order=order, kind="stated")
    assert message.status == OutboxStatus.FAILED and message.attempts == 1
    assert "[3002]" in message.last_error


def test_events_are_append_only(portal, merchant):
    from mileage.models import AppendOnlyError

    order, _ = placed_order(portal, merchant)
    mileage_authorize(order=order)
    event = MileageEvent.objects.get(transaction__order=order)
    event.result_code = "9999"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_a_deal_done_answer_without_an_amount_keeps_the_approvals_earn(portal, merchant, monkeypatch):
    """docs/protocol.md §2 promises baseAccumAmount on no answer but the approval's: a provider answering 입금확인's
    stated with its txId alone grants the earn it approved (45원 on 4,500원), which the portal books — not 0."""
    from dataclasses import replace

    from mileage.models import SettlementLine

    real = outbox.CALLS["stated"]

    def without_amount(client, ids, payload, key):
        result = real(client, ids, payload, key)
        raw = {k: v for k, v in result.raw.items() if k not in ("baseAccumAmount", "baseAccumRate", "addAccumRate")}
        return replace(result, earn_won=0, base_rate_x10=0, add_rate_x10=0, raw=raw)

    monkeypatch.setitem(outbox.CALLS, "stated", without_amount)
    order, _buyer = placed_order(portal, merchant)
    mileage = mileage_authorize(order=order)
    assert (mileage.expected_earn_won, mileage.granted_earn_won) == (45, 0)  # bank transfer: earned once paid
    mileage_call(order=order, kind="stated")
    mileage.refresh_from_db()
    assert (mileage.earn_granted, mileage.granted_earn_won, mileage.expected_earn_won) == (True, 45, 45)
    earned = SettlementLine.objects.filter(order=order, kind="EARN").values_list("amount_won", flat=True)
    assert sum(earned) == 45


def lapse(order):
    """The order's deposit deadline passed (E8): the portal's side of the automatic cancel."""
    from mileage.services.transactions import mileage_auto_cancel

    with transaction.atomic():
        mileage_auto_cancel(order=order)


def test_a_lapsed_transfer_is_cancelled_at_a_provider_that_does_not_cancel_it_by_itself(portal, merchant):
    # given a bank transfer with 500원 of mileage, still open at the provider (its own 15 days not over)
    order, buyer = placed_order(portal, merchant)
    mileage_authorize(order=order)
    assert portal.balance(buyer)["available"] == 15_000
    # when the portal lapses it: the cancel goes out, and the buyer has the 500원 back
    lapse(order)
    message = OutboxMessage.objects.get(order=order, kind="auto_cancel")
    assert message.status == OutboxStatus.SENT
    assert portal.balance(buyer)["available"] == 15_500
    mileage = order.mileage
    mileage.refresh_from_db()
    assert (mileage.state, mileage.provider_use_won, mileage.returned_won) == (TransactionState.CANCELLED, 0, 500)
    # and a lapse after the answer (a late sweep) asks nothing more
    lapse(order)
    assert OutboxMessage.objects.filter(order=order).count() == 1


def test_a_state_error_is_the_answer_only_when_the_status_call_says_cancelled(portal, merchant, monkeypatch):
    from mileage.provider.client import MileageClient, ProviderError

    def ended(self, tx_id, *, idempotency_key):
        raise ProviderError("3013", "취소할 수 없는 상태입니다.")

    # given two lapsed transfers whose cancel the provider answers with a state error instead of 3092
    cancelled, _ = placed_order(portal, merchant)
    still_open, _ = placed_order(portal, merchant)
    for order in (cancelled, still_open):
        mileage_authorize(order=order)
    order = cancelled  # the one the provider had cancelled already (here: for real, before the portal asks)
    client_for(portal, merchant).cancel(MileageTransaction.objects.get(order=order).tx_id, idempotency_key="by-itself")
    monkeypatch.setattr(MileageClient, "cancel", ended)
    lapse(cancelled)
    lapse(still_open)
    # then the status call decides: cancelled there, it is the answer; still open there, it waits for an operator
    # (a provider without the status call: both wait)
    if STANDARD_SANDBOX:
        assert OutboxMessage.objects.get(order=cancelled, kind="auto_cancel").status == OutboxStatus.FAILED
        return
    assert OutboxMessage.objects.get(order=cancelled, kind="auto_cancel").status == OutboxStatus.SENT
    event = MileageEvent.objects.filter(transaction__order=cancelled).latest("pk")
    assert (event.kind, event.result_code) == ("auto_cancel", "3013")
    cancelled.mileage.refresh_from_db()
    assert (cancelled.mileage.state, cancelled.mileage.provider_use_won) == (TransactionState.CANCELLED, 0)
    message = OutboxMessage.objects.get(order=still_open, kind="auto_cancel")
    assert message.status == OutboxStatus.FAILED and message.last_error.startswith("[3013]")
    still_open.mileage.refresh_from_db()
    assert (still_open.mileage.state, still_open.mileage.provider_use_won) == (TransactionState.APPROVED, 500)


def test_two_lapses_before_the_answer_ask_once(portal, merchant, monkeypatch):
    # two nodes' sweeps (or a sweep and the buyer's 입금전 취소) lapse the order before any answer came
    order, _buyer = placed_order(portal, merchant)
    mileage_authorize(order=order)
    monkeypatch.setattr(outbox, "_schedule", lambda message_id: None)
    lapse(order)
    lapse(order)
    assert OutboxMessage.objects.filter(order=order, kind="auto_cancel").count() == 1
    assert outbox_deliver_due() == 1
    assert MileageEvent.objects.filter(transaction__order=order, kind="auto_cancel").count() == 1


def test_an_authentication_refusal_of_the_lapse_cancel_waits_for_an_operator(portal, merchant, monkeypatch):
    from mileage.provider.client import MileageClient, ProviderError

    def refused(self, tx_id, *, idempotency_key):
        raise ProviderError("2001", "인증 실패")

    order, _buyer = placed_order(portal, merchant)
    mileage_authorize(order=order)
    monkeypatch.setattr(MileageClient, "cancel", refused)
    lapse(order)
    message = OutboxMessage.objects.get(order=order, kind="auto_cancel")
    assert message.status == OutboxStatus.FAILED and "[2001]" in message.last_error
    order.mileage.refresh_from_db()
    assert order.mileage.state == TransactionState.APPROVED and order.mileage.provider_use_won == 500


def test_a_cancel_never_passes_a_failed_re_approval(portal, merchant, monkeypatch):
    from mileage.provider.client import ProviderError

    # a re-approval that failed may have replaced the txId at the provider (its answers lost): a cancel sent past it
    # could end the old txId and leave the new one paid
    def lost(client, ids, payload, key):
        raise ProviderError("3010", "재승인 거절")

    order, _buyer = placed_order(portal, merchant)
    mileage = mileage_authorize(order=order)
    monkeypatch.setitem(outbox.CALLS, "repayment", lost)
    with transaction.atomic():
        outbox.enqueue_call(kind="repayment", order_id=order.pk, idempotency_key=f"{order.number}:repayment:t",
                            payload={"mileage_id": mileage.pk, "request": {}, "tx_id_before": mileage.tx_id})
    assert OutboxMessage.objects.get(order=order, kind="repayment").status == OutboxStatus.FAILED
    mileage_call(order=order, kind="cancel")
    cancel = OutboxMessage.objects.get(order=order, kind="cancel")
    assert (cancel.status, cancel.attempts) == (OutboxStatus.PENDING, 0)


def test_the_claim_reads_the_ids_the_call_is_sent_on(portal, merchant, monkeypatch):
    order, _buyer = placed_order(portal, merchant)
    mileage = mileage_authorize(order=order)
    monkeypatch.setattr(outbox, "_schedule", lambda message_id: None)
    mileage_call(order=order, kind="stated")
    message = OutboxMessage.objects.get(order=order, kind="stated")
    claimed = outbox._claim(message.pk, timezone.now(), force=False)
    assert (claimed.claimed_req_tx_id, claimed.claimed_tx_id) == (mileage.req_tx_id, mileage.tx_id) != ("", "")


def test_an_answer_to_a_call_closed_meanwhile_is_not_applied(portal, merchant, monkeypatch):
    from mileage.provider.client import ApiResult

    # a call in flight when a later cancel of its order closed it (취소로 종결): its answer finds it closed
    def closed_while_sent(client, ids, payload, key):
        with transaction.atomic():
            message = OutboxMessage.objects.select_for_update().get(kind="stated")
            outbox.outbox_set_status(message=message, to_status=OutboxStatus.SUPERSEDED)
        return ApiResult(code="1000", message="성공", raw={"resultCode": "1000"})

    order, _buyer = placed_order(portal, merchant)
    mileage_authorize(order=order)
    monkeypatch.setitem(outbox.CALLS, "stated", closed_while_sent)
    mileage_call(order=order, kind="stated")
    assert OutboxMessage.objects.get(order=order, kind="stated").status == OutboxStatus.SUPERSEDED
    assert not MileageEvent.objects.filter(transaction__order=order, kind="stated").exists()
    assert outbox_deliver(OutboxMessage.objects.get(order=order, kind="stated").pk, force=True) is None


def test_an_answer_the_transaction_cannot_take_fails_for_an_operator_instead_of_retrying_for_ever(
        portal, merchant, monkeypatch):
    from mileage.provider.client import ApiResult

    order, _buyer = placed_order(portal, merchant)
    mileage_authorize(order=order)
    mileage_call(order=order, kind="cancel")  # sent: the transaction is cancelled
    monkeypatch.setitem(outbox.CALLS, "stated", lambda client, ids, payload, key: ApiResult(
        code="1000", message="성공", raw={"resultCode": "1000"}))
    mileage_call(order=order, kind="stated")  # a provider saying yes to a deal done on a cancelled transaction
    message = OutboxMessage.objects.get(order=order, kind="stated")
    assert message.status == OutboxStatus.FAILED and message.last_error.startswith("[APPLY] 1000")
    order.mileage.refresh_from_db()
    assert order.mileage.state == TransactionState.CANCELLED


def test_a_refused_invoice_holds_back_no_later_call_and_is_not_sent_over_a_later_one(portal, merchant, monkeypatch):
    from mileage.provider import ProviderError
    from mileage.provider.client import Invoice
    from mileage.services.transactions import mileage_invoice_send

    order, _buyer = placed_order(portal, merchant)
    order.payment_method = "card"
    mileage_authorize(order=order)
    real = outbox.CALLS["invoice"]

    def refused(client, ids, payload, key):
        raise ProviderError("3002", "송장을 등록할 수 없습니다.")

    def invoice(number):
        with transaction.atomic():
            mileage_invoice_send(order=order, invoice=Invoice("20261207", number, "홍길동", "CJ대한통운", "서울 동작구"))
        return OutboxMessage.objects.get(order=order, kind="invoice", idempotency_key__endswith=number)

    monkeypatch.setitem(outbox.CALLS, "invoice", refused)
    first = invoice("111111111111")
    assert first.status == OutboxStatus.FAILED
    # the refused invoice holds back nothing: the purchase confirmation goes
    with transaction.atomic():
        mileage_call(order=order, kind="confirmed")
    assert OutboxMessage.objects.get(order=order, kind="confirmed").status == OutboxStatus.SENT
    # a corrected invoice goes; the refused one is then never sent over it
    monkeypatch.setitem(outbox.CALLS, "invoice", real)
    second = invoice("222222222222")
    assert second.status == OutboxStatus.SENT
    assert outbox_retry_by_hand(first.pk).status == OutboxStatus.FAILED
    assert OutboxMessage.objects.get(pk=first.pk).attempts == first.attempts


@pytest.mark.parametrize(("kind", "earlier", "expected"), [
    ("stated", [], None),
    ("confirmed", [(1, "pending", "stated")], 1),
    ("confirmed", [(1, "failed", "stated")], 1),  # a call of the order goes after the earlier ones only
    ("cancel", [(1, "failed", "stated"), (2, "pending", "confirmed")], None),  # passes the failed and what it stuck
    ("cancel", [(1, "pending", "stated"), (2, "failed", "confirmed")], 1),  # never a call still to go before them
    ("cancel", [(1, "failed", "repayment")], 1),  # never a failed re-approval
    ("auto_cancel", [(1, "failed", "stated"), (2, "pending", "cancel")], 2),  # nor another ending call
    ("confirmed", [(1, "failed", "invoice")], None),  # a refused invoice holds nothing back
    ("repayment", [(1, "failed", "invoice"), (2, "pending", "stated")], 2),
    ("confirmed", [(1, "pending", "invoice")], 1),  # an invoice still to go goes first
])
def test_what_a_call_waits_for_is_one_rule_for_the_outbox_and_its_screen(kind, earlier, expected):
    from mileage.models.outbox import waits_for

    assert waits_for(kind, earlier) == expected
