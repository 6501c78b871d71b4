"""Orders, their lines and payments, and the order status machine with its change history."""

import re

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from core.append_only import StateChangeRow
from core.choices import ChoiceLabels
from core.state_machine import Gate, TransitionTable
from portal.constraints import non_negative

from .querysets import OrderQuerySet


class OrderStatus(models.TextChoices):
    PLACING = "placing", _("주문처리중")  # submitted; the mileage approval or the card charge is under way
    AWAITING_DEPOSIT = "awaiting_deposit", _("입금전")  # bank transfer placed, no deposit yet
    PAID = "paid", _("결제완료")  # paid, being prepared (배송준비중)
    SHIPPED = "shipped", _("배송중")  # handed to the carrier with an invoice number
    DELIVERED = "delivered", _("배송완료")  # arrived at the buyer
    CONFIRMED = "confirmed", _("구매확정")  # the buyer or operator confirmed the purchase
    RETURN_REQUESTED = "return_requested", _("반품접수")  # a return was registered
    RETURNING = "returning", _("반송중")  # the goods are on their way back
    RETURNED = "returned", _("반송완료")  # the goods are back; the refund is in the refund queue
    CANCELLED = "cancelled", _("주문취소")  # cancelled before or after payment
    PAYMENT_FAILED = "payment_failed", _("결제실패")  # not placed: the card or the mileage approval was refused


ORDER_TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.PLACING: {OrderStatus.AWAITING_DEPOSIT, OrderStatus.PAID, OrderStatus.PAYMENT_FAILED},
    OrderStatus.AWAITING_DEPOSIT: {OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.PAYMENT_FAILED},
    OrderStatus.PAID: {OrderStatus.AWAITING_DEPOSIT, OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED},
    OrderStatus.DELIVERED: {OrderStatus.CONFIRMED, OrderStatus.RETURN_REQUESTED},
    OrderStatus.RETURN_REQUESTED: {OrderStatus.RETURNING, OrderStatus.DELIVERED},
    OrderStatus.RETURNING: {OrderStatus.RETURNED},
    OrderStatus.RETURNED: {OrderStatus.DELIVERED},
    OrderStatus.CONFIRMED: set(),
    OrderStatus.CANCELLED: set(),
    OrderStatus.PAYMENT_FAILED: set(),
}
# An order in these states was never placed (its payment refused, or still being asked): it has no receipt.
WITHOUT_RECEIPT = frozenset({OrderStatus.PLACING, OrderStatus.PAYMENT_FAILED})
# The operators' and buyers' actions on an order, as rows of its table: the states each acts from (the service's gate)
# and where it moves the order (None: the status stays, e.g. 상품교환).
ORDER_GATES = {
    "cancel_before_payment": Gate(frozenset({OrderStatus.AWAITING_DEPOSIT}), OrderStatus.CANCELLED),  # §6 입금전 취소
    "cancel_after_payment": Gate(frozenset({OrderStatus.PAID}), OrderStatus.CANCELLED),  # §7 배송전 취소
    "return_request": Gate(frozenset({OrderStatus.DELIVERED}), OrderStatus.RETURN_REQUESTED),  # §8 반품접수
    "exchange": Gate(frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED})),  # §9 상품교환: lines change, the status stays
}


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank", _("무통장입금")
    CARD = "card", _("신용카드")
    REALTIME_TRANSFER = "realtime", _("실시간계좌이체")
    PHONE = "phone", _("휴대폰결제")
    VIRTUAL_ACCOUNT = "vbank", _("가상계좌")  # a PG issues an account for this order; its deposit pays it


class Carrier(models.TextChoices):
    """택배사: the carriers an operator picks from (the provider's invoice names the carrier by its Korean name)."""

    CJ = "cj", _("CJ대한통운")
    LOTTE = "lotte", _("롯데택배")
    HANJIN = "hanjin", _("한진택배")
    EPOST = "epost", _("우체국택배")
    LOGEN = "logen", _("로젠택배")
    KYUNGDONG = "kyungdong", _("경동택배")
    OTHER = "other", _("기타")

    @property
    def korean_name(self) -> str:
        """The carrier's name as the provider's invoice carries it (`service_company`), whatever the UI language."""
        with translation.override("ko"):
            return str(self.label)


