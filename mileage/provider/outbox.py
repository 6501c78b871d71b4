"""The outbox: provider calls recorded in the same transaction as the portal's state change, sent after commit.

`enqueue_call` writes an `OutboxMessage` inside the caller's atomic block and schedules delivery on commit.
`deliver` claims a message under a row lock, makes the HTTP call OUTSIDE any database transaction, then records
the outcome: success applies the provider's answer (e.g. a new txId) and appends a `MileageEvent`; a transient
failure is retried with backoff under the same Idempotency-Key; a refusal, or the last failed try, leaves the
message FAILED in the operator's queue, where it can be retried by hand.

Calls of one order go out in order: a message waits while an earlier one of the same order is not sent.
"""

import logging
import time
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from mileage.models import MileageEvent, MileageTransaction, OutboxMessage, OutboxStatus, TransactionState
from mileage.services.settlement import record_settlement

from .client import Invoice, PaymentRequest, ProviderError, ProviderUnavailable, get_client

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 5
CLAIM_LEASE = timedelta(minutes=2)

# kind → (event kind, state after success or None)
KINDS = {
    "approve": ("approve", TransactionState.APPROVED),
    "abort": ("abort", TransactionState.ABORTED),
    "stated": ("stated", TransactionState.STATED),
    "cancel_stated": ("cancel_stated", TransactionState.APPROVED),
    "cancel": ("cancel", TransactionState.CANCELLED),
    "repayment": ("repayment", None),
    "confirmed": ("confirmed", TransactionState.CONFIRMED),
    "invoice": ("invoice", None),
}


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


def enqueue_call(*, kind: str, mileage: MileageTransaction, payload: dict, idempotency_key: str,
                 now: datetime | None = None) -> OutboxMessage:
    """Record a provider call; must run inside the transaction that makes the state change."""
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("enqueue_call must run inside the state change's transaction")
    message, created = OutboxMessage.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={"kind": kind, "order_id": mileage.order_id, "payload": {**payload, "mileage_id": mileage.pk},
                  "wire_key": f"{idempotency_key}:{uuid.uuid4().hex[:16]}", "next_attempt_at": now or timezone.now()})
    if created:
        transaction.on_commit(lambda: _schedule(message.pk))
    return message


def _schedule(message_id: int) -> None:
    from .tasks import deliver_outbox_message

    try:
        deliver_outbox_message.enqueue(message_id)
    except Exception:  # the scheduler's sweep picks it up anyway
        log.exception("could not enqueue outbox message %s", message_id)


def _claim(message_id: int, now: datetime, force: bool) -> OutboxMessage | None:
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status == OutboxStatus.SENT:
            return None
        if message.status == OutboxStatus.FAILED and not force:
            return None
        if not force and message.next_attempt_at > now:
            return None
        earlier = OutboxMessage.objects.filter(order_id=message.order_id, pk__lt=message.pk).exclude(
            status=OutboxStatus.SENT)
        if message.order_id is not None and earlier.exists():
            return None
        message.status = OutboxStatus.PENDING
        message.attempts += 1
        message.next_attempt_at = now + CLAIM_LEASE
        message.save(update_fields=["status", "attempts", "next_attempt_at"])
        return message


def _call(message: OutboxMessage):
    client = get_client()
    mileage = MileageTransaction.objects.get(pk=message.payload["mileage_id"])
    key, payload = message.wire_key, message.payload
    match message.kind:
        case "approve":
            return client.approve(PaymentRequest.from_json(payload["request"]), idempotency_key=key)
        case "abort":
            return client.abort(mileage.req_tx_id, idempotency_key=key)
        case "repayment":
            return client.repayment(mileage.tx_id, PaymentRequest.from_json(payload["request"]),
                                    idempotency_key=key)
        case "invoice":
            return client.invoice(mileage.tx_id, Invoice(**payload["invoice"]), idempotency_key=key)
        case _:
            return getattr(client, message.kind)(mileage.tx_id, idempotency_key=key)


