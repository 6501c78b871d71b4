"""The one owner of an order's Naver Mileage transaction: every change of `MileageTransaction`, `MileageEvent` and
`SettlementLine` is made here, along `MILEAGE_TRANSITIONS`, with a `MileageStateChange` row per change.

Two ways reach the provider (docs/adr/0005-authorisation-before-capture.md):
- the approval is an authorisation: `mileage_approval_ask` calls it synchronously at placement, before a card is
  charged or a bank-transfer order is confirmed, and recovers a lost answer with the status call; the answer is
  recorded (`mileage_approval_record`) in the transaction that marks the order paid or 입금전;
- everything that follows a state change the shop already owns (stated, cancel, re-approval, confirmed, invoice,
  abort) is recorded in the outbox in the same transaction as that change and sent after commit; the provider's
  answer comes back through `mileage_answer_apply`.
"""

import functools
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from core.idempotency import action_key
from mileage import wire
from mileage.models import (
    MILEAGE_TRANSITIONS,
    MileageEvent,
    MileageEventKind,
    MileageSettings,
    MileageStateChange,
    MileageTransaction,
    OutboxMessage,
    OutboxStatus,
    SettlementKind,
    SettlementLine,
    TransactionState,
)
from mileage.policy import earn_amount, earn_base
from mileage.policy.constants import BUSINESS_TZ
from mileage.policy.earn import earn_within_holding_cap
from mileage.policy.earn_choice import STORE
from mileage.provider import extensions, outbox
from mileage.provider.client import (
    ApiResult,
    Invoice,
    PaymentRequest,
    ProviderError,
    ProviderUnavailable,
    get_client,
)
from mileage.selectors import mileage_for_order
from mileage.services.settlement import report_lines
from mileage.shop import ShopOrder, order_amounts

log = logging.getLogger(__name__)
# States in which the provider holds the order's use (or is about to): calls that follow the order go out.
LIVE_STATES = (TransactionState.APPROVING, TransactionState.APPROVED, TransactionState.STATED, TransactionState.REPAID, TransactionState.CONFIRMED)


class TransitionNotAllowed(Exception):
    def __init__(self, mileage: MileageTransaction, to_state: str):
        super().__init__(f"mileage {mileage.pk}: {mileage.state} → {to_state} is not allowed")


class MileageRefused(Exception):
    """The approval was refused, or could not be had: the order must not be placed. `message` is for the buyer."""

    def __init__(self, code: str, message: str):
        super().__init__(f"[{code}] {message}")
        self.code, self.message = code, message


# --- the state machine -------------------------------------------------------------------------------------------

def _transition(mileage: MileageTransaction, to_state: str, *, note: str = "", event: MileageEvent | None = None,
                by=None, fields: tuple[str, ...] = (), guarded: bool = False) -> MileageTransaction:
    """Move a LOCKED transaction along MILEAGE_TRANSITIONS (staying put is always allowed) and write the change.
    `guarded`: the transaction is not locked yet but read in this request in the state it had: the write is one
    UPDATE by id guarded by that state, which takes the row's lock as it writes; a transaction that moved meanwhile
    is refused (TransitionNotAllowed), as the locked way refuses it."""
    from_state = mileage.state
    if to_state != from_state and to_state not in MILEAGE_TRANSITIONS[from_state]:
        raise TransitionNotAllowed(mileage, to_state)
    mileage.state = to_state
    if guarded:
        mileage.updated_at = timezone.now()
        values = {name: getattr(mileage, name) for name in ("state", "updated_at", *fields)}
        if not MileageTransaction.objects.filter(pk=mileage.pk, state=from_state).update(**values):
            mileage.state = from_state
            raise TransitionNotAllowed(mileage, to_state)
    else:
        mileage.save(update_fields=["state", "updated_at", *fields])
    if to_state != from_state:
        MileageStateChange.objects.create(transaction=mileage, from_state=from_state, to_state=to_state, note=note,
                                          event=event, changed_by_id=_uid(by))
    return mileage


def _lock(order: ShopOrder) -> MileageTransaction:
    return MileageTransaction.objects.select_for_update().get(order=order)


def _uid(user) -> int | None:
    if isinstance(user, int):
        return user
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


def live_mileage(order: ShopOrder) -> MileageTransaction | None:
    """The order's transaction while the provider holds its use, else None."""
    mileage = mileage_for_order(order)
    return mileage if mileage is not None and mileage.state in LIVE_STATES else None