class Order(ChoiceLabels, models.Model):
    number = models.CharField(_("주문번호"), max_length=20, unique=True)
    member = models.ForeignKey("accounts.Member", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="orders", verbose_name=_("회원"))
    guest_password_hash = models.CharField(max_length=128, blank=True)
    status = models.CharField(_("처리상태"), max_length=20, choices=OrderStatus.choices,
                              default=OrderStatus.AWAITING_DEPOSIT)
    transitions = TransitionTable("status", ORDER_TRANSITIONS, OrderStatus, gates=ORDER_GATES)
    payment_method = models.CharField(_("결제수단"), max_length=10, choices=PaymentMethod.choices)

    orderer_name = models.CharField(_("주문자명"), max_length=50)
    orderer_phone = models.CharField(_("휴대전화"), max_length=20)
    orderer_email = models.EmailField(_("이메일"), blank=True)
    recipient_name = models.CharField(_("상품수령인명"), max_length=50)
    recipient_phone = models.CharField(_("수령인 연락처"), max_length=20)
    zipcode = models.CharField(_("우편번호"), max_length=10, blank=True)
    address = models.CharField(_("기본주소"), max_length=200)
    address_detail = models.CharField(_("나머지주소"), max_length=200, blank=True)
    shipping_message = models.CharField(_("배송메시지"), max_length=200, blank=True)
    depositor_name = models.CharField(_("입금자명"), max_length=50, blank=True)

    goods_won = models.BigIntegerField(_("상품 합계금액"))
    excluded_goods_won = models.BigIntegerField(_("적립제외 상품금액"), default=0)
    discount_won = models.BigIntegerField(_("할인금액"), default=0)
    shipping_won = models.BigIntegerField(_("배송비"), default=0)
    store_points_won = models.BigIntegerField(_("사용적립금"), default=0)
    # E9: which earn the order gets (naver | store | both) and the shop's 적립금 it earns at 구매확정.
    earn_choice = models.CharField(_("적립 수단"), max_length=6, default="both")
    store_points_earn_won = models.BigIntegerField(_("적립금 적립 예정"), default=0)
    # what 구매확정 actually granted (after returns and exchanges), the figure statements show from then on
    store_points_granted_won = models.BigIntegerField(_("적립금 적립"), default=0)
    mileage_use_won = models.BigIntegerField(_("네이버 마일리지 사용"), default=0)
    payable_won = models.BigIntegerField(_("결제금액"))
    # 실 결제금액: what the shop took — the order's charged payments (an exchange's 추가입금 too), before anything went
    # back; 0 while nothing was paid. Kept by the money's owner (portal.orders.money) with every charge, so that
    # 주문조회, its exports and 주문상세정보 read one figure.
    collected_won = models.BigIntegerField(_("실 결제금액"), default=0)

    placed_at = models.DateTimeField(_("주문일"), db_index=True)
    paid_at = models.DateTimeField(_("입금 확인일"), null=True, blank=True)
    deposit_deadline = models.DateTimeField(_("입금기한"), null=True, blank=True)
    invoice_no = models.CharField(_("운송장번호"), max_length=40, blank=True)
    carrier = models.CharField(_("택배사"), max_length=10, choices=Carrier.choices, blank=True)  # set by 배송
    disclosure_revision_id = models.BigIntegerField(null=True, blank=True)
    # the earn-base rules the disclosure stated when the order was placed (they are drawn live from the settings, so
    # the page's revision alone does not keep them): mileage.selectors.DisclosureRules' fields
    disclosure_rules = models.JSONField(_("주문 당시 적립 기준"), null=True, blank=True, editable=False)
    # The order used or earns Naver Mileage (the queue's "M" icon and its 네이버 마일리지 filter).
    uses_mileage = models.BooleanField(_("네이버 마일리지 주문"), default=False)
    # the order form's own key (drawn when the form is shown): a second 결제하기 of the same form places nothing more
    submission_key = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("주문")
        verbose_name_plural = _("주문")
        ordering = ["-placed_at", "-id"]
        permissions = [("operate_console", _("운영자 화면 사용"))]
        indexes = [
            models.Index(fields=["status", "-placed_at"], name="order_status_placed_idx"),
            models.Index(fields=["payment_method", "-placed_at"], name="order_method_placed_idx"),
            models.Index(fields=["orderer_name"], name="order_orderer_idx"),
            models.Index(fields=["depositor_name"], name="order_depositor_idx"),
            models.Index(fields=["recipient_name"], name="order_recipient_idx"),
            models.Index(fields=["orderer_phone"], name="order_phone_idx"),
            models.Index(fields=["uses_mileage", "-placed_at"], name="order_mileage_placed_idx"),
            models.Index(fields=["-placed_at", "-id"], name="order_placed_id_idx"),
        ]
        constraints = [
            *non_negative("order", "goods_won", "excluded_goods_won", "discount_won", "shipping_won",
                          "store_points_won", "mileage_use_won", "payable_won", "collected_won",
                          "store_points_earn_won", "store_points_granted_won"),
            models.CheckConstraint(condition=Q(earn_choice__in=["naver", "store", "both"]),
                                   name="order_earn_choice_valid"),
            models.CheckConstraint(condition=Q(excluded_goods_won__lte=F("goods_won")),
                                   name="order_excluded_within_goods"),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_valid"),
            models.CheckConstraint(condition=Q(carrier__in=["", *Carrier.values]), name="order_carrier_valid"),
            models.UniqueConstraint(fields=["submission_key"], condition=~Q(submission_key=""),
                                    name="order_submission_once"),
        ]

    def __str__(self) -> str:
        return self.number

    def set_guest_password(self, raw: str) -> None:
        self.guest_password_hash = make_password(raw)

    def check_guest_password(self, raw: str) -> bool:
        return bool(self.guest_password_hash) and check_password(raw, self.guest_password_hash)

    @property
    def paid_at_placement(self) -> bool:
        """Paid when placed (card, real-time transfer, phone); a bank transfer or a 가상계좌 is paid later, at its
        deposit (mileage.shop)."""
        return self.payment_method not in (PaymentMethod.BANK_TRANSFER, PaymentMethod.VIRTUAL_ACCOUNT)

    @property
    def has_receipt(self) -> bool:
        """A receipt shows what was paid: an order whose payment was refused, or is still being asked, has none."""
        return self.status not in WITHOUT_RECEIPT

    @property
    def is_guest(self) -> bool:
        return self.member_id is None


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="order_lines")
    product_code = models.CharField(_("상품코드"), max_length=40)
    product_name = models.CharField(_("상품명"), max_length=200)
    category_path = models.CharField(max_length=300, blank=True)
    unit_price_won = models.BigIntegerField(_("판매단가"))
    quantity = models.PositiveIntegerField(_("수량"))
    line_total_won = models.BigIntegerField(_("합계"))
    is_excluded = models.BooleanField(_("마일리지 예외상품"), default=False)
    returned_quantity = models.PositiveIntegerField(_("반품수량"), default=0)
    # a line an exchange added (상품교환): it ships with the exchange's own invoice, not the order's
    exchange = models.ForeignKey("aftersales.Exchange", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="lines")

    class Meta:
        verbose_name = _("주문상품")
        verbose_name_plural = _("주문상품")
        ordering = ["id"]
        indexes = [models.Index(fields=["product_name"], name="orderline_name_idx")]
        constraints = [
            *non_negative("orderline", "unit_price_won", "line_total_won"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(returned_quantity__lte=F("quantity")),
                                   name="orderline_returned_within_quantity"),
        ]


