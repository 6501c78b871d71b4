"""Members (buyers with an account) and their store points (적립금), kept as an append-only ledger."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.append_only import AppendOnlyModel


class Member(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member")
    name = models.CharField(_("이름"), max_length=50)
    phone = models.CharField(_("휴대전화"), max_length=20, blank=True)
    zipcode = models.CharField(_("우편번호"), max_length=10, blank=True)
    address = models.CharField(_("기본주소"), max_length=200, blank=True)
    address_detail = models.CharField(_("나머지주소"), max_length=200, blank=True)
    store_points_won = models.BigIntegerField(_("적립금"), default=0)

    class Meta:
        verbose_name = _("회원")
        verbose_name_plural = _("회원")
        constraints = [
            models.CheckConstraint(condition=Q(store_points_won__gte=0), name="member_points_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user.get_username()})"


class StorePointEntry(AppendOnlyModel):
    """One movement of a member's store points. Append-only; `balance_after` is the member's balance then."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="point_entries")
    delta_won = models.BigIntegerField(_("변동"))
    balance_after_won = models.BigIntegerField(_("잔액"))
    reason = models.CharField(_("사유"), max_length=100)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="point_entries")
    idempotency_key = models.CharField(max_length=100, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("적립금 내역")
        verbose_name_plural = _("적립금 내역")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance_after_won__gte=0), name="point_entry_balance_non_negative"),
        ]