def live_mileage_locked(order: ShopOrder) -> MileageTransaction | None:
    """The order's transaction, locked by the order's id until the caller's transaction ends, while the provider
    holds its use, else None: for a caller that then records a call with it (`mileage_cancel`,
    `mileage_repayment_request`), one read instead of a read and a lock."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("live_mileage_locked locks a row: it belongs inside a transaction")
    mileage = MileageTransaction.objects.select_for_update().filter(order_id=order.pk).first()
    return mileage if mileage is not None and mileage.state in LIVE_STATES else None


# --- amounts -----------------------------------------------------------------------------------------------------

def payment_request(order: ShopOrder, mileage: MileageTransaction, *, order_amount_won: int | None = None,
                    earn_base_won: int | None = None, use_won: int | None = None, lines=None,
                    with_req_tx_id: bool = True) -> PaymentRequest:
    lines = list(order.lines.all()) if lines is None else lines
    kept = [line for line in lines if line.quantity - line.returned_quantity > 0]
    items = [wire.WireItem(line.product_code, line.product_name, line.unit_price_won,
                           line.quantity - line.returned_quantity,
                           line.unit_price_won * (line.quantity - line.returned_quantity), line.category_path)
             for line in kept]
    # orderProductName: the first line that earns (a gift certificate first in the cart does not name the order)
    eligible = [line.product_name for line in kept if not line.is_excluded]
    first = (eligible or [item.name for item in items] or [order.number])[0]
    name = first if len(items) <= 1 else f"{first} 외 {len(items) - 1}건"
    return PaymentRequest(
        order_no=order.number, product_name=name, qty=sum(i.qty for i in items) or 1,
        order_amount_won=order.goods_won + order.shipping_won if order_amount_won is None else order_amount_won,
        amount_won=mileage.earn_base_won if earn_base_won is None else earn_base_won,
        mileage_use_won=mileage.use_remaining_won if use_won is None else use_won,
        is_member=order.member_id is not None,
        # isConfirmed: Y for a card-like payment; a transfer's approval goes N, but a re-approval (partial refund,
        # return, exchange: never before the deposit) of a transfer whose deposit was confirmed says Y — the deal
        # the provider was told is paid (stated) stays paid under its new txId
        is_confirmed=order.paid_at_placement or (not with_req_tx_id and order.paid_at is not None),
        items=items, req_tx_id=mileage.req_tx_id if with_req_tx_id else "")


# --- placement: hold, authorise, release -------------------------------------------------------------------------

def mileage_hold_record(*, order: ShopOrder, done: wire.DoneResult, inflow_token: str = "") -> MileageTransaction:
    """Store the buyer's verified popup choice (held at the provider) for an order, inside the order's creating
    transaction, as APPROVING: the placement asks the approval (`mileage_approval_ask`) as soon as this commits, and an
    order whose process dies before that is abandoned by the scheduler, which releases the hold. The unique reqTxId
    makes a second order with the same choice fail with IntegrityError."""
    # E9: an order that earns the shop's 적립금 instead is approved with an earn base of 0
    base = 0 if order.earn_choice == STORE else earn_base(order_amounts(order), MileageSettings.load().earn_base_rule)
    expected = earn_amount(base, done.base_rate_x10 + done.add_rate_x10)
    # E4 as far as the popup's balance tells (what the order form showed): the earn the portal keeps when the
    # provider's answer states none (a lost answer settled by the status call, a 1001, a 3092)
    cut = earn_within_holding_cap(expected, balance_won=done.balance_won, use_won=done.mileage_use_won)
    mileage = MileageTransaction.objects.create(
        order=order, req_tx_id=done.req_tx_id, state=TransactionState.APPROVING,
        base_rate_x10=done.base_rate_x10, add_rate_x10=done.add_rate_x10, use_won=done.mileage_use_won,
        earn_base_won=base, original_earn_base_won=base,
        expected_earn_won=expected if cut is None else cut, inflow_token=inflow_token,
        approval_key=action_key(order.number, "approve", done.req_tx_id))
    MileageStateChange.objects.bulk_create([
        MileageStateChange(transaction=mileage, from_state="", to_state=TransactionState.HELD, note="적립/사용 선택"),
        MileageStateChange(transaction=mileage, from_state=TransactionState.HELD, to_state=TransactionState.APPROVING, note="승인요청")])
    return mileage


def approval_client():
    """The client for the synchronous approval: the configured credentials with the short approval timeouts."""
    return get_client(connect_timeout=settings.MILEAGE_APPROVAL_CONNECT_TIMEOUT,
                      read_timeout=settings.MILEAGE_APPROVAL_READ_TIMEOUT)


APPROVED_AT_PROVIDER = {"APPROVED", "STATED", "CONFIRMED"}
ENDED_AT_PROVIDER = {"ABORTED", "CANCELLED", "EXPIRED"}


def _status(client, req_tx_id: str, deadline: float, use_status: bool) -> ApiResult | None:
    """The status extension's answer, or None when the provider does not offer it (or stopped making sense)."""
    if not use_status:
        return None
    return extensions.status_of(client, req_tx_id, deadline=deadline)