class PaymentStatus(models.TextChoices):
    WAITING = "waiting", _("입금대기")  # bank transfer waiting for the deposit (or a card being charged)
    APPROVED = "approved", _("승인")  # paid, nothing returned
    PARTIAL = "partial", _("부분취소")  # paid, part of it returned (cancelled at the gateway or refunded in cash)
    FAILED = "failed", _("실패")  # refused by the gateway: nothing was charged
    CANCELLED = "cancelled", _("취소")  # nothing is charged any more: all of it returned, or never paid


# The money's way (portal.orders.money is the only writer): a status is derived from the charge and what went back,
# never set to "cancelled" while anything is still charged.
PAYMENT_TRANSITIONS: dict[str, set[str]] = {
    PaymentStatus.WAITING: {PaymentStatus.APPROVED, PaymentStatus.FAILED, PaymentStatus.CANCELLED},
    PaymentStatus.APPROVED: {PaymentStatus.PARTIAL, PaymentStatus.CANCELLED, PaymentStatus.WAITING},
    PaymentStatus.PARTIAL: {PaymentStatus.PARTIAL, PaymentStatus.CANCELLED},
    PaymentStatus.FAILED: set(),
    PaymentStatus.CANCELLED: set(),
}


# MerchantDetails.deposit_account as recorded, in either language ("기업은행 11231-23-2123 (예금주: 마일리지샵)")
BANK_ACCOUNT = re.compile(r"(?P<bank>.+) (?P<number>[0-9][0-9-]*[0-9]) \((?:예금주|holder): (?P<holder>.+)\)")
TEST_GATEWAY_NAME = gettext_noop("TEST-PG (테스트 결제)")  # what a TEST gateway payment records (Payment.gateway)


