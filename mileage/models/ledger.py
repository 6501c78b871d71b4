"""Per-order mileage transactions and their append-only event ledger.

`MileageTransaction` is the portal's current view of one order at the provider (its current txId, the rates it
was approved with, the use and the earn). `MileageEvent` rows record every provider call and its result; they
are never edited or deleted: a reversal is a new row.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.append_only import AppendOnlyError, AppendOnlyModel, StateChangeRow
from core.choices import ChoiceLabels
from core.state_machine import TransitionTable

__all__ = ["MILEAGE_TRANSITIONS", "AppendOnlyError", "MileageEvent", "MileageEventKind", "MileageStateChange",
           "MileageTransaction", "TransactionState"]


class TransactionState(models.TextChoices):
    HELD = "held", _("사용 보류")  # the buyer's verified popup choice, held at the provider, not yet approved
    APPROVING = "approving", _("승인요청")  # the approval is being asked for (synchronously, at placement)
    APPROVED = "approved", _("승인")  # approved at the provider
    STATED = "stated", _("거래완료")  # the deal is done (paid)
    REPAID = "repaid", _("재승인")  # re-approved with new totals (partial refund, return, exchange)
    CONFIRMED = "confirmed", _("구매확정")  # the purchase is confirmed
    ABORTED = "aborted", _("승인취소")  # the approval or the hold was aborted (the order was not paid)
    CANCELLED = "cancelled", _("취소")  # the whole order cancelled at the provider
    FAILED = "failed", _("승인거절")  # the provider refused the approval, or could not be reached for it


# What the provider can do to a transaction, as the portal records it (staying in a state is always allowed).
MILEAGE_TRANSITIONS: dict[str, set[str]] = {
    TransactionState.HELD: {TransactionState.APPROVING, TransactionState.ABORTED, TransactionState.FAILED},
    TransactionState.APPROVING: {TransactionState.APPROVED, TransactionState.FAILED, TransactionState.ABORTED},
    TransactionState.APPROVED: {TransactionState.STATED, TransactionState.REPAID, TransactionState.CONFIRMED, TransactionState.CANCELLED, TransactionState.ABORTED},
    TransactionState.STATED: {TransactionState.APPROVED, TransactionState.REPAID, TransactionState.CONFIRMED, TransactionState.CANCELLED},
    TransactionState.REPAID: {TransactionState.STATED, TransactionState.APPROVED, TransactionState.CONFIRMED, TransactionState.CANCELLED},
    TransactionState.CONFIRMED: set(),
    TransactionState.FAILED: {TransactionState.ABORTED},
    TransactionState.ABORTED: set(),
    TransactionState.CANCELLED: set(),
}


class MileageTransaction(ChoiceLabels, models.Model):
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="mileage")
    req_tx_id = models.CharField(max_length=64, blank=True)  # unique: one popup choice pays for one order
    # The Idempotency-Key of the approval, drawn once: every try of the approval sends it.
    approval_key = models.CharField(max_length=100, blank=True)
    tx_id = models.CharField(_("거래번호"), max_length=64, blank=True, db_index=True)
    state = models.CharField(max_length=12, choices=TransactionState.choices, default=TransactionState.HELD)
    transitions = TransitionTable("state", MILEAGE_TRANSITIONS, TransactionState, stay=True)
    base_rate_x10 = models.PositiveIntegerField(_("기본 적립률×10"), default=0)
    add_rate_x10 = models.PositiveIntegerField(_("추가 적립률×10"), default=0)
    use_won = models.BigIntegerField(_("사용금액"), default=0)
    returned_won = models.BigIntegerField(_("반환금액"), default=0)
    earn_base_won = models.BigIntegerField(_("적립대상금액"), default=0)
    original_earn_base_won = models.BigIntegerField(_("최초 적립대상금액"), default=0)
    expected_earn_won = models.BigIntegerField(_("적립예정"), default=0)
    # What the provider holds now for this order, as its answers said: the use reserved and the earn granted.
    provider_use_won = models.BigIntegerField(default=0)
    granted_earn_won = models.BigIntegerField(default=0)
    earn_granted = models.BooleanField(default=False)
    inflow_token = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("네이버 마일리지 거래")
        verbose_name_plural = _("네이버 마일리지 거래")
        constraints = [
            models.UniqueConstraint(fields=["req_tx_id"], condition=~Q(req_tx_id=""), name="mtx_req_tx_id_unique"),
            models.CheckConstraint(condition=Q(use_won__gte=0), name="mtx_use_non_negative"),
            models.CheckConstraint(condition=Q(returned_won__gte=0) & Q(returned_won__lte=F("use_won")),
                                   name="mtx_returned_within_use"),
            models.CheckConstraint(condition=Q(earn_base_won__gte=0), name="mtx_base_non_negative"),
            models.CheckConstraint(condition=Q(expected_earn_won__gte=0) & Q(expected_earn_won__lte=20_000),
                                   name="mtx_earn_within_cap"),
        ]

    @property
    def total_rate_x10(self) -> int:
        return self.base_rate_x10 + self.add_rate_x10

    @property
    def use_remaining_won(self) -> int:
        return self.use_won - self.returned_won


class MileageEventKind(models.TextChoices):
    APPROVE = "approve", _("승인")
    ABORT = "abort", _("승인취소")
    STATED = "stated", _("거래완료")
    CANCEL_STATED = "cancel_stated", _("거래완료 취소")
    CANCEL = "cancel", _("취소")
    REPAYMENT = "repayment", _("재승인")
    CONFIRMED = "confirmed", _("구매확정")
    INVOICE = "invoice", _("송장")
    AUTO_CANCEL = "auto_cancel", _("미입금 자동취소")
    # a re-approval answered without its new txId (1001/1002: completed later), learnt afterwards
    TX_ID_LEARNT = "tx_id_learnt", _("재승인 거래번호 확인")


class MileageEvent(AppendOnlyModel):
    """One provider call (or provider-side fact) for an order, with its result. Append-only."""

    transaction = models.ForeignKey(MileageTransaction, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=MileageEventKind.choices)
    tx_id = models.CharField(max_length=64, blank=True)
    new_tx_id = models.CharField(max_length=64, blank=True)
    use_won = models.BigIntegerField(default=0)
    earn_base_won = models.BigIntegerField(default=0)
    earn_won = models.BigIntegerField(default=0)
    result_code = models.CharField(max_length=8, blank=True)
    result_message = models.CharField(max_length=300, blank=True)
    provider_ms = models.PositiveIntegerField(null=True, blank=True)  # its own (X-Provider-Time-Ms), else the wait
    idempotency_key = models.CharField(max_length=100, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("네이버 마일리지 이력")
        verbose_name_plural = _("네이버 마일리지 이력")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(use_won__gte=0), name="mevent_use_non_negative"),
            models.CheckConstraint(condition=Q(earn_won__gte=0), name="mevent_earn_non_negative"),
        ]


class MileageStateChange(StateChangeRow):
    """One move of a transaction along MILEAGE_TRANSITIONS, with the event that caused it. Append-only."""

    transaction = models.ForeignKey(MileageTransaction, on_delete=models.PROTECT, related_name="state_changes")
    from_state = models.CharField(max_length=12, choices=TransactionState.choices, blank=True)
    to_state = models.CharField(max_length=12, choices=TransactionState.choices)
    event = models.ForeignKey(MileageEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta(StateChangeRow.Meta):
        verbose_name = _("네이버 마일리지 상태 변경")
        verbose_name_plural = _("네이버 마일리지 상태 변경")
