"""Cancelling the money, not only the mileage (manual §7, §8): [카드결제취소] / [카드부분취소] for cards,
[계좌이체취소] for real-time transfers, [휴대폰결제취소] on the day of payment only. A bank transfer is refunded in cash
(현금환불, with the account recorded on the refund) and store points through 환불완료.

A cancel is reserved under the payment's row lock (so two presses, or two operators, can never cancel more than
was charged, summed over partial cancels), the gateway is asked outside the transaction, and the outcome is
recorded. The same button pressed twice carries the same key and does nothing the second time.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from mileage.policy.constants import BUSINESS_TZ

from .gateway import get_gateway
from .models import Payment, PaymentCancel, PaymentCancelStatus, PaymentMethod, PaymentStatus

GATEWAY_METHODS = (PaymentMethod.CARD, PaymentMethod.REALTIME_TRANSFER, PaymentMethod.PHONE)


class PaymentActionError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def cancelled_won(payment: Payment) -> int:
    return payment.cancels.exclude(status=PaymentCancelStatus.FAILED).aggregate(s=Sum("amount_won"))["s"] or 0


# Which refund method a gateway cancel carries out (the refund says how the money goes back, manual §7).
REFUND_METHOD_OF = {PaymentMethod.CARD: "card", PaymentMethod.REALTIME_TRANSFER: "transfer",
                    PaymentMethod.PHONE: "phone"}


def refunded_by_gateway_won(payment: Payment) -> int:
    """The money of this order's refunds that go back through this payment's gateway (환불 방식 카드취소,
    계좌이체취소 or 휴대폰결제취소). A cancel carries such a refund out; a 현금환불 is paid by the shop instead."""
    return payment.order.refunds.filter(method=REFUND_METHOD_OF.get(payment.method, "-")) \
        .aggregate(s=Sum("cash_won"))["s"] or 0


def cancellable_won(payment: Payment) -> int:
    """What may be cancelled now: the refunds to be paid back through the gateway, less what was cancelled, and
    never more than what is left of the charge (so a card cancel and a cash refund can never pay the same money
    twice). 0 for a payment that was never charged through the gateway."""
    if payment.method not in GATEWAY_METHODS or payment.status not in (PaymentStatus.APPROVED,
                                                                       PaymentStatus.CANCELLED):
        return 0
    done = cancelled_won(payment)
    return max(0, min(payment.amount_won - done, refunded_by_gateway_won(payment) - done))


def cancel_label(payment: Payment, amount_won: int) -> str:
    if payment.method == PaymentMethod.CARD:
        whole = amount_won >= payment.amount_won - cancelled_won(payment)
        return "카드결제취소" if whole else "카드부분취소"  # stored; shown through gettext
    return {PaymentMethod.REALTIME_TRANSFER: "계좌이체취소", PaymentMethod.PHONE: "휴대폰결제취소"}.get(payment.method, "")


def payment_cancel(*, payment: Payment, amount_won: int, key: str, by=None,
                   now: datetime | None = None) -> PaymentCancel | None:
    """Cancel `amount_won` of the charge. Returns the cancel, or None when this key was pressed before."""
    now = now or timezone.now()
    if payment.method not in GATEWAY_METHODS:
        raise PaymentActionError(_("무통장입금은 결제취소가 없습니다. 환불관리에서 현금환불(계좌)로 처리해 주세요."))
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if PaymentCancel.objects.filter(idempotency_key=key).exists():
            return None
        remaining = cancellable_won(payment)
        if remaining == 0:
            raise PaymentActionError(_("취소할 결제금액이 없습니다. 먼저 주문취소나 반품으로 환불(카드취소 등)을 접수해 주세요."))
        if not 0 < amount_won <= remaining:
            raise PaymentActionError(_("취소금액은 1원부터 %(left)s원까지입니다.") % {"left": f"{remaining:,}"})
        whole = amount_won == payment.amount_won - cancelled_won(payment)
        if payment.method == PaymentMethod.PHONE:
            paid_on = (payment.approved_at or now).astimezone(BUSINESS_TZ).date()
            if paid_on != now.astimezone(BUSINESS_TZ).date():
                raise PaymentActionError(_("휴대폰결제는 결제한 당일에만 취소할 수 있습니다. 현금환불로 처리해 주세요."))
            if not whole:
                raise PaymentActionError(_("휴대폰결제는 부분취소할 수 없습니다."))
        if payment.method == PaymentMethod.REALTIME_TRANSFER and not whole:
            raise PaymentActionError(_("계좌이체는 전액만 취소할 수 있습니다."))
        partial = not whole or cancelled_won(payment) > 0
        cancel = PaymentCancel.objects.create(payment=payment, label=cancel_label(payment, amount_won),
                                              amount_won=amount_won, idempotency_key=key,
                                              created_by=by if getattr(by, "is_authenticated", False) else None)
    result = get_gateway().cancel(tid=payment.gateway_tid, amount_won=amount_won, partial=partial,
                                  idempotency_key=key)  # outside the transaction
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        cancel = PaymentCancel.objects.select_for_update().get(pk=cancel.pk)
        cancel.status = PaymentCancelStatus.DONE if result.approved else PaymentCancelStatus.FAILED
        cancel.gateway_tid, cancel.message = result.tid, result.message[:200]
        cancel.save(update_fields=["status", "gateway_tid", "message"])
        if result.approved and cancelled_won(payment) >= payment.amount_won:
            payment.status = PaymentStatus.CANCELLED
            payment.save(update_fields=["status"])
    if not result.approved:
        raise PaymentActionError(result.message)
    return cancel