class Payment(ChoiceLabels, models.Model):
    """A payment of an order. Card-like methods go through the test gateway (clearly marked TEST)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    method = models.CharField(_("결제수단"), max_length=10, choices=PaymentMethod.choices)
    amount_won = models.BigIntegerField(_("결제금액"))
    status = models.CharField(_("상태"), max_length=10, choices=PaymentStatus.choices)
    transitions = TransitionTable("status", PAYMENT_TRANSITIONS, PaymentStatus)
    gateway = models.CharField(_("결제대행"), max_length=40, blank=True)
    gateway_tid = models.CharField(_("거래번호"), max_length=60, blank=True)
    bank_account = models.CharField(_("입금계좌"), max_length=100, blank=True)
    # 가상계좌: the account the PG issued for this payment, as the PG answered it (never as the browser said)
    vbank_bank = models.CharField(_("가상계좌 은행"), max_length=40, blank=True)
    vbank_number = models.CharField(_("가상계좌 번호"), max_length=40, blank=True)
    vbank_holder = models.CharField(_("가상계좌 예금주"), max_length=60, blank=True)
    vbank_due_at = models.DateTimeField(_("가상계좌 입금기한"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("결제")
        verbose_name_plural = _("결제")
        # a PortOne payment id (the window's) pays one order: a double submit of the same window places one
        constraints = [*non_negative("payment", "amount_won"), models.UniqueConstraint(
            fields=["gateway_tid"], condition=Q(gateway="PortOne") & ~Q(gateway_tid=""), name="payment_portone_id_once")]

    @property
    def gateway_label(self) -> str:
        """The gateway as a reader sees it: its recorded name (the key `get_gateway` takes), the TEST gateway's in the
        reader's language."""
        return translation.gettext(self.gateway) if self.gateway == TEST_GATEWAY_NAME else self.gateway

    @property
    def bank_account_shown(self) -> str:
        """The 무통장입금 account as recorded at placement (MerchantDetails.deposit_account, in the language the buyer
        used then), in the reader's language."""
        parts = BANK_ACCOUNT.fullmatch(self.bank_account)
        if parts is None:
            return self.bank_account
        return translation.gettext("%(bank)s %(number)s (예금주: %(holder)s)") % parts.groupdict()


class PaymentCancelStatus(models.TextChoices):
    PENDING = "pending", _("요청중")  # reserved under the payment's lock; the gateway is asked, or has not answered yet
    DONE = "done", pgettext_lazy("status", "취소완료")  # the gateway cancelled it (or the shop paid the cash refund)
    FAILED = "failed", _("실패")  # the gateway refused: nothing was cancelled


PAYMENT_CANCEL_TRANSITIONS: dict[str, set[str]] = {
    PaymentCancelStatus.PENDING: {PaymentCancelStatus.DONE, PaymentCancelStatus.FAILED},
    # a refused or unanswered cancel is retried with the same key, never as a second cancel; and when two presses
    # asked at once, the one the gateway refused (it had just cancelled the other's) may be recorded first: the
    # other's answer, the money moved, still stands
    PaymentCancelStatus.FAILED: {PaymentCancelStatus.PENDING, PaymentCancelStatus.DONE},
    PaymentCancelStatus.DONE: set(),
}


