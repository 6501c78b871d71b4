"""The outbox: transport for provider calls recorded in the same transaction as the portal's state change.

`enqueue_call` writes an `OutboxMessage` inside the caller's atomic block and schedules delivery on commit.
`deliver` claims a message under a row lock, makes the HTTP call OUTSIDE any database transaction (one attempt per
delivery: this is the only retry layer), then hands a success to the caller's `apply` inside one transaction with
the message marked SENT. A transient failure is retried with backoff under the same Idempotency-Key; a refusal,
or the last failed try, leaves the message FAILED in the operator's queue, where it can be retried by hand.

Calls of one order go out in order: a message waits while an earlier one of the same order is not sent.
What an answer means for the order is not decided here (mileage.services.transactions owns that).
"""

import dataclasses
import functools
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Exists, IntegerField, OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django_tasks import task

from core.state_machine import move
from mileage.models import MileageTransaction, OutboxMessage, OutboxStatus
from mileage.models.outbox import ENDING_KINDS, OutboxKind, waits_for

from . import extensions
from .client import (
    ApiResult,
    Invoice,
    MileageClient,
    PaymentRequest,
    ProviderError,
    ProviderUnavailable,
    get_client,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
RESOLVED_BY_HAND = "HAND"  # the result code of a call an operator recorded as done at the provider
FINAL = (OutboxStatus.SENT, OutboxStatus.SUPERSEDED)
BACKOFF_BASE_SECONDS = 5
CLAIM_LEASE = timedelta(minutes=2)

Apply = Callable[[OutboxMessage, ApiResult], None]
_answer_handler: Apply | None = None


def answer_with(apply: Apply) -> None:
    """Who applies the provider's answers: mileage.services.transactions, registered when the app starts
    (mileage/apps.py), so the transport does not import its caller."""
    global _answer_handler
    _answer_handler = apply


FindTxId = Callable[[MileageClient, OutboxMessage], str]
_tx_id_finder: FindTxId | None = None


def find_tx_id_with(find: FindTxId) -> None:
    """Who learns the new txId of a re-approval answered 3092 without one (its first answer was lost): registered
    like the answer handler. Asked outside any transaction, before the answer is applied."""
    global _tx_id_finder
    _tx_id_finder = find


def _on_tx(call: Callable[..., ApiResult]):
    def send(client: MileageClient, ids: "Ids", payload: dict, key: str) -> ApiResult:
        return call(client, ids.tx_id, idempotency_key=key)
    return send


class Ids:
    """The reqTxId and the current txId of the message's transaction (`message` as _claim returned it), read with the
    claim (a re-approval before this message replaced the txId). A txId the portal never learnt is asked for with the
    status call."""

    def __init__(self, client: MileageClient, message: OutboxMessage):
        # read with the claim, in its statement (_claimable)
        req_tx_id, tx_id = message.claimed_req_tx_id or "", message.claimed_tx_id or ""
        self.req_tx_id, self._tx_id, self._client = req_tx_id, tx_id, client
        self.recorded_tx_id = tx_id  # the txId the portal recorded from an approval, if any

    @property
    def tx_id(self) -> str:
        if not self._tx_id and self.req_tx_id and extensions.asks(extensions.STATUS):
            answer = extensions.status_of(self._client, self.req_tx_id)
            self._tx_id = answer.tx_id if answer is not None else ""
        return self._tx_id  # empty: the call is refused before it is sent (NO_TX_ID) and waits for an operator


def _abort(client: MileageClient, ids: "Ids", payload: dict, key: str) -> ApiResult:
    """approval abort. For a reqTxId whose approval the portal never recorded (refused, unanswered, a process that
    died), a state error (the sandbox's 3xxx: no such approval, already ended, expired) means there is nothing to
    undo: it is the answer, not a failure. A refusal under a provider's own numbering is taken so when the approval
    itself was refused by an answer (no attempt of it stands; at most a popup's hold, which expires by itself), or
    when its status call, where offered, says no approval and no hold stand on the reqTxId; otherwise — an approval
    left unanswered, which may have landed — it fails, for an operator in 전송 대기열. A provider without the hold
    (the standard profile) may know no transaction there."""
    try:
        return client.abort(ids.req_tx_id, idempotency_key=key)
    except ProviderUnavailable:
        raise
    except ProviderError as exc:
        if ids.recorded_tx_id or not extensions.state_refusal(exc.code):
            raise
        if not (extensions.sandbox_state_error(exc.code) or payload.get("refused")
                or _nothing_held_at(client, ids)):
            raise
        return ApiResult(code=exc.code, message=exc.message)


def _cancel(client: MileageClient, ids: "Ids", payload: dict, key: str) -> ApiResult:
    """cancel (a refund's, an order's, or E8's for a transfer unpaid past its deadline). A provider that ended the
    transaction already answers 3092, which is success; one may answer a state error (3xxx) instead, which is taken
    as the answer only when the status call, where the provider offers it, says the transaction is cancelled (a
    state error also means an unknown or replaced txId). Otherwise it fails, for an operator to look at (and to record
    as cancelled by hand once they checked: resolve_by_hand)."""
    try:
        return client.cancel(ids.tx_id, idempotency_key=key)
    except ProviderUnavailable:
        raise
    except ProviderError as exc:
        if extensions.state_refusal(exc.code) and _cancelled_at(client, ids):
            return ApiResult(code=exc.code, message=exc.message)
        raise


def _confirmed(client: MileageClient, ids: "Ids", payload: dict, key: str) -> ApiResult:
    """purchase confirmed. docs/protocol.md §2 draws the states as APPROVED → STATED → CONFIRMED and names `stated`
    for a transfer's deposit only: a provider may confirm a card order's APPROVED (isConfirmed Y) transaction at
    once, or refuse it with a state error (3xxx in the sandbox, any code outside 1xxx–3xxx elsewhere) until deal
    done was said. On such a refusal the deal done call is sent
    first (its own key, derived from this one) and the confirmation again (another derived key, since a provider may
    keep the refusal under the first); a refused deal done (an unknown or replaced txId, an ended transaction)
    leaves the first refusal standing, for an operator in 전송 대기열; so does a deal the provider was never told is
    paid."""
    try:
        return client.confirmed(ids.tx_id, idempotency_key=key)
    except ProviderUnavailable:
        raise
    except ProviderError as refused:
        # a state error (the sandbox's 3xxx), or a refusal under a provider's own numbering (any result code: a
        # refusal of another kind refuses the deal done as well, and both answers are kept)
        if not extensions.state_refusal(refused.code):
            raise
        # deal done only for a deal the provider was told is paid (a card's approval, or a transfer's 입금확인
        # answered): never as a deposit the shop did not see
        if not MileageTransaction.objects.filter(pk=payload.get("mileage_id"), earn_granted=True).exists():
            raise
        try:
            stated = client.stated(ids.tx_id, idempotency_key=f"{key}:stated")
        except ProviderUnavailable:
            raise
        except ProviderError as exc:  # both answers kept for 전송 대기열
            raise ProviderError(refused.code, f"{refused.message} · stated [{exc.code}] {exc.message}") from None
        log.info("purchase confirmed on %s refused (%s) before deal done: deal done sent first (%s)",
                 ids.tx_id, refused.code, stated.code)
        try:
            again = client.confirmed(ids.tx_id, idempotency_key=f"{key}:after-stated")
        except ProviderUnavailable:
            raise  # sent again later: the first confirmed then finds the deal done said
        except ProviderError as exc:
            raise ProviderError(exc.code, f"{exc.message} · stated [{stated.code}] · confirmed "
                                          f"[{refused.code}] {refused.message}") from None
        # the answer kept with the message says the deal done went first
        return dataclasses.replace(again, raw={**again.raw, "statedFirst": stated.code,
                                               "confirmedRefused": refused.code})


CANCELLED_STATES = ("CANCELLED", "AUTO_CANCELLED")
# what a status call may say of a reqTxId on which nothing of the buyer's is held any longer (or ever was)
NOTHING_HELD_REQ_TX_STATES = ("EXPIRED", "ABORTED", "CANCELLED", "OPEN")
NOTHING_HELD_STATES = ("ABORTED", "CANCELLED", "AUTO_CANCELLED", "EXPIRED")


def _status_at(client: MileageClient, ids: "Ids") -> ApiResult | None:
    """The provider's status call's answer for the reqTxId `ids` names; None when the provider does not offer the
    call, does not answer it, or refuses it (a refusal proves nothing: the key, a parameter)."""
    if not ids.req_tx_id or not extensions.asks(extensions.STATUS):
        return None
    try:
        return extensions.status_of(client, ids.req_tx_id)
    except ProviderError:
        return None


def _cancelled_at(client: MileageClient, ids: "Ids") -> bool:
    """Whether the provider's status call says the transaction `ids` names is cancelled (its txId, not one that
    replaced it); False when it does not say (_status_at)."""
    answer = _status_at(client, ids)
    return (answer is not None and answer.state.upper() in CANCELLED_STATES
            and (not answer.tx_id or answer.tx_id == ids.recorded_tx_id))


def _nothing_held_at(client: MileageClient, ids: "Ids") -> bool:
    """Whether the provider's status call says nothing of the buyer's is held on the reqTxId `ids` names: no hold
    and no approval (ended, expired, or never chosen); False when it does not say (_status_at)."""
    answer = _status_at(client, ids)
    if answer is None:
        return False
    req_state, state = answer.req_tx_state.upper(), answer.state.upper()
    if req_state:
        return req_state in NOTHING_HELD_REQ_TX_STATES and (not state or state in NOTHING_HELD_STATES)
    return state in NOTHING_HELD_STATES


# kind → how it is sent: one typed entry per call of docs/protocol.md §2 that follows a state change.
CALLS: dict[str, Callable[[MileageClient, Ids, dict, str], ApiResult]] = {
    "abort": _abort,
    "stated": _on_tx(MileageClient.stated),
    "cancel_stated": _on_tx(MileageClient.cancel_stated),
    "cancel": _cancel,
    "auto_cancel": _cancel,
    "confirmed": _confirmed,
    "repayment": lambda client, ids, payload, key: client.repayment(
        ids.tx_id, PaymentRequest.from_json(payload["request"]), idempotency_key=key),
    "invoice": lambda client, ids, payload, key: client.invoice(
        ids.tx_id, Invoice(**payload["invoice"]), idempotency_key=key),
}


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


def enqueue_call(*, kind: str, order_id: int | None, payload: dict, idempotency_key: str,
                 now: datetime | None = None) -> OutboxMessage:
    """Record a provider call; must run inside the transaction that makes the state change."""
    if kind not in CALLS:
        raise ValueError(f"unknown outbox kind {kind}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("enqueue_call must run inside the state change's transaction")
    # inserted first (a call is recorded once, so the key is new nearly always): a key recorded before answers
    # with its row, read after the unique index refused the insert
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                idempotency_key=idempotency_key, kind=kind, order_id=order_id, payload=payload,
                wire_key=f"{idempotency_key}:{uuid.uuid4().hex[:16]}", next_attempt_at=now or timezone.now())
    except IntegrityError:
        earlier = OutboxMessage.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is None:
            raise
        return earlier
    transaction.on_commit(lambda: _schedule(message.pk))
    return message


@task()
def deliver_outbox_message(message_id: int) -> str:
    """The background task (django-tasks) that sends a message after the commit that recorded it."""
    message = deliver(message_id)
    return message.status if message else "not-due"


def _schedule(message_id: int) -> None:
    try:
        deliver_outbox_message.enqueue(message_id)
    except Exception:  # the scheduler's sweep picks it up anyway
        log.exception("could not enqueue outbox message %s", message_id)


def outbox_set_status(*, message: OutboxMessage, to_status: str, fields: tuple[str, ...] = ()) -> OutboxMessage:
    """Move a locked message along OUTBOX_TRANSITIONS (대기 → 완료 or 실패, 실패 → 대기 by hand), saving `fields`
    beside; a message SENT is never moved again."""
    move(message, to_status, fields=fields)
    return message


@functools.cache
def _claimable(*, skip_locked: bool):
    """The rows _claim locks, with what it reads beside them; built once per process (the annotations' expressions
    are resolved here, not on every claim)."""
    earlier = OutboxMessage.objects.filter(order_id=OuterRef("order_id"), pk__lt=OuterRef("pk"))
    mileage = MileageTransaction.objects.filter(
        pk=Cast(KeyTextTransform("mileage_id", OuterRef("payload")), IntegerField()))
    return OutboxMessage.objects.select_for_update(skip_locked=skip_locked, of=("self",)).annotate(
        pending_before=Exists(earlier.filter(status=OutboxStatus.PENDING)),
        failed_before=Exists(earlier.filter(status=OutboxStatus.FAILED)),
        claimed_req_tx_id=Subquery(mileage.values("req_tx_id")[:1]),
        claimed_tx_id=Subquery(mileage.values("tx_id")[:1]))


def _claim(message_id: int, now: datetime, force: bool) -> OutboxMessage | None:
    with transaction.atomic():
        # a sweep does not wait on a message another node is claiming (that node sends it); the operator's retry
        # (force) waits for its answer
        # calls of one order go in the order they were recorded: an earlier one not sent yet holds this one back
        # (read in the same statement as the lock)
        # — a failed one too, unless this call ends the transaction (a cancel takes back whatever failed before it)
        # and the ids the call is sent on (Ids), read in the same statement: no call of the order can change them
        # before this one is answered (the calls of an order go one at a time)
        message = _claimable(skip_locked=not force).filter(pk=message_id).first()
        if message is None or message.status not in (OutboxStatus.PENDING, OutboxStatus.FAILED):
            return None  # sent, or closed by a later cancel (취소로 종결) meanwhile
        if message.status == OutboxStatus.FAILED and not force:
            return None
        if not force and message.next_attempt_at > now:
            return None
        if (message.pending_before or message.failed_before) and _held_back(message):
            return None
        message.attempts += 1
        message.next_attempt_at = now + CLAIM_LEASE
        return outbox_set_status(message=message, to_status=OutboxStatus.PENDING,
                                 fields=("attempts", "next_attempt_at"))


def _held_back(message: OutboxMessage) -> bool:
    """Whether an earlier unsent call of the order holds this one back (models.outbox.waits_for)."""
    earlier = list(OutboxMessage.objects.filter(order_id=message.order_id, pk__lt=message.pk,
                                                status__in=(OutboxStatus.PENDING, OutboxStatus.FAILED))
                   .order_by("pk").values_list("pk", "status", "kind"))
    return waits_for(message.kind, earlier) is not None


def _supersede_earlier(message: OutboxMessage) -> None:
    """An ending call answered: the order's earlier calls still unsent (failed, or stuck behind a failed one) will
    never be sent; each is closed as 취소로 종결 (its own row locked), so no retry sends it after the cancel."""
    if message.kind not in ENDING_KINDS:
        return
    for earlier in OutboxMessage.objects.select_for_update().filter(
            order_id=message.order_id, pk__lt=message.pk, status__in=(OutboxStatus.PENDING, OutboxStatus.FAILED)):
        earlier.last_error = (f"{earlier.last_error} · " if earlier.last_error else "")[:1900] + \
            f"#{message.pk} {message.kind}"
        outbox_set_status(message=earlier, to_status=OutboxStatus.SUPERSEDED, fields=("last_error",))


def deliver(message_id: int, *, apply: Apply | None = None, now: datetime | None = None,
            force: bool = False) -> OutboxMessage | None:
    """Send one message if it is due (or `force`). Returns the message as it ended, or None if not sent now."""
    apply = apply or _answer_handler
    if apply is None:
        raise RuntimeError("no answer handler registered (outbox.answer_with)")
    now = now or timezone.now()
    message = _claim(message_id, now, force)
    if message is None:
        return None
    # an earlier call of the order unsent when this one was claimed (none can become unsent later: calls are never
    # recorded before an earlier one, and a sent one stays sent)
    passed_earlier = message.pending_before or message.failed_before
    started = time.perf_counter()
    client = get_client()
    try:
        result = CALLS[message.kind](client, Ids(client, message), message.payload, message.wire_key)  # no transaction
    except ProviderUnavailable as exc:
        return _record_failure(message, exc, now, transient=True)
    except ProviderError as exc:
        return _record_failure(message, exc, now, transient=False)
    if message.kind == "repayment" and not result.tx_id and _tx_id_finder:
        # a re-approval answered without the txId that replaced the old one — 3092 (applied before, its answer lost)
        # or 1001/1002 (accepted, completed later): the new txId is learnt where the provider tells it now (status
        # call, settlement report); one completed only later leaves the old txId, and its next call waits in 전송 대기열
        result = dataclasses.replace(result, tx_id=_tx_id_finder(client, message))
    portal_ms = (time.perf_counter() - started) * 1000
    try:
        with transaction.atomic():
            # the row locked and its status read again (the rest of it is the claim's: only the status moves meanwhile)
            now_status = OutboxMessage.objects.select_for_update().values_list("status", flat=True).get(pk=message.pk)
            if now_status in FINAL:  # another worker's send was recorded first, or a later cancel closed it
                if now_status == OutboxStatus.SUPERSEDED:
                    log.warning("outbox %s answered %s after the cancel that closed it; not applied",
                                message.idempotency_key, result.code)
                return OutboxMessage.objects.get(pk=message.pk)
            if passed_earlier:  # the outbox's rows before the transaction's (apply), as every writer locks them
                _supersede_earlier(message)
            apply(message, result)
            message.sent_at, message.response = timezone.now(), result.raw
            message.provider_ms = round(result.provider_ms) if result.provider_ms is not None else None
            message.last_error = ""
            outbox_set_status(message=message, to_status=OutboxStatus.SENT,
                              fields=("sent_at", "response", "provider_ms", "last_error"))
    except DatabaseError:
        raise  # the database's own trouble: the claim's lease runs out and the call is sent again, with its key
    except Exception as exc:  # an answer the order's transaction cannot take any more (it moved otherwise meanwhile)
        log.exception("outbox %s: the answer %s could not be applied", message.idempotency_key, result.code)
        return _record_failure(message, ProviderError("APPLY", f"{result.code} {exc}"[:300]), now, transient=False)
    log.info("outbox %s sent in %.1f ms", message.idempotency_key, portal_ms)
    return message


def _record_failure(message: OutboxMessage, exc: ProviderError, now: datetime, *, transient: bool) -> OutboxMessage:
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if message.status in FINAL:  # another worker's send went through, or a later cancel closed it
            return message
        message.last_error = f"[{exc.code}] {exc.message}"[:2000]
        if transient and message.attempts < MAX_ATTEMPTS:
            message.next_attempt_at = now + backoff(message.attempts)
            to_status = OutboxStatus.PENDING
        else:
            to_status = OutboxStatus.FAILED
        outbox_set_status(message=message, to_status=to_status, fields=("next_attempt_at", "last_error"))
    log.warning("outbox %s failed (%s): %s", message.idempotency_key, message.status, message.last_error)
    return message


def deliver_due(*, apply: Apply, now: datetime | None = None, limit: int = 100) -> int:
    """Send every due pending message (the scheduler's sweep). Returns how many were sent."""
    now = now or timezone.now()
    ids = list(OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
               .order_by("id").values_list("id", flat=True)[:limit])
    sent = 0
    for message_id in ids:
        result = deliver(message_id, apply=apply, now=now)
        sent += bool(result and result.status == OutboxStatus.SENT)
    return sent


def resolve_by_hand(message_id: int, *, apply: Apply, note: str, by_name: str) -> OutboxMessage:
    """An operator's record that a failed call ending the transaction (ENDING_KINDS) is done at the provider: the
    provider refused it because it had ended the transaction already (cancelled by itself, or by an earlier call
    whose answer was lost), which the operator checked on the provider's partner site. The answer is applied as the
    provider's would be (the transaction cancelled, the use given back in the books), with the operator's note as its
    message; the message reads 완료. Any other message is returned as it is."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message_id)
        if not message.resolvable_by_hand:
            return message
        result = ApiResult(code=RESOLVED_BY_HAND, message=note,
                           raw={"resultCode": RESOLVED_BY_HAND, "resultMessage": note, "resolvedBy": by_name,
                                "refused": message.last_error})
        _supersede_earlier(message)
        apply(message, result)
        message.sent_at, message.response = timezone.now(), result.raw
        outbox_set_status(message=message, to_status=OutboxStatus.SENT, fields=("sent_at", "response"))
    log.warning("outbox %s recorded as done at the provider by %s: %s", message.idempotency_key, by_name, note)
    return message


def cancelled_after(message: OutboxMessage) -> bool:
    """Whether a later call ending the order's transaction is on its way or sent: a failed call sent again now could
    reach the provider after it (and its answer find the transaction ended)."""
    return message.kind not in ENDING_KINDS and OutboxMessage.objects.filter(
        order_id=message.order_id, pk__gt=message.pk, kind__in=ENDING_KINDS,
        status__in=(OutboxStatus.PENDING, OutboxStatus.SENT)).exists()


def invoiced_after(message: OutboxMessage) -> bool:
    """Whether a failed delivery invoice has a later one of its order on its way or sent (an exchange's goods, a
    corrected number): sent again now it would replace the later one at the provider (it goes on the order's current
    txId), so it is not sent again. A refused invoice holds nothing back (models.outbox.waits_for)."""
    return message.kind == OutboxKind.INVOICE and OutboxMessage.objects.filter(
        order_id=message.order_id, pk__gt=message.pk, kind=OutboxKind.INVOICE,
        status__in=(OutboxStatus.PENDING, OutboxStatus.SENT)).exists()


def retry_by_hand(message_id: int, *, apply: Apply) -> OutboxMessage | None:
    """The operator's retry button: a FAILED message is sent again at once, with the same Idempotency-Key. The
    message returned says whether this press sent it (`sent_by_this_press`) or found it taken already."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message_id)
        if message.status != OutboxStatus.FAILED or cancelled_after(message) or invoiced_after(message):
            message.sent_by_this_press = False  # another press, or the worker, has it (or it is not to be sent)
            return message
        message.attempts, message.next_attempt_at = 0, timezone.now()
        outbox_set_status(message=message, to_status=OutboxStatus.PENDING, fields=("attempts", "next_attempt_at"))
    sent = deliver(message_id, apply=apply, force=True)
    if sent is not None:
        sent.sent_by_this_press = True
    return sent