def _approve_at_provider(client, request: PaymentRequest, key: str, deadline: float, *,
                         use_status: bool = False) -> ApiResult:
    """The approval, sent at most twice with the same request and Idempotency-Key, all before `deadline`; never
    guessed. A lost answer, or a success without a txId, is settled by the status extension where the provider
    offers it, else by sending the same approval again (the provider answers a duplicate with 3092, or 1001/1002,
    and the txId). Raises ProviderError (refused, or no txId could be learnt) or ProviderUnavailable (no answer);
    the caller then aborts the reqTxId, which undoes an approval that landed unseen. A refusal after an attempt that
    may have landed (unanswered, or answered a success without its txId) is marked so (`may_have_landed`): the abort
    then proves nothing by a refusal alone, and is sent again later."""
    maybe = [False]  # an attempt so far may have landed
    try:
        return _approve_attempts(client, request, key, deadline, use_status, maybe)
    except ProviderError as exc:
        exc.may_have_landed = maybe[0]
        raise


def _approve_attempts(client, request: PaymentRequest, key: str, deadline: float, use_status: bool,
                      maybe: list[bool]) -> ApiResult:
    for attempt in (1, 2):
        try:
            result = client.approve(request, idempotency_key=key, deadline=deadline)
            if result.tx_id:
                return result
            lost = False  # success or 3092 without a txId
        except ProviderUnavailable:
            lost = True
        maybe[0] = True
        try:
            status = _status(client, request.req_tx_id, deadline, use_status)
        except ProviderUnavailable:
            status = None  # no answer to that either: the approval itself is asked once more
        except ProviderError:
            if attempt == 1:
                continue  # the provider knows no approval of this reqTxId (3xxx): once more, with the same key
            if lost:  # unanswered twice: an attempt in flight may still land (aborted twice by the caller)
                raise ProviderUnavailable("UNAVAILABLE", str(UNAVAILABLE_MESSAGE)) from None
            raise
        if status is not None:
            # approved: the transaction's state says so, or (a provider answering one `state` for the reqTxId) the
            # reqTxId was USED by the approval whose txId it names
            if status.tx_id and (status.state in APPROVED_AT_PROVIDER or (
                    status.req_tx_state == "USED" and status.state.upper() not in ENDED_AT_PROVIDER)):
                return status
            # held (the approval never landed), or an answer that names no outcome: the approval again decides
            undecided = status.req_tx_state == "HELD" or (
                not status.req_tx_state and status.state not in ENDED_AT_PROVIDER)
            if undecided and attempt == 1:
                continue  # once more, with the same key
            if lost and status.req_tx_state == "HELD":
                raise ProviderUnavailable("UNAVAILABLE", str(UNAVAILABLE_MESSAGE))
            outcome = status.req_tx_state or status.state
            raise ProviderError(outcome or "3001", str(_REFUSED.get(outcome, _REFUSED[""])))
        if attempt == 1:
            continue  # the standard profile: the same approval again; a duplicate answers with its txId
        if lost:
            raise ProviderUnavailable("UNAVAILABLE", str(UNAVAILABLE_MESSAGE))
        raise ProviderError("NO_TX_ID", str(_REFUSED[""]))
    raise AssertionError("unreachable")


_EXPIRED = gettext_lazy("네이버 마일리지 사용 선택의 유효시간이 지났습니다.")
_ABORTED = gettext_lazy("네이버 마일리지 사용 선택이 취소되었습니다.")
_NOT_HELD = gettext_lazy("네이버 마일리지 적립/사용 선택이 완료되지 않았거나 이미 사용되었습니다.")
# the provider's code, or the reqTxState its status call answers, → the buyer's reason
_REFUSED = {
    "EXPIRED": _EXPIRED, "3005": _EXPIRED,
    "ABORTED": _ABORTED, "CANCELLED": _ABORTED, "3006": _ABORTED,
    "OPEN": _NOT_HELD, "3002": _NOT_HELD,
    "3004": gettext_lazy("네이버 마일리지 잔액이 부족합니다."),
    "3003": gettext_lazy("사용금액이 적립/사용 창에서 고른 금액과 다릅니다."),
    "BAD_ANSWER": gettext_lazy("네이버 마일리지 서버의 응답을 읽을 수 없습니다."),
    "": gettext_lazy("네이버 마일리지 승인을 받지 못했습니다."),
}
_REFUSED["NO_TX_ID"] = _REFUSED[""]  # a success without a txId that none of the ways of asking named: not approved