class PaymentCancel(ChoiceLabels, models.Model):
    """One cancellation of (part of) a charge at the payment gateway: 카드결제취소, 카드부분취소, 계좌이체취소,
    휴대폰결제취소. The sum of the non-failed rows never exceeds the charge; `idempotency_key` makes a second press of
    the same button do nothing."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="cancels")
    label = models.CharField(_("처리"), max_length=20)
    # the refund this money movement pays out (환불관리), empty for a 결제취소 pressed on 주문상세정보
    refund_number = models.CharField(_("환불정보"), max_length=20, blank=True, db_index=True)
    amount_won = models.BigIntegerField(_("취소금액"))
    status = models.CharField(_("상태"), max_length=10, choices=PaymentCancelStatus.choices,
                              default=PaymentCancelStatus.PENDING)
    transitions = TransitionTable("status", PAYMENT_CANCEL_TRANSITIONS, PaymentCancelStatus)
    gateway_tid = models.CharField(_("취소 거래번호"), max_length=60, blank=True)
    message = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("결제취소")
        verbose_name_plural = _("결제취소")
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount_won__gt=0), name="paymentcancel_amount_positive")]

    # the labels of the money the shop pays back itself (portal/orders/money.py, SHOP_PAID): nothing is cancelled at
    # the gateway, the charge there stands
    SHOP_PAID_LABELS = ("현금환불", "적립금환불")

    @property
    def status_text(self) -> str:
        """The status as the payment's cancels list shows it: money the shop paid back itself reads 지급완료, never
        취소완료 (which says the gateway cancelled the charge)."""
        if self.status == PaymentCancelStatus.DONE and self.label in self.SHOP_PAID_LABELS:
            return _("지급완료")
        return self.get_status_display()


class PaymentStateChange(StateChangeRow):
    """A payment's (or one of its cancels') move from one status to another: who, when, why. Append-only."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="state_changes")
    cancel = models.ForeignKey(PaymentCancel, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="state_changes")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)

    class Meta(StateChangeRow.Meta):
        verbose_name = _("결제 상태 변경")
        verbose_name_plural = _("결제 상태 변경")


