"""The portal's side of the monthly settlement (S1): every change of what the provider granted to the shop's buyers
(EARN: the shop owes it) or what they spent at the shop (USE: the provider owes it), signed, append-only, written
with the mileage event that caused it. A month's statement is one aggregate over these rows."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.append_only import AppendOnlyModel


class SettlementKind(models.TextChoices):
    EARN = "EARN", _("적립")
    USE = "USE", _("사용")


class SettlementLine(AppendOnlyModel):
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="settlement_lines")
    event = models.ForeignKey("mileage.MileageEvent", on_delete=models.PROTECT, related_name="settlement_lines")
    kind = models.CharField(max_length=4, choices=SettlementKind.choices)
    amount_won = models.BigIntegerField()  # negative for a cancellation
    month = models.CharField(max_length=7)  # YYYY-MM, Asia/Seoul
    occurred_at = models.DateTimeField()

    class Meta:
        verbose_name = _("정산 내역")
        verbose_name_plural = _("정산 내역")
        indexes = [models.Index(fields=["month", "kind"], name="settlement_month_kind_idx"),
                   models.Index(fields=["month", "order"], name="settlement_month_order_idx")]