def refusal_message(code: str, provider_message: str = "") -> str:
    """What the buyer reads when the approval is refused: the portal's own words for a code it knows (in the
    buyer's language); for another code (a provider numbers its errors its own way, docs/protocol.md §2) the
    provider's own reason, cut short, beside its code, rather than a bare number."""
    known = _REFUSED.get(code)
    if known is not None:
        return str(known)
    reason = " ".join(str(provider_message).split())[:120]
    own = {str(words) for words in _REFUSED.values()}  # a refusal the portal concluded itself carries its own words
    if reason and reason != code and reason not in own and extensions.RESULT_CODE.fullmatch(code or ""):
        return _("%(reason)s (네이버 마일리지 코드 %(code)s).") % {"reason": reason.rstrip(". "), "code": code}
    return _("네이버 마일리지 승인을 받지 못했습니다 (코드 %(code)s).") % {"code": code}


UNAVAILABLE_MESSAGE = gettext_lazy("네이버 마일리지 서버와 연결되지 않았습니다.")


@dataclass(frozen=True)
class Approval:
    """The provider's approval of an order's held choice, asked for but not yet recorded in the shop's books."""

    order: ShopOrder
    result: ApiResult
    request: PaymentRequest
    key: str
    mileage: MileageTransaction | None = None  # as the approval found it (approving), for the record


def mileage_approval_ask(*, order: ShopOrder, mileage: MileageTransaction | None = None,
                         lines=None) -> Approval:
    """L1 as an authorisation: approve the held choice at the provider NOW, before any money is taken.

    Runs outside any database transaction. Approved: the answer is returned, for the caller to record with
    `mileage_approval_record` in the transaction that takes the money (or moves the order on), so that the order's
    next state and its mileage line commit together. Refused or unreachable: the transaction is FAILED, the
    reqTxId is aborted through the outbox (so no hold is stranded, and an approval that did go through unseen is
    undone), and MileageRefused is raised. `mileage` is the transaction just recorded by `mileage_hold_record`
    (already APPROVING) and `lines` the order's lines, if the caller has them. A process that dies between the
    answer and its record leaves the transaction APPROVING: `orders_abandon_stuck` aborts it at the provider."""
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("mileage_approval_ask calls the provider: it must not run inside a database transaction")
    if mileage is None or mileage.state != TransactionState.APPROVING:
        with transaction.atomic():
            mileage = _lock(order)
            _transition(mileage, TransactionState.APPROVING, note="승인요청")
    request = payment_request(order, mileage, lines=lines)
    # the buyer's whole wait is the deadline: the calls get it less what recording the answer and the page take
    deadline = time.monotonic() + settings.MILEAGE_APPROVAL_DEADLINE_SECONDS - settings.MILEAGE_APPROVAL_RESERVE_SECONDS
    try:
        # within the deadline: whether the status call may be asked is read from the setting and what was found
        # absent, never by a call
        result = _approve_at_provider(approval_client(), request, mileage.approval_key, deadline,
                                      use_status=extensions.asks(extensions.STATUS))
    except ProviderUnavailable as exc:
        # unanswered: an attempt may still be applied after the abort; it is aborted once more later, undoing it
        _authorize_failed(order, exc.code, again_after=timedelta(seconds=settings.MILEAGE_UNANSWERED_ABORT_DELAY_SECONDS))
        raise MileageRefused(exc.code, str(UNAVAILABLE_MESSAGE)) from exc
    except ProviderError as exc:
        # refused after an attempt that may have landed: aborted again later, as for an unanswered one
        _authorize_failed(order, exc.code, again_after=timedelta(
            seconds=settings.MILEAGE_UNANSWERED_ABORT_DELAY_SECONDS) if getattr(exc, "may_have_landed", False) else None)
        raise MileageRefused(exc.code, refusal_message(exc.code, exc.message)) from exc
    return Approval(order, result, request, mileage.approval_key, mileage)


def mileage_approval_record(approval: Approval) -> MileageTransaction:
    """Record an approval's answer (txId, rates, earn, the settlement lines), inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("mileage_approval_record belongs inside the transaction that takes the money")
    mileage = approval.mileage
    if mileage is not None and mileage.state == TransactionState.APPROVING:
        # as the approval found it: written by id, guarded by its state (no read and lock first)
        _apply(mileage, "approve", approval.result, idempotency_key=approval.key,
               request=approval.request.to_json(), guarded=True)
        return mileage
    mileage = _lock(approval.order)
    _apply(mileage, "approve", approval.result, idempotency_key=approval.key, request=approval.request.to_json())
    return mileage


def _authorize_failed(order: ShopOrder, code: str, *, again_after: timedelta | None = None) -> None:
    """The approval failed: the reqTxId is aborted after commit (the hold released at once), and, when an attempt
    went unanswered (`again_after`), aborted again that much later — an attempt still in flight may be applied after
    the first abort, and the second undoes it (APPROVED → ABORTED) instead of leaving the buyer's use spent."""
    with transaction.atomic():
        mileage = _lock(order)
        _transition(mileage, TransactionState.FAILED, note=f"승인거절 {code}")
        # refused by an answer: no attempt of it stands at the provider (the outbox's abort reads it so)
        _enqueue(mileage, "abort", action_key(order.number, "abort"), {} if again_after else {"refused": code})
        if again_after is not None:
            _enqueue(mileage, "abort", action_key(order.number, "abort", "after-unanswered"), {},
                     at=timezone.now() + again_after)