class OrderStatusChange(StateChangeRow):
    """Who moved an order from which status to which, and when. Append-only."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices)

    class Meta(StateChangeRow.Meta):
        verbose_name = _("처리상태 변경")
        verbose_name_plural = _("처리상태 변경")


class GatewayEntry(models.Model):
    """The TEST gateway's own books (portal.orders.gateway): each charge and each cancel it made, so that it answers
    a repeated cancel (same idempotency key) with the first answer and never cancels more than was charged, as a
    real PG does. A real PG keeps these books itself."""

    tid = models.CharField(max_length=60, unique=True)
    kind = models.CharField(max_length=10)  # charge | cancel | cashrcpt | cashcncl (현금영수증) | vbank | vbclose (가상계좌)
    parent_tid = models.CharField(max_length=60, blank=True, db_index=True)
    amount_won = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount_won__gt=0), name="gatewayentry_amount_positive")]



class CashReceiptStatus(models.TextChoices):
    REQUESTED = "requested", _("발급요청")  # recorded; the gateway is asked, or has not answered yet
    ISSUED = "issued", _("발급완료")
    FAILED = "failed", _("발급실패")  # the gateway refused or did not answer: the reason is kept, a retry asks again
    CANCELLED = "cancelled", _("발급취소")


CASH_RECEIPT_TRANSITIONS: dict[str, set[str]] = {
    # cancelled: the order was cancelled before its cash came, nothing was asked of the gateway
    CashReceiptStatus.REQUESTED: {CashReceiptStatus.ISSUED, CashReceiptStatus.FAILED, CashReceiptStatus.CANCELLED},
    # a retry, same key; cancelled when the deposit it was for is undone (미입금상태로 전환)
    CashReceiptStatus.FAILED: {CashReceiptStatus.ISSUED, CashReceiptStatus.FAILED, CashReceiptStatus.CANCELLED},
    CashReceiptStatus.ISSUED: {CashReceiptStatus.CANCELLED},
    CashReceiptStatus.CANCELLED: set(),
}


CASH_RECEIPT_KIND_LABELS = {"personal": _("소득공제용"), "corporate": _("지출증빙용")}


class CashReceipt(ChoiceLabels, models.Model):
    """A 현금영수증 of a cash-like payment, written only by portal.orders.cash_receipts. `sequence` counts the
    receipts of one payment: a partial refund cancels the current one and issues the next for what is left."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="cash_receipts")
    sequence = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(_("현금영수증 용도"), max_length=10)  # personal (소득공제용) | corporate (지출증빙용)
    identifier = models.CharField(max_length=20)  # the digits the gateway needs (a retry, a reissue)
    identifier_masked = models.CharField(_("발급번호"), max_length=20)
    amount_won = models.BigIntegerField(_("발급금액"))
    status = models.CharField(_("상태"), max_length=10, choices=CashReceiptStatus.choices,
                              default=CashReceiptStatus.REQUESTED)
    transitions = TransitionTable("status", CASH_RECEIPT_TRANSITIONS, CashReceiptStatus)
    approval_number = models.CharField(_("승인번호"), max_length=60, blank=True)
    failure_reason = models.CharField(_("실패 사유"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("현금영수증")
        verbose_name_plural = _("현금영수증")
        constraints = [models.CheckConstraint(condition=Q(amount_won__gt=0), name="cashreceipt_amount_positive"),
                       models.UniqueConstraint(fields=["payment", "sequence"], name="cashreceipt_one_per_sequence")]

    def get_kind_display(self) -> str:
        return str(CASH_RECEIPT_KIND_LABELS.get(self.kind, self.kind))

    @property
    def awaits_settling(self) -> bool:
        """Failed, or issued for more cash than a refund left (its cancel refused, the reason kept): the operator's
        현금영수증 재발급 asks the gateway again."""
        return self.status == CashReceiptStatus.FAILED or (
            self.status == CashReceiptStatus.ISSUED and bool(self.failure_reason))


class PortOneWebhook(models.Model):
    """A PortOne webhook, stored once by its `webhook-id` (Standard Webhooks) before it is answered 2xx: a replay
    finds it and applies nothing again (portal.orders.portone_webhook)."""

    webhook_id = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=60)  # Transaction.Paid, Transaction.Cancelled, ...
    payment_id = models.CharField(max_length=60, db_index=True)
    outcome = models.CharField(max_length=200, blank=True)  # what the shop did with it
    received_at = models.DateTimeField(auto_now_add=True)

# The notes the services store on a status change (Korean, as written in the manual), shown through gettext on
# 주문상세정보's 처리상태 변경 이력 so that the English console reads them in English; free notes (a carrier and its
# invoice number, a gateway's message) are shown as stored. Each is written out, so that makemessages finds it.
STATUS_CHANGE_NOTES = [
    gettext_noop("주문"), gettext_noop("승인요청"), gettext_noop("네이버 마일리지 승인"), gettext_noop("적립/사용 선택"),
    gettext_noop("결제승인"), gettext_noop("TEST-PG 승인"), gettext_noop("주문처리 중단"), gettext_noop("입금확인"),
    gettext_noop("미입금상태로 전환"), gettext_noop("미입금 자동취소"), gettext_noop("입금전 취소"), gettext_noop("배송전 취소"),
    gettext_noop("배송완료"), gettext_noop("구매확정"), gettext_noop("반품접수"), gettext_noop("반송중"), gettext_noop("반송완료"),
    gettext_noop("부분반품 환불완료"), gettext_noop("상품교환"), gettext_noop("다시 요청"), gettext_noop("추가입금확인"),
    # a gateway's approved answer (its words; a reference after them is kept as it is)
    gettext_noop("결제할 금액 없음"), gettext_noop("PortOne 승인"), gettext_noop("PortOne 확인"), gettext_noop("PortOne 취소"),
    gettext_noop("PortOne 현금영수증 발급"), gettext_noop("PortOne 현금영수증 취소"), gettext_noop("TEST-PG 확인"),
    gettext_noop("TEST-PG 취소"), gettext_noop("TEST-PG 현금영수증 발급"), gettext_noop("TEST-PG 현금영수증 취소"),
    gettext_noop("PortOne 가상계좌 발급"), gettext_noop("TEST-PG 가상계좌 발급"),
    gettext_noop("네이버 마일리지 승인거절"),  # + the provider's code
    # the scheduler's sweep of a PortOne window never completed
    gettext_noop("결제창 미완료"), gettext_noop("결제창 미완료 — 결제대행사 결제 전체취소")]