def deliver(message_id: int, *, now: datetime | None = None, force: bool = False) -> OutboxMessage | None:
    """Send one message if it is due (or `force`). Returns the message as it ended, or None if not sent now."""
    now = now or timezone.now()
    message = _claim(message_id, now, force)
    if message is None:
        return None
    started = time.perf_counter()
    try:
        result = _call(message)  # outside any transaction
    except ProviderUnavailable as exc:
        return _record_failure(message, exc, now, transient=True)
    except ProviderError as exc:
        return _record_failure(message, exc, now, transient=False)
    portal_ms = (time.perf_counter() - started) * 1000
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        mileage = MileageTransaction.objects.select_for_update().get(pk=message.payload["mileage_id"])
        event_kind, new_state = KINDS[message.kind]
        fields = ["updated_at"]
        if result.tx_id and message.kind in ("approve", "repayment"):
            mileage.tx_id = result.tx_id
            mileage.expected_earn_won = result.earn_won
            fields += ["tx_id", "expected_earn_won"]
        if message.kind == "approve" and result.tx_id:
            mileage.base_rate_x10, mileage.add_rate_x10 = result.base_rate_x10, result.add_rate_x10
            fields += ["base_rate_x10", "add_rate_x10"]
        if new_state is not None:
            mileage.state = new_state
            fields.append("state")
        mileage.save(update_fields=fields)
        request = message.payload.get("request") or {}
        answered_use = result.raw.get("mileageUseAmount")
        use_after = int(answered_use) if str(answered_use or "").isdigit() else request.get("mileage_use_won")
        event = MileageEvent.objects.create(
            transaction=mileage, kind=event_kind, tx_id=message.payload.get("tx_id_before", ""),
            new_tx_id=result.tx_id, use_won=use_after if use_after is not None else mileage.use_won,
            earn_base_won=mileage.earn_base_won, earn_won=result.earn_won, result_code=result.code,
            result_message=result.message[:300], idempotency_key=message.idempotency_key,
            created_by_id=message.payload.get("by"))
        record_settlement(mileage=mileage, event=event, use_after=use_after, earn_after=result.earn_won,
                          confirmed=bool(request.get("is_confirmed")))
        message.status, message.sent_at = OutboxStatus.SENT, timezone.now()
        message.response = result.raw
        message.provider_ms = int(result.provider_ms) if result.provider_ms is not None else None
        message.last_error = ""
        message.save(update_fields=["status", "sent_at", "response", "provider_ms", "last_error"])
    log.info("outbox %s sent in %.1f ms", message.idempotency_key, portal_ms)
    return message


def _record_failure(message: OutboxMessage, exc: ProviderError, now: datetime, *, transient: bool) -> OutboxMessage:
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        message.last_error = f"[{exc.code}] {exc.message}"[:2000]
        if transient and message.attempts < MAX_ATTEMPTS:
            message.status = OutboxStatus.PENDING
            message.next_attempt_at = now + backoff(message.attempts)
        else:
            message.status = OutboxStatus.FAILED
            if not transient and message.kind == "approve":
                mileage = MileageTransaction.objects.select_for_update().get(pk=message.payload["mileage_id"])
                mileage.state = TransactionState.FAILED
                mileage.save(update_fields=["state", "updated_at"])
        message.save(update_fields=["status", "next_attempt_at", "last_error"])
    log.warning("outbox %s failed (%s): %s", message.idempotency_key, message.status, message.last_error)
    return message


def deliver_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Send every due pending message (the scheduler's sweep). Returns how many were sent."""
    now = now or timezone.now()
    ids = list(OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
               .order_by("id").values_list("id", flat=True)[:limit])
    sent = 0
    for message_id in ids:
        result = deliver(message_id, now=now)
        sent += bool(result and result.status == OutboxStatus.SENT)
    return sent


def retry_by_hand(message_id: int) -> OutboxMessage | None:
    """The operator's retry button: a FAILED message is sent again at once, with the same Idempotency-Key."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message_id)
        if message.status != OutboxStatus.FAILED:
            return message
        message.status, message.attempts = OutboxStatus.PENDING, 0
        message.next_attempt_at = timezone.now()
        message.save(update_fields=["status", "attempts", "next_attempt_at"])
    return deliver(message_id, force=True)
