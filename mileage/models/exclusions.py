"""Products excluded from Naver Mileage (E6): only gift certificates (상품권) and gold (금), with a change log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.choices import ChoiceLabels
from mileage.policy.constants import EXCLUSION_REASON_GIFT_CERTIFICATE, EXCLUSION_REASON_GOLD


class ExclusionReason(models.TextChoices):
    GIFT_CERTIFICATE = EXCLUSION_REASON_GIFT_CERTIFICATE, _("상품권")
    GOLD = EXCLUSION_REASON_GOLD, _("금")


class Exclusion(ChoiceLabels, models.Model):
    product = models.OneToOneField("catalog.Product", on_delete=models.CASCADE, related_name="mileage_exclusion")
    reason = models.CharField(_("사유"), max_length=10, choices=ExclusionReason.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("예외상품")
        verbose_name_plural = _("예외상품")
        constraints = [
            models.CheckConstraint(condition=models.Q(reason__in=ExclusionReason.values),
                                   name="exclusion_reason_valid"),
        ]


class ExclusionChange(models.Model):
    """Append-only log of exclusion changes: who, when, from, to."""

    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="exclusion_changes")
    from_reason = models.CharField(max_length=10, blank=True)  # "" = applied (not excluded)
    to_reason = models.CharField(max_length=10, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
