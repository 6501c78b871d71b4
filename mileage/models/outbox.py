"""The outbox: provider calls written in the same transaction as the state change, sent after commit."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("대기")  # waiting to be sent (or to be retried at next_attempt_at)
    SENT = "sent", _("완료")  # the provider answered success (or 'already done')
    FAILED = "failed", _("실패")  # the provider refused, or the retries ran out: an operator must look


class OutboxMessage(models.Model):
    kind = models.CharField(max_length=16)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="outbox_messages")
    payload = models.JSONField(default=dict)
    idempotency_key = models.CharField(max_length=100, unique=True)  # one operation, once, in this portal
    # The Idempotency-Key sent on every try: the operation's key plus a token drawn once, so that it is unique at the
    # provider across portals and across a reset of this portal's database.
    wire_key = models.CharField(max_length=140, unique=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    response = models.JSONField(default=dict, blank=True)
    provider_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
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