def mileage_release(*, order: ShopOrder, by=None) -> None:
    """The order will not be paid (declined card, cancel before payment of a held choice): abort the approval or
    release the hold at the provider, after commit."""
    with transaction.atomic(savepoint=False):  # inside the caller's transaction: no savepoint of its own
        mileage = _lock(order)
        if mileage.state in (TransactionState.ABORTED, TransactionState.CANCELLED):
            return
        _enqueue(mileage, "abort", action_key(order.number, "abort"), {"by": _uid(by)})


# --- calls that follow the shop's own state changes (outbox) -----------------------------------------------------

def _enqueue(mileage: MileageTransaction, kind: str, key: str, payload: dict,
             at: datetime | None = None) -> OutboxMessage:
    """The call recorded for after the commit; `at`: not before then."""
    return outbox.enqueue_call(kind=kind, order_id=mileage.order_id,
                               payload={**payload, "mileage_id": mileage.pk, "tx_id_before": mileage.tx_id},
                               idempotency_key=key, now=at)


def mileage_call(*, order: ShopOrder, kind: str, because: str = "", by=None) -> MileageTransaction:
    """stated, cancel_stated, cancel or confirmed of the order's transaction (after commit); `because` is the business
    identity of what caused it when the same call may follow more than once (e.g. the 입금확인's change row)."""
    with transaction.atomic(savepoint=False):  # inside the caller's transaction: no savepoint of its own
        mileage = _lock(order)
        _enqueue(mileage, kind, action_key(order.number, kind, *([because] if because else [])), {"by": _uid(by)})
    return mileage


def mileage_repayment_request(*, order: ShopOrder, request: PaymentRequest, key: str, by=None,
                              mileage: MileageTransaction | None = None) -> MileageTransaction:
    """Re-approval with new totals (partial refund, return, exchange); the new txId arrives with the answer.
    `mileage`: the order's transaction when the caller locked it already (`live_mileage_locked`)."""
    with transaction.atomic(savepoint=False):  # inside the caller's transaction: no savepoint of its own
        mileage = mileage if mileage is not None else _lock(order)
        mileage.earn_base_won = request.amount_won
        mileage.returned_won = mileage.use_won - request.mileage_use_won
        mileage.save(update_fields=["earn_base_won", "returned_won", "updated_at"])
        _enqueue(mileage, "repayment", action_key(order.number, key), {"request": request.to_json(), "by": _uid(by)})
    return mileage


def mileage_cancel(*, order: ShopOrder, because: str = "", by=None,
                   mileage: MileageTransaction | None = None) -> MileageTransaction:
    """The whole order is cancelled or refunded (환불완료): all of the use goes back, the earn is cancelled.
    `mileage`: the order's transaction when the caller locked it already (`live_mileage_locked`)."""
    with transaction.atomic(savepoint=False):  # inside the caller's transaction: no savepoint of its own
        mileage = mileage if mileage is not None else _lock(order)
        mileage.returned_won = mileage.use_won
        mileage.save(update_fields=["returned_won", "updated_at"])
        _enqueue(mileage, "cancel", action_key(order.number, "cancel", *([because] if because else [])), {"by": _uid(by)})
    return mileage


def mileage_invoice_send(*, order: ShopOrder, invoice: Invoice, by=None, because: str = "") -> MileageTransaction:
    """The delivery invoice (after commit); `because`: what shipped when it is not the order's own shipment (an
    exchange's new goods), so that its call is its own even under the same invoice number."""
    with transaction.atomic(savepoint=False):  # inside the caller's transaction: no savepoint of its own
        mileage = _lock(order)
        _enqueue(mileage, "invoice", action_key(order.number, "invoice", *([because] if because else []),
                                                invoice.invoice_no),
                 {"invoice": invoice.__dict__, "by": _uid(by)})
    return mileage


