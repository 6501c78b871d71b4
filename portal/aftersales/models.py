"""After the sale: refunds (환불관리), returns (상품반송) and exchanges (상품교환).

A refund waits in the refund queue as 환불전; only 환불완료 moves money back — the store points to the member and
the Naver Mileage at the provider (L3, L4). Every row records who did what and when.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.choices import ChoiceLabels
from core.state_machine import Gate, TransitionTable
from portal.constraints import non_negative
from portal.orders.models import Carrier


class RefundStatus(models.TextChoices):
    BEFORE = "before", _("환불전")  # waiting in the refund queue: nothing moved yet
    DONE = "done", _("환불완료")  # the money moved (the gateway confirmed, or the shop paid); the provider call is in the outbox


# 환불완료 is the one move and it is final (a refund is never reopened; more money back is a new refund).
REFUND_TRANSITIONS = {RefundStatus.BEFORE: {RefundStatus.DONE}, RefundStatus.DONE: set()}


class RefundReason(models.TextChoices):
    CANCEL = "cancel", _("주문취소")
    RETURN = "return", _("반품")
    EXCHANGE = "exchange", _("교환")


class RefundMethod(models.TextChoices):
    CASH = "cash", _("현금환불")
    CARD = "card", _("카드취소")
    TRANSFER = "transfer", _("계좌이체취소")
    PHONE = "phone", _("휴대폰결제취소")
    POINTS = "points", _("적립금환불")


class ProviderCall(models.TextChoices):
    NONE = "", _("없음")
    CANCEL = "cancel", _("취소")
    REPAYMENT = "repayment", _("재승인")


def payout_of(cash_won: int, shipping_deduction_won: int) -> int:
    """The money a refund pays back: its cash part less the 배송비 the shop keeps (배송비적용: 30,000원 with 2,500원
    applied pays back 27,500원). The refund limits count the cash part, the money the refund settles."""
    return max(0, cash_won - shipping_deduction_won)


class RefundTerms(ChoiceLabels, models.Model):
    """How much goes back and how (the eight fields a return records at 반품접수 and its refund carries on)."""

    cash_won = models.BigIntegerField(_("현금/카드 환불액"), default=0)
    store_points_won = models.BigIntegerField(_("적립금 반환액"), default=0)
    mileage_won = models.BigIntegerField(_("네이버 마일리지 반환액"), default=0)
    shipping_deduction_won = models.BigIntegerField(_("배송비 적용"), default=0)
    method = models.CharField(_("환불 방식"), max_length=10, choices=RefundMethod.choices, default=RefundMethod.CASH)
    bank = models.CharField(_("환불은행"), max_length=40, blank=True)
    account_no = models.CharField(_("환불 계좌번호"), max_length=40, blank=True)
    holder = models.CharField(_("예금주"), max_length=40, blank=True)

    class Meta:
        abstract = True

    @property
    def total_won(self) -> int:
        return self.cash_won + self.store_points_won + self.mileage_won

    @property
    def payout_won(self) -> int:
        return payout_of(self.cash_won, self.shipping_deduction_won)

    @property
    def payout_way(self) -> str:
        """How the money goes back (카드취소, 현금환불, …), the one wording of every screen and export; "" when no
        money goes back (the way chosen then moves nothing)."""
        return str(self.get_method_display()) if self.payout_won else ""

    @property
    def money_back_won(self) -> int:
        """What goes back as money (현금/카드: the gateway's cancel or a 현금환불); a 적립금환불 pays none."""
        return 0 if self.method == RefundMethod.POINTS else self.payout_won

    @property
    def points_back_won(self) -> int:
        """What goes back as the shop's 적립금: the points the order used, and the payout of a 적립금환불."""
        return self.store_points_won + (self.payout_won if self.method == RefundMethod.POINTS else 0)

    def refund_terms(self) -> dict:
        """These terms as keyword arguments, to create a refund carrying them on."""
        return {name: getattr(self, name) for name in REFUND_TERMS}


REFUND_TERMS = ("cash_won", "store_points_won", "mileage_won", "shipping_deduction_won", "method", "bank",
                "account_no", "holder")


class Refund(RefundTerms):
    number = models.CharField(_("환불정보"), max_length=20, unique=True)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds")
    reason = models.CharField(_("사유"), max_length=10, choices=RefundReason.choices)
    status = models.CharField(_("환불상태"), max_length=8, choices=RefundStatus.choices, default=RefundStatus.BEFORE)
    transitions = TransitionTable("status", REFUND_TRANSITIONS, RefundStatus)
    provider_call = models.CharField(max_length=10, choices=ProviderCall.choices, blank=True, default="")
    returned_at = models.DateTimeField(_("반송완료일"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("접수일"), auto_now_add=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    completed_at = models.DateTimeField(_("환불완료일"), null=True, blank=True)
    # why the money did not move at the last 환불완료 (the gateway's reason); empty once it moved
    payout_error = models.CharField(_("환불 실패 사유"), max_length=300, blank=True)
    # why a refund of a card-like payment is paid as 현금환불: the PG cannot take its cancel (portal.orders.rules)
    cash_reason = models.CharField(_("현금환불 사유"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("환불")
        verbose_name_plural = _("환불")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="refund_status_created_idx")]
        constraints = non_negative("refund", "cash_won", "store_points_won", "mileage_won", "shipping_deduction_won")

    def __str__(self) -> str:
        return self.number

    # Both lines are shown in the reader's language where they are one of the portal's own lines (their msgid,
    # translated when shown); a gateway's own words stay as they came. cash_reason is always written in Korean (under
    # translation.override("ko")); payout_error in the language of the 환불완료 that failed.
    @property
    def cash_reason_text(self) -> str:
        return gettext(self.cash_reason) if self.cash_reason else ""

    @property
    def payout_error_text(self) -> str:
        return gettext(self.payout_error) if self.payout_error else ""


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", _("반품접수")
    RETURNING = "returning", _("반송중")
    RETURNED = "returned", _("반송완료")


RETURN_TRANSITIONS = {
    ReturnStatus.REQUESTED: {ReturnStatus.RETURNING},
    ReturnStatus.RETURNING: {ReturnStatus.RETURNED},
    ReturnStatus.RETURNED: set(),
}
# the console's two steps of a return (`console:return-step`), as rows of the table
RETURN_GATES = {
    "shipping": Gate(frozenset({ReturnStatus.REQUESTED}), ReturnStatus.RETURNING),
    "complete": Gate(frozenset({ReturnStatus.RETURNING}), ReturnStatus.RETURNED),
}


class ReturnRequest(RefundTerms):
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(_("반품상태"), max_length=10, choices=ReturnStatus.choices,
                              default=ReturnStatus.REQUESTED)
    transitions = TransitionTable("status", RETURN_TRANSITIONS, ReturnStatus, gates=RETURN_GATES)
    lines = models.JSONField(default=dict)  # {order line id: quantity}
    reason = models.CharField(_("반품사유"), max_length=200, blank=True)
    refund = models.OneToOneField(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="return_request")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("반송접수일"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("반품")
        verbose_name_plural = _("반품")
        ordering = ["-created_at"]
        constraints = non_negative("return", "cash_won", "store_points_won", "mileage_won", "shipping_deduction_won")


class Exchange(ChoiceLabels, models.Model):
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="exchanges")
    old_lines = models.JSONField(default=dict)  # {order line id: quantity}
    new_lines = models.JSONField(default=list)  # [{"code": ..., "quantity": ...}]
    mileage_returned_won = models.BigIntegerField(_("네이버 마일리지 반환액"), default=0)
    additional_payment_won = models.BigIntegerField(_("추가 결제예정 금액"), default=0)
    refund_won = models.BigIntegerField(_("환불액"), default=0)
    earn_basis_won = models.BigIntegerField(_("적립 기준금액"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # 교환상품 배송: goods exchanged after the order shipped leave with their own carrier and invoice (after the
    # 추가입금, when one is due); goods exchanged before it leave with the order (`ships_with_order`)
    ships_with_order = models.BooleanField(default=False)
    carrier = models.CharField(_("택배사"), max_length=20, choices=Carrier.choices, blank=True)
    invoice_no = models.CharField(_("운송장번호"), max_length=40, blank=True)
    shipped_at = models.DateTimeField(_("교환상품 배송일"), null=True, blank=True)
    shipped_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("교환")
        verbose_name_plural = _("교환")
        constraints = non_negative("exchange", "mileage_returned_won", "additional_payment_won", "refund_won",
                                    "earn_basis_won")

    @property
    def awaits_shipping(self) -> bool:
        """New goods, exchanged after the order shipped, that have not left yet (and were not exchanged again for
        something else before they left)."""
        if not self.new_lines or self.ships_with_order or self.shipped_at is not None:
            return False
        return any(line.quantity > line.returned_quantity for line in self.lines.all())


class BuyerRequestKind(models.TextChoices):
    CANCEL = "cancel", pgettext_lazy("buyer request", "취소")  # a paid order not shipped yet: 배송전 취소
    RETURN = "return", pgettext_lazy("buyer request", "반품")  # a shipped or delivered order: 상품반송
    EXCHANGE = "exchange", pgettext_lazy("buyer request", "교환")  # a delivered order: 상품교환 (§9)


class BuyerRequestStatus(models.TextChoices):
    OPEN = "open", _("신청")  # waiting for the operator
    HANDLED = "handled", _("처리완료")  # the operator cancelled the order or registered the return
    DISMISSED = "dismissed", _("반려")  # the operator declined it, with a reason the buyer sees


BUYER_REQUEST_TRANSITIONS = {
    BuyerRequestStatus.OPEN: {BuyerRequestStatus.HANDLED, BuyerRequestStatus.DISMISSED},
    BuyerRequestStatus.HANDLED: set(),
    BuyerRequestStatus.DISMISSED: set(),
}


class BuyerRequest(ChoiceLabels, models.Model):
    """A buyer's 취소/반품/교환 신청 of a paid order (from My Page or 비회원 주문조회): nothing moves until the operator
    acts on it with the cancel, return or exchange screen (which marks it handled) or dismisses it with a reason. One
    open request per order."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="buyer_requests")
    kind = models.CharField(_("신청 구분"), max_length=10, choices=BuyerRequestKind.choices)
    reason = models.CharField(_("신청 사유"), max_length=500)
    status = models.CharField(_("처리상태"), max_length=10, choices=BuyerRequestStatus.choices,
                              default=BuyerRequestStatus.OPEN)
    transitions = TransitionTable("status", BUYER_REQUEST_TRANSITIONS, BuyerRequestStatus)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")  # the member; empty for a guest
    created_at = models.DateTimeField(_("신청일"), auto_now_add=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    handled_at = models.DateTimeField(_("처리일"), null=True, blank=True)
    dismiss_reason = models.CharField(_("반려 사유"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("취소/반품/교환 신청")
        verbose_name_plural = _("취소/반품/교환 신청")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order"], condition=models.Q(status="open"),
                                    name="buyerrequest_one_open_per_order"),
            models.CheckConstraint(condition=models.Q(kind__in=["cancel", "return", "exchange"]), name="buyerrequest_kind_valid"),
            models.CheckConstraint(condition=models.Q(status__in=["open", "handled", "dismissed"]),
                                   name="buyerrequest_status_valid"),
            models.CheckConstraint(condition=~models.Q(status="dismissed") | ~models.Q(dismiss_reason=""),
                                   name="buyerrequest_dismissed_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.get_kind_display()} {self.get_status_display()}"
