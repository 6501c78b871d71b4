"""The record of what was erased (파기 기록) and the daily run's claim."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# What an erased field holds from then on: the row and its amounts stay, the person is gone.
ERASED = "(파기됨)"


class Erasure(models.Model):
    """One order whose personal data were erased: when, and from which last event and period. Its presence is what
    makes a second run pass the order by."""

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="erasure",
                                 verbose_name=_("주문번호"))
    guest = models.BooleanField(_("비회원 주문"))
    last_event_at = models.DateTimeField(_("마지막 처리일"))
    retention_months = models.PositiveSmallIntegerField(_("보존 기간(개월)"))
    erased_at = models.DateTimeField(_("파기일"), db_index=True)

    class Meta:
        verbose_name = _("개인정보 파기 기록")
        verbose_name_plural = _("개인정보 파기 기록")
        ordering = ["-erased_at", "-id"]

    def __str__(self) -> str:
        return str(self.order_id)


class RetentionRun(models.Model):
    """One day's run of the retention job (Asia/Seoul date). Inserting the day's row is the claim: the node whose
    insert succeeds starts the run, every other node's scheduler sees the day taken."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    erased = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return self.day.isoformat()