def mileage_auto_cancel(*, order: ShopOrder, by=None) -> None:
    """E8 on the portal's side: a transfer left unpaid past its deadline. The provider cancels such a transaction by
    itself after 15 days, but the portal does not count on it (a 가상계좌's deadline may come sooner, and a provider
    may not): it asks for the cancel after commit (inside the caller's transaction). A provider that cancelled it
    already answers so (3092, or a state error, taken as that answer: docs/protocol.md §2); until it answers, the use
    reads as 반환 예정. `by`: who cancelled the order (the buyer or an operator past the deadline; None: the
    scheduler)."""
    mileage = MileageTransaction.objects.select_for_update().filter(order=order).first()
    if mileage is None or mileage.state not in LIVE_STATES:
        return
    mileage.returned_won = mileage.use_won
    mileage.save(update_fields=["returned_won", "updated_at"])
    _enqueue(mileage, "auto_cancel", action_key(order.number, "auto_cancel"), {"by": _uid(by)})


# --- the provider's answers --------------------------------------------------------------------------------------

# kind → the state after the provider said yes (None: the state stays)
ANSWER_STATES = {
    "approve": TransactionState.APPROVED,
    "abort": TransactionState.ABORTED,
    "stated": TransactionState.STATED,
    "cancel_stated": TransactionState.APPROVED,
    "cancel": TransactionState.CANCELLED,
    "auto_cancel": TransactionState.CANCELLED,
    "repayment": TransactionState.REPAID,
    "confirmed": TransactionState.CONFIRMED,
    "invoice": None,
}


