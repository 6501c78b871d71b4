"""The buyer's 취소/반품/교환 신청 of a paid order (issue 24): a request with a reason that waits in 주문조회 for the
operator.

Nothing moves when the buyer asks: the operator acts on it with the existing screens — 배송전 취소 (§7), 상품반송
(§8) or 상품교환 (§9), which mark the open request handled in their own transaction — or dismisses it with a reason
the buyer reads.
An order that is still 입금전 is not asked for: the buyer cancels it at once (cancellations.order_cancel_before_payment).
"""

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core.state_machine import move, move_where
from portal.orders.models import Order, OrderStatus

from .common import lock_order
from .errors import ActionError
from .models import BuyerRequest, BuyerRequestKind, BuyerRequestStatus

REASON_MAX = 500
# What a buyer may ask for in each order status: 취소 before shipping, 반품 once shipped (the goods come back), 교환
# once delivered (the manual's §9: 배송완료 후 교환; the buyer has the goods to send back).
REQUESTABLE: dict[str, tuple[str, ...]] = {
    OrderStatus.PAID: (BuyerRequestKind.CANCEL,),
    OrderStatus.SHIPPED: (BuyerRequestKind.RETURN,),
    OrderStatus.DELIVERED: (BuyerRequestKind.RETURN, BuyerRequestKind.EXCHANGE),
}


def requestable_kinds(order: Order) -> tuple[str, ...]:
    return REQUESTABLE.get(order.status, ())


def open_request_kind() -> Subquery:
    """For an order queryset's annotate(): the kind of the order's open request, or None (주문조회's badge)."""
    return Subquery(BuyerRequest.objects.filter(order=OuterRef("pk"), status=BuyerRequestStatus.OPEN)
                    .values("kind")[:1])


def buyer_request_create(*, order: Order, kind: str, reason: str, by=None) -> BuyerRequest:
    """취소/반품/교환 신청: one open request per order, a kind the order's status allows, a reason of 1–500 characters."""
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("신청 사유를 입력해 주세요."), "reason")
    if len(reason) > REASON_MAX:
        raise ActionError(_("신청 사유는 %(max)s자까지 입력할 수 있습니다.") % {"max": REASON_MAX}, "reason")
    with transaction.atomic():
        order = lock_order(order)
        allowed = requestable_kinds(order)
        if not allowed:
            raise ActionError(_("이 주문은 지금 취소/반품/교환을 신청할 수 없습니다 (처리상태: %(status)s).")
                              % {"status": order.get_status_display()})
        if kind not in allowed:
            raise ActionError(_("이 주문은 %(kinds)s만 신청할 수 있습니다.")
                              % {"kinds": ", ".join(str(BuyerRequestKind(k).label) for k in allowed)}, "kind")
        if BuyerRequest.objects.filter(order=order, status=BuyerRequestStatus.OPEN).exists():
            raise ActionError(_("이미 접수된 취소/반품/교환 신청이 있습니다. 운영자가 처리할 때까지 기다려 주세요."))
        return BuyerRequest.objects.create(order=order, kind=kind, reason=reason,
                                           requested_by=by if (by is not None and by.is_authenticated) else None)


def buyer_request_dismiss(*, request: BuyerRequest, reason: str, by) -> BuyerRequest:
    """The operator declines an open request; the reason is shown to the buyer on the order."""
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("반려 사유를 입력해 주세요."), "dismiss_reason")
    if len(reason) > 300:
        raise ActionError(_("반려 사유는 %(max)s자까지 입력할 수 있습니다.") % {"max": 300}, "dismiss_reason")
    with transaction.atomic():
        request = BuyerRequest.objects.select_for_update().get(pk=request.pk)
        if not BuyerRequest.transitions.allows(request.status, BuyerRequestStatus.DISMISSED):
            raise ActionError(_("이미 처리된 신청입니다."))
        request.dismiss_reason, request.handled_by, request.handled_at = reason, by, timezone.now()
        buyer_request_set_status(request=request, to_status=BuyerRequestStatus.DISMISSED,
                                 fields=("dismiss_reason", "handled_by", "handled_at"))
    return request


def buyer_request_set_status(*, request: BuyerRequest, to_status: str, fields: tuple[str, ...] = ()) -> BuyerRequest:
    """Move a locked request along BUYER_REQUEST_TRANSITIONS (신청 → 처리완료 or 반려), saving `fields` beside."""
    move(request, to_status, fields=fields)
    return request


def buyer_requests_handled(*, order: Order, by=None, kind: str | None = None) -> int:
    """Inside the caller's transaction: the order's open request is done — any request when the operator cancelled
    the order (nothing is left to ask for), or the request of `kind` when the operator registered a return or made an
    exchange (a buyer who asked for 교환 is not answered by a 반품: that request stays open for the operator to
    handle or dismiss; an exchange is refused while a 취소 or 반품 신청 is open). Returns how many were marked."""
    requests = BuyerRequest.objects.filter(order=order)
    if kind is not None:
        requests = requests.filter(kind=kind)
    return move_where(requests, BuyerRequestStatus.HANDLED, handled_at=timezone.now(),
                      handled_by=by if (by is not None and by.is_authenticated) else None)
