"""Cancellations (docs/policy.md L2, L3): 입금전 취소 (§6) gives the whole use back at once; 배송전 취소 (§7) cancels
the order and leaves a refund (환불전) in the queue; unpaid bank transfers and 가상계좌 past their deadline are
cancelled (E8), the 가상계좌 closed at the PG first."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mileage.selectors import order_has_mileage
from mileage.services.transactions import live_mileage, mileage_auto_cancel, mileage_cancel, mileage_release
from portal.orders.gateway_interface import GatewayUnavailable
from portal.orders.models import Order, OrderStatus, PaymentMethod
from portal.orders.money import payment_void, virtual_account_close, virtual_account_paid
from portal.orders.services import lock_for_sweep, order_set_status

from .buyer_requests import buyer_requests_handled
from .common import (
    ActionError,
    RefundInput,
    create_refund,
    lock_order,
    past_deposit_deadline,
    return_points,
    validate_refund,
)
from .fulfilment import order_confirm_deposit
from .models import Refund, RefundReason
from .selectors import cancel_fingerprint

log = logging.getLogger(__name__)


def order_cancel_before_payment(*, order: Order, by) -> Order:
    """§6 입금전 취소: the whole use goes back at once and the pending earn is cancelled (L2). The operator's screen
    and the buyer's own cancel (My Page, 비회원 주문조회) both come here; an order paid meanwhile is refused."""
    with transaction.atomic():
        order = lock_order(order)
        if not Order.transitions.opens("cancel_before_payment", order.status):
            raise ActionError(_("입금전 주문만 바로 취소할 수 있습니다 (처리상태: %(status)s).")
                              % {"status": order.get_status_display()})
        if order.payment_method == PaymentMethod.VIRTUAL_ACCOUNT:
            _close_before_cancel(order)
        lapsed = past_deposit_deadline(order)
        order_set_status(order=order, to_status=OrderStatus.CANCELLED, by=by, note="입금전 취소")
        payment_void(order=order, by=by, note="입금전 취소")
        return_points(order, order.store_points_won, f"{order.number}:cancel:points", by)
        if lapsed:  # E8: the automatic cancel, asked of the provider (which may have done it by itself)
            mileage_auto_cancel(order=order, by=by)
        elif live_mileage(order):
            mileage_cancel(order=order, by=by)
        elif order_has_mileage(order):
            mileage_release(order=order, by=by)
        buyer_requests_handled(order=order, by=by)
    return order


class CancelChanged(ActionError):
    """취소완료 of a form whose order changed since it was opened: nothing changed."""


def cancel_changed_message() -> str:
    return _("취소 양식을 연 뒤에 주문이 바뀌었습니다 (상품교환, 결제취소 등). 아무것도 취소하지 않았습니다. "
             "바뀐 환불가능 금액을 확인하고 다시 취소완료를 눌러 주세요.")


def order_cancel_after_payment(*, order: Order, data: RefundInput, by, now: datetime | None = None,
                               seen: str | None = None) -> Refund:
    """§7 배송전 취소: the order is cancelled and a refund (환불전) waits in the queue; the provider is not told.
    `seen`: the cancel_fingerprint of the form the operator filled in; when the order changed since, CancelChanged is
    raised and nothing changes."""
    with transaction.atomic():
        order = lock_order(order)
        now = now or timezone.now()  # taken once the lock is held: the history keeps the order of events
        if not Order.transitions.opens("cancel_after_payment", order.status):
            raise ActionError(_("결제완료(배송전) 주문만 취소할 수 있습니다."))
        if seen is not None and seen != cancel_fingerprint(order):
            raise CancelChanged(cancel_changed_message())
        validate_refund(order, data, whole_order=True)
        order_set_status(order=order, to_status=OrderStatus.CANCELLED, by=by, note="배송전 취소", now=now)
        buyer_requests_handled(order=order, by=by)
        return create_refund(now, order=order, reason=RefundReason.CANCEL, created_by=by, **data.__dict__)


def orders_expire_unpaid(*, now: datetime | None = None) -> int:
    """Unpaid bank transfers and 가상계좌 past their 15-day deadline are cancelled, their mileage with them (E8):
    the cancel is asked of the provider, which may have done it by itself already (mileage_auto_cancel).

    A 가상계좌 is closed at the PG first, under the order's row lock (one node asks; the deposit webhook waits for
    the lock and then finds the order settled): closed, the order is cancelled; paid meanwhile (the deposit came
    first), it is confirmed instead, as the webhook would; a PG that does not answer leaves it to the next run."""
    now = now or timezone.now()
    count = 0
    for order in Order.objects.filter(status=OrderStatus.AWAITING_DEPOSIT, deposit_deadline__lte=now):
        with transaction.atomic():
            # an order another node (or an operator) holds is left to it; if still unpaid, the next sweep takes it
            locked = lock_for_sweep(order, OrderStatus.AWAITING_DEPOSIT)
            if locked is None:
                continue
            if locked.payment_method == PaymentMethod.VIRTUAL_ACCOUNT and not _virtual_account_closed(locked):
                continue
            order_set_status(order=locked, to_status=OrderStatus.CANCELLED, note="미입금 자동취소", now=now)
            payment_void(order=locked, note="미입금 자동취소")
            return_points(locked, locked.store_points_won, f"{locked.number}:expire:points", None)
            mileage_auto_cancel(order=locked)
            count += 1
    return count


def _close_before_cancel(order: Order) -> None:
    """입금전 취소 of a 가상계좌 order: its account closed at the PG first (no deposit can follow the cancel), or the
    cancel refused and nothing changed."""
    try:
        closed = virtual_account_close(order=order)
    except GatewayUnavailable:
        raise ActionError(_("결제대행사가 응답하지 않아 가상계좌를 닫지 못했습니다. 잠시 후 다시 취소해 주세요.")) from None
    if not closed:
        raise ActionError(_("가상계좌에 이미 입금되었습니다. 입금이 확인된 뒤 결제완료 주문으로 취소해 주세요."))


def _virtual_account_closed(order: Order) -> bool:
    """The locked order's 가상계좌 closed at the PG (True: cancel the order). False leaves the order as it is: the PG
    did not answer (the next run asks again), or the deposit came first and is confirmed here."""
    try:
        if virtual_account_close(order=order):
            return True
        if virtual_account_paid(order=order):
            order_confirm_deposit(order=order, by=None, paid_at_gateway=True)
        else:
            log.error("order %s: its virtual account is neither open nor paid as ordered; to check by hand", order.number)
    except GatewayUnavailable:
        log.warning("order %s: the PG did not answer the virtual account's close; next run", order.number)
    return False