def repayment_tx_id_learn(client, message: OutboxMessage, *, relearn: bool = True) -> str:
    """The txId that replaced the order's when a re-approval was answered without one (3092: its first answer lost;
    1001/1002: accepted, completed later):
    from the status call where the provider offers it, else from the provider's settlement report (§4 lists its
    lines per txId and orderNo) of this month or the last — the one txId of the order the portal has never seen.
    "" when neither tells: the old txId stays, and (`relearn`) a worker asks again later (mileage_tx_id_relearn)."""
    mileage = MileageTransaction.objects.select_related("order").get(pk=message.payload["mileage_id"])
    known = {mileage.tx_id}
    for tx_id, new_tx_id in MileageEvent.objects.filter(transaction=mileage).values_list("tx_id", "new_tx_id"):
        known |= {tx_id, new_tx_id}
    known.discard("")
    if extensions.asks(extensions.STATUS):
        try:
            answer = extensions.status_of(client, mileage.req_tx_id)
        except ProviderError:
            answer = None
        if answer is not None and answer.tx_id and answer.tx_id not in known:
            return answer.tx_id
    now = timezone.now().astimezone(BUSINESS_TZ)
    for month in dict.fromkeys((now.strftime("%Y-%m"), (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m"))):
        try:
            report = client.settlement(month)
        except ProviderError:
            continue
        found = {str(line.get("txId") or "") for line in report_lines(report) or []
                 if isinstance(line, dict) and str(line.get("orderNo")) == mileage.order.number} - known - {""}
        if len(found) == 1:
            log.info("re-approval of %s: new txId learnt from the %s settlement report", mileage.order.number, month)
            return found.pop()
    log.warning("re-approval of %s answered without a txId, and no report named the new one", mileage.order.number)
    if relearn:
        _relearn_later(message.pk, attempt=1)
    return ""


# a re-approval "completed later" (1001/1002 without its txId) is asked about again this often, this many times
TX_ID_RELEARN_AFTER = timedelta(minutes=5)
TX_ID_RELEARN_ATTEMPTS = 24  # two hours; after that its next call waits in 전송 대기열 for an operator


def _relearn_later(message_id: int, *, attempt: int) -> bool:
    try:
        relearn_repayment_tx_id.using(run_after=timezone.now() + TX_ID_RELEARN_AFTER).enqueue(message_id, attempt)
    except Exception:  # a backend that cannot defer (the tests' immediate one): the operator's queue remains
        log.warning("re-approval %s: could not ask for its new txId again later", message_id)
        return False
    return True


@task()
def relearn_repayment_tx_id(message_id: int, attempt: int = 1) -> str:
    """The worker's side of mileage_tx_id_relearn: asked again later while the provider names no new txId."""
    outcome = mileage_tx_id_relearn(message_id=message_id)
    if outcome == "not yet" and attempt < TX_ID_RELEARN_ATTEMPTS:
        _relearn_later(message_id, attempt=attempt + 1)
    return outcome


def mileage_tx_id_relearn(*, message_id: int) -> str:
    """A re-approval answered without the txId that replaced the old one, whose txId neither the status call nor the
    settlement report named then (1001/1002: accepted, completed later): asked again. Learnt, it replaces the old
    txId the order kept (a TX_ID_LEARNT event beside the re-approval's), so that the order's next calls go on the
    live one. Returns "learnt", "not yet", or why nothing was to be learnt."""
    message = OutboxMessage.objects.filter(pk=message_id, kind="repayment", status=OutboxStatus.SENT).first()
    answered = MileageEvent.objects.filter(idempotency_key=message.idempotency_key).first() if message else None
    if answered is None or answered.new_tx_id or not answered.tx_id:
        return "nothing to learn"
    if MileageTransaction.objects.filter(pk=answered.transaction_id).values_list("tx_id", flat=True).first() \
            != answered.tx_id:
        return "replaced already"
    learnt = repayment_tx_id_learn(get_client(), message, relearn=False)
    if not learnt:
        return "not yet"
    with transaction.atomic():
        mileage = MileageTransaction.objects.select_for_update().get(pk=answered.transaction_id)
        if mileage.tx_id != answered.tx_id:  # another answer replaced it meanwhile
            return "replaced already"
        MileageEvent.objects.create(
            transaction=mileage, kind=MileageEventKind.TX_ID_LEARNT, tx_id=answered.tx_id, new_tx_id=learnt,
            use_won=mileage.provider_use_won, earn_base_won=mileage.earn_base_won, earn_won=mileage.expected_earn_won,
            result_code=answered.result_code, result_message=answered.result_message,
            idempotency_key=action_key(message.idempotency_key, "tx-id-learnt"))
        MileageTransaction.objects.filter(pk=mileage.pk).update(tx_id=learnt)
    log.info("re-approval of order %s: its new txId learnt afterwards", mileage.order_id)
    return "learnt"


def mileage_answer_apply(message: OutboxMessage, result: ApiResult, *, by=None) -> None:
    """The outbox's success hook (inside its transaction): apply the provider's answer to the transaction. `by`:
    who recorded the answer by hand (an operator), else the one whose action made the call."""
    mileage = MileageTransaction.objects.select_for_update().get(pk=message.payload["mileage_id"])
    _apply(mileage, message.kind, result, idempotency_key=message.idempotency_key,
           request=message.payload.get("request") or {},
           # the txId the call went on: read with its claim (a re-approval answered after the call was recorded
           # replaced the one recorded with it), else the one recorded with it
           tx_id_before=getattr(message, "claimed_tx_id", None) or message.payload.get("tx_id_before", ""),
           by=by if by is not None else message.payload.get("by"))


def _answered_earn(mileage: MileageTransaction, kind: str, result: ApiResult, request: dict) -> int:
    """The earn after the provider's answer: its baseAccumAmount when it states one. An answer without it (docs/
    protocol.md §2 promises the amount on no answer: a 3092 "already done", a deal-done answer with its txId alone)
    leaves the earn the portal knows — for a re-approval, the earn of its new base at the order's rates (a
    re-approval keeps the first approval's rates, docs/policy.md L5), otherwise the approval's."""
    stated = result.raw.get("baseAccumAmount")
    if stated is not None and str(stated).strip() != "":
        added = str(result.raw.get("addAccumAmount") or "").strip()
        if added.isascii() and added.isdigit() and int(added) and isinstance(request.get("amount_won"), int):
            # the extra part stated apart is added (client.py) — unless baseAccumAmount already held it: a sum
            # above what the rates grant on the earn base says so
            rates = (result.base_rate_x10 + result.add_rate_x10 if _states_rates(result)
                     else mileage.base_rate_x10 + mileage.add_rate_x10)
            if result.earn_won > earn_amount(request["amount_won"], rates):
                return result.earn_won - int(added)
        return result.earn_won
    if kind == "repayment" and isinstance(request.get("amount_won"), int):
        return earn_amount(request["amount_won"], mileage.base_rate_x10 + mileage.add_rate_x10)
    return mileage.expected_earn_won


def _states_rates(result: ApiResult) -> bool:
    """Whether an answer states the rates (baseAccumRate): docs/protocol.md §2 promises them on an approval's
    answer only, not on the status call's or on a 3092."""
    stated = result.raw.get("baseAccumRate")
    return stated is not None and str(stated).strip() != ""


def _apply(mileage: MileageTransaction, kind: str, result: ApiResult, *, idempotency_key: str, request: dict,
           tx_id_before: str = "", by=None, guarded: bool = False) -> MileageEvent:
    fields = []
    earn_after = _answered_earn(mileage, kind, result, request)
    if kind == "repayment" or (result.tx_id and kind == "approve"):
        mileage.expected_earn_won = earn_after
        fields.append("expected_earn_won")
    if result.tx_id and kind in ("approve", "repayment"):
        mileage.tx_id = result.tx_id
        fields.append("tx_id")
    elif result.tx_id and not mileage.tx_id:
        mileage.tx_id = result.tx_id  # learnt from a later answer (or the status call)
        fields.append("tx_id")
    if kind == "approve" and result.tx_id and _states_rates(result):
        # an answer without rates (the status call's, a 3092's) keeps the popup's signed ones
        mileage.base_rate_x10, mileage.add_rate_x10 = result.base_rate_x10, result.add_rate_x10
        fields += ["base_rate_x10", "add_rate_x10"]
    answered_use = str(result.raw.get("mileageUseAmount") or "")
    use_after = int(answered_use) if answered_use.isascii() and answered_use.isdigit() else \
        request.get("mileage_use_won")
    if kind == "abort" and mileage.state in (TransactionState.HELD, TransactionState.FAILED, TransactionState.APPROVING):
        use_after = 0  # a hold released: nothing was ever booked
    event = MileageEvent.objects.create(
        transaction=mileage, kind=kind, tx_id=tx_id_before, new_tx_id=result.tx_id,
        # an answer without an amount of its own (stated, confirmed, invoice, cancel) reads the use standing at the
        # provider on the txId it was sent on — after a re-approval, no longer the order's first use
        use_won=use_after if use_after is not None else mileage.provider_use_won, earn_base_won=mileage.earn_base_won,
        earn_won=earn_after, result_code=result.code, result_message=result.message[:300],
        provider_ms=round(result.provider_ms) if result.provider_ms is not None else None,
        idempotency_key=idempotency_key, created_by_id=_uid(by))
    booked = _book_settlement(mileage, event, use_after=use_after, earn_after=earn_after,
                              confirmed=bool(request.get("is_confirmed")))
    new_state = ANSWER_STATES[kind]
    _transition(mileage, new_state if new_state is not None else mileage.state, note=f"{kind} {result.code}",
                event=event, by=by, fields=(*fields, *booked), guarded=guarded)
    return event


# --- settlement bookkeeping (S1) ---------------------------------------------------------------------------------

def _month(moment: datetime) -> str:
    return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m")


def _book_settlement(mileage: MileageTransaction, event: MileageEvent, *, use_after: int | None, earn_after: int,
                     confirmed: bool = False) -> tuple[str, ...]:
    """Book the provider's new state for this order after `event`, the way the provider books it: use when
    approved, earn when the deal is paid (approval with isConfirmed=Y, or stated), reversals when cancelled,
    deltas on a re-approval. Returns the fields it changed on `mileage`, which the caller's transition saves."""
    kind = event.kind
    use, granted, is_granted = mileage.provider_use_won, mileage.granted_earn_won, mileage.earn_granted
    if kind == "approve":
        use = use_after if use_after is not None else mileage.use_won
        is_granted = confirmed
        granted = earn_after if confirmed else 0
    elif kind == "stated":
        is_granted, granted = True, earn_after
    elif kind == "cancel_stated":
        is_granted, granted = False, 0
    elif kind in ("cancel", "abort", "auto_cancel"):
        use, granted, is_granted = 0, 0, False
    elif kind == "repayment":
        use = use_after if use_after is not None else use
        granted = earn_after if is_granted else 0
    else:
        return ()
    now = event.created_at or timezone.now()
    SettlementLine.objects.bulk_create([
        SettlementLine(order_id=mileage.order_id, event=event, kind=line_kind, amount_won=delta, month=_month(now),
                       occurred_at=now)
        for line_kind, delta in ((SettlementKind.USE, use - mileage.provider_use_won),
                                 (SettlementKind.EARN, granted - mileage.granted_earn_won)) if delta])
    mileage.provider_use_won, mileage.granted_earn_won, mileage.earn_granted = use, granted, is_granted
    return ("provider_use_won", "granted_earn_won", "earn_granted")


# --- delivery entry points (the worker, the scheduler, the operator's retry button) ------------------------------

def outbox_deliver(message_id: int, *, now: datetime | None = None, force: bool = False) -> OutboxMessage | None:
    return outbox.deliver(message_id, apply=mileage_answer_apply, now=now, force=force)


def outbox_deliver_due(*, now: datetime | None = None, limit: int = 100) -> int:
    return outbox.deliver_due(apply=mileage_answer_apply, now=now, limit=limit)


def outbox_retry_by_hand(message_id: int) -> OutboxMessage | None:
    return outbox.retry_by_hand(message_id, apply=mileage_answer_apply)


RESOLVED_BY_HAND = outbox.RESOLVED_BY_HAND
cancelled_after = outbox.cancelled_after
invoiced_after = outbox.invoiced_after


def outbox_resolve_by_hand(message_id: int, *, by, note: str) -> OutboxMessage:
    """A failed cancel recorded as done at the provider by an operator (outbox.resolve_by_hand); the answer's event
    names the operator."""
    return outbox.resolve_by_hand(message_id, apply=functools.partial(mileage_answer_apply, by=by), note=note,
                                  by_name=by.get_username())

