"""The outbox: provider calls written in the same transaction as the state change, sent after commit."""

import re

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.choices import ChoiceLabels
from core.state_machine import TransitionTable

# the recorded refusal of a state error: "[3013] …" (outbox._record_failure writes "[code] message") — the sandbox's
# 3xxx, or a four-digit code of a provider numbering its errors its own way; never the sandbox's 1xxx/2xxx (the key,
# a parameter): mileage.provider.extensions.state_refusal
STATE_ERROR = re.compile(r"\[(?:3|[04-9])[0-9]{3}\]")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("대기")  # waiting to be sent (or to be retried at next_attempt_at)
    SENT = "sent", _("완료")  # the provider answered success (or 'already done')
    FAILED = "failed", _("실패")  # the provider refused, or the retries ran out: an operator must look
    SUPERSEDED = "superseded", _("취소로 종결")  # never to be sent: a later cancel of the order was answered


# PENDING → PENDING is a claim or a retry later (attempts and next_attempt_at move); FAILED → PENDING is the
# operator's 재시도; FAILED → SENT an operator's record that the provider ended the transaction already (a cancel it
# refused because it was cancelled: outbox.resolve_by_hand); PENDING or FAILED → SUPERSEDED when a later call ending
# the transaction was answered (outbox._supersede_earlier); SENT and SUPERSEDED are final.
OUTBOX_TRANSITIONS = {
    OutboxStatus.PENDING: {OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SUPERSEDED},
    OutboxStatus.FAILED: {OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.SUPERSEDED},
    OutboxStatus.SENT: set(),
    OutboxStatus.SUPERSEDED: set(),
}


class OutboxKind(models.TextChoices):
    """The provider calls that follow a state change (docs/protocol.md §2), as the console names them."""

    ABORT = "abort", _("승인취소")
    STATED = "stated", _("거래완료")
    CANCEL_STATED = "cancel_stated", _("거래완료 취소")
    CANCEL = "cancel", _("적립/사용 취소")
    AUTO_CANCEL = "auto_cancel", _("미입금 자동취소")
    CONFIRMED = "confirmed", _("구매확정")
    REPAYMENT = "repayment", _("재승인")
    INVOICE = "invoice", _("배송정보")


# the calls that end the order's transaction at the provider: one is sent even when an earlier call of the order
# failed (it takes everything back), and a failed one may be recorded by an operator as done at the provider
ENDING_KINDS = (OutboxKind.CANCEL, OutboxKind.AUTO_CANCEL, OutboxKind.ABORT)
# the calls that, refused, hold nothing back: they book nothing and nothing after them depends on them (the delivery
# invoice only tells the provider what shipped)
HOLDING_NOTHING_KINDS = (OutboxKind.INVOICE,)


def waits_for(kind: str, earlier: list[tuple[int, str, str]]) -> int | None:
    """The earlier unsent call of the order that holds a call of `kind` back, or None when it may go. `earlier`: the
    order's earlier calls still pending or failed, as (id, status, kind), oldest first. Calls go in order; a call
    ending the transaction (ENDING_KINDS) passes a failed call and the calls stuck behind it (it takes back whatever
    they would have done), but never a failed re-approval (the txId it would end may have been replaced) nor a call
    still to go before them, nor another ending call. A delivery invoice the provider refused holds nothing back: it
    only tells the provider what shipped, nothing after it depends on it (a 구매확정 or a return's re-approval goes,
    and the refused invoice waits in 전송 대기열 for an operator). The outbox sends by it; 전송 대기열 shows it."""
    earlier = [(pk, status, earlier_kind) for pk, status, earlier_kind in earlier
               if not (status == OutboxStatus.FAILED and earlier_kind in HOLDING_NOTHING_KINDS)]
    if not earlier:
        return None
    if kind not in ENDING_KINDS:
        return earlier[0][0]
    stuck = False
    for pk, status, earlier_kind in earlier:
        if status == OutboxStatus.FAILED:
            if earlier_kind == OutboxKind.REPAYMENT:
                return pk
            stuck = True
        elif not stuck or earlier_kind in ENDING_KINDS:
            return pk
    return None


# the calls that give a refund's mileage back at the provider: a failed one leaves the buyer's mileage unreturned
MILEAGE_RETURN_KINDS = (OutboxKind.CANCEL, OutboxKind.AUTO_CANCEL, OutboxKind.REPAYMENT)


class OutboxMessage(ChoiceLabels, models.Model):
    kind = models.CharField(_("요청"), max_length=16, choices=OutboxKind.choices)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="outbox_messages", verbose_name=_("주문번호"))
    payload = models.JSONField(default=dict)
    idempotency_key = models.CharField(max_length=100, unique=True)  # one operation, once, in this portal
    # The Idempotency-Key sent on every try: the operation's key plus a token drawn once, so that it is unique at the
    # provider across portals and across a reset of this portal's database.
    wire_key = models.CharField(max_length=140, unique=True)
    status = models.CharField(_("상태"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    transitions = TransitionTable("status", OUTBOX_TRANSITIONS, OutboxStatus)
    attempts = models.PositiveIntegerField(_("시도 횟수"), default=0)
    next_attempt_at = models.DateTimeField(_("다음 시도"))
    last_error = models.TextField(_("마지막 오류"), blank=True)
    response = models.JSONField(default=dict, blank=True)
    provider_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("요청 시각"), auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("전송 대기열")
        verbose_name_plural = _("전송 대기열")
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OutboxStatus.values), name="outbox_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key} ({self.status})"

    @property
    def resolvable_by_hand(self) -> bool:
        """A failed call ending the transaction that the provider refused with a state error (3xxx, or its own
        numbering: docs/protocol.md §2): it may have ended the transaction already, which an operator may record (outbox.resolve_by_hand). A
        refusal of the credentials, a provider that never answered, or a call never sent are not."""
        return (self.status == OutboxStatus.FAILED and self.kind in ENDING_KINDS
                and STATE_ERROR.match(self.last_error) is not None)
