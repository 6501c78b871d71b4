"""Cancellations (docs/policy.md L2, L3): 입금전 취소 (§6) gives the whole use back at once; 배송전 취소 (§7) cancels
the order and leaves a refund (환불전) in the queue; unpaid bank transfers past their deadline are cancelled
(E8)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mileage.selectors import order_has_mileage
from mileage.services.transactions import live_mileage, mileage_auto_cancel, mileage_cancel, mileage_release
from portal.orders.models import Order, OrderStatus
from portal.orders.money import payment_void
from portal.orders.services import lock_for_sweep, order_set_status

from .buyer_requests import buyer_requests_handled
from .common import ActionError, RefundInput, create_refund, lock_order, return_points, validate_refund
from .models import Refund, RefundReason


def order_cancel_before_payment(*, order: Order, by) -> Order:
    """§6 입금전 취소: the whole use goes back at once and the pending earn is cancelled (L2). The operator's screen
    and the buyer's own cancel (My Page, 비회원 주문조회) both come here; an order paid meanwhile is refused."""
    with transaction.atomic():
        order = lock_order(order)
        if not Order.transitions.opens("cancel_before_payment", order.status):
            raise ActionError(_("입금전 주문만 바로 취소할 수 있습니다 (처리상태: %(status)s).")
                              % {"status": order.get_status_display()})
        order_set_status(order=order, to_status=OrderStatus.CANCELLED, by=by, note="입금전 취소")
        payment_void(order=order, by=by, note="입금전 취소")
        return_points(order, order.store_points_won, f"{order.number}:cancel:points", by)
        if live_mileage(order):
            mileage_cancel(order=order, by=by)
        elif order_has_mileage(order):
            mileage_release(order=order, by=by)
        buyer_requests_handled(order=order, by=by)
    return order


def order_cancel_after_payment(*, order: Order, data: RefundInput, by, now: datetime | None = None) -> Refund:
    """§7 배송전 취소: the order is cancelled and a refund (환불전) waits in the queue; the provider is not told."""
    now = now or timezone.now()
    with transaction.atomic():
        order = lock_order(order)
        if not Order.transitions.opens("cancel_after_payment", order.status):
            raise ActionError(_("결제완료(배송전) 주문만 취소할 수 있습니다."))
        validate_refund(order, data)
        order_set_status(order=order, to_status=OrderStatus.CANCELLED, by=by, note="배송전 취소", now=now)
        buyer_requests_handled(order=order, by=by)
        return create_refund(now, order=order, reason=RefundReason.CANCEL, created_by=by, **data.__dict__)


def orders_expire_unpaid(*, now: datetime | None = None) -> int:
    """Unpaid bank transfers past their 15-day deadline are cancelled; the provider cancels their mileage by
    itself (E8), so the ledger records that fact without a call."""
    now = now or timezone.now()
    count = 0
    for order in Order.objects.filter(status=OrderStatus.AWAITING_DEPOSIT, deposit_deadline__lte=now):
        with transaction.atomic():
            # an order another node (or an operator) holds is left to it; if still unpaid, the next sweep takes it
            locked = lock_for_sweep(order, OrderStatus.AWAITING_DEPOSIT)
            if locked is None:
                continue
            order_set_status(order=locked, to_status=OrderStatus.CANCELLED, note="미입금 자동취소", now=now)
            payment_void(order=locked, note="미입금 자동취소")
            return_points(locked, locked.store_points_won, f"{locked.number}:expire:points", None)
            mileage_auto_cancel(order=locked)
            count += 1
    return count
