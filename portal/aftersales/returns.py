"""Returns (상품반송, §8, docs/policy.md L4): 반품접수 with the lines and the money to give back, 반송중, then 반송완료
marks the lines returned and leaves a refund (환불전) in the queue carrying the return's terms."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.state_machine import move
from mileage.policy import PolicyError, validate_mileage_return
from portal.orders.amounts import Goods, goods_of, kept_lines, mileage_may_pay_won
from portal.orders.models import Order, OrderLine, OrderStatus
from portal.orders.services import order_set_status

from .buyer_requests import buyer_requests_handled
from .common import (
    ActionError,
    RefundInput,
    create_refund,
    lock_order,
    parse_lines,
    validate_refund,
    validate_whole_return,
)
from .models import BuyerRequestKind, Refund, RefundReason, ReturnRequest, ReturnStatus
from .selectors import mileage_in_open_returns, mileage_returned_so_far

RETURN_REFUND_OPEN = gettext_lazy("이 주문의 앞선 반품이 반송완료되어 환불을 기다리고 있습니다. 환불관리에서 그 환불을 환불완료한 뒤에 남은 "
                                  "상품을 반품할 수 있습니다.")


def return_request(*, order: Order, lines: dict, data: RefundInput, reason: str = "", by) -> ReturnRequest:
    """§8 반품접수: the mileage to return is entered by the operator, at most what remains of the use."""
    with transaction.atomic():
        order = lock_order(order)
        if order.status in (OrderStatus.RETURN_REQUESTED, OrderStatus.RETURNING):
            raise ActionError(_("이 주문에는 진행 중인 반품이 있습니다. 그 반품이 반송완료된 뒤에 다시 접수해 주세요."))
        if order.status == OrderStatus.RETURNED:
            raise ActionError(RETURN_REFUND_OPEN)
        if not Order.transitions.opens("return_request", order.status):
            raise ActionError(_("배송완료된 주문만 반품할 수 있습니다."))
        chosen = parse_lines(order, lines)
        # a return of everything still kept gives the mileage and the points still used back whole, even one the
        # operator confirmed at 0원 of money: they have no later way back, and the re-approval would ask the provider
        # to hold a use on an amount of nothing
        kept = goods_of(kept_lines(order, less=chosen))
        whole = not kept.goods_won
        if not whole:
            _refuse_more_than_the_goods(data, goods_of(kept_lines(order)).goods_won - kept.goods_won)
        if data.cash_won + data.store_points_won + data.mileage_won:
            validate_refund(order, data, whole_order=whole, returning=True)
        elif whole:
            validate_whole_return(order, data)
        already = mileage_returned_so_far(order) + mileage_in_open_returns(order)
        try:
            validate_mileage_return(data.mileage_won, used_won=order.mileage_use_won, already_returned_won=already)
        except PolicyError as exc:
            raise ActionError(str(exc), "mileage_won") from exc
        _refuse_mileage_left_on_excluded_goods(order, kept, kept_won=order.mileage_use_won - already - data.mileage_won)
        order_set_status(order=order, to_status=OrderStatus.RETURN_REQUESTED, by=by, note="반품접수")
        buyer_requests_handled(order=order, by=by, kind=BuyerRequestKind.RETURN)
        return ReturnRequest.objects.create(order=order, lines={str(k): v for k, v in chosen.items()}, reason=reason,
                                            created_by=by, **data.__dict__)


def _refuse_more_than_the_goods(data: RefundInput, returned_goods_won: int) -> None:
    """A partial return gives back at most what its goods cost: money, points and mileage together (the rest of the
    order is kept, and the provider's re-approval would otherwise be told of a payment the buyer did not make)."""
    given = data.cash_won + data.store_points_won + data.mileage_won
    if given > returned_goods_won:
        raise ActionError(_("반품하는 상품의 금액은 %(goods)s원입니다. 현금/카드결제액, 사용된 적립금 반환, 네이버 마일리지 반환액을 "
                            "합해 %(goods)s원까지 돌려줄 수 있습니다 (입력: %(given)s원).") % {
                                "goods": f"{returned_goods_won:,}", "given": f"{given:,}"}, "cash_won")


def _refuse_mileage_left_on_excluded_goods(order: Order, goods: Goods, *, kept_won: int) -> None:
    """U2 after a partial return: the mileage still used may pay only for what is kept (`goods`) outside 상품권 and
    골드 (the provider's re-approval would otherwise hold a use larger than its amount)."""
    if kept_won <= 0:
        return
    if not goods.goods_won:
        return  # the whole order comes back: its mileage is checked whole when the refund is made
    most = mileage_may_pay_won(goods, shipping_won=order.shipping_won, store_points_won=order.store_points_won)
    if kept_won > most:
        raise ActionError(_("반품 후 남는 상품에는 네이버 마일리지를 최대 %(most)s원까지 쓸 수 있습니다(예외상품 제외). 네이버 "
                            "마일리지 반환액을 %(more)s원 더 입력해 주세요.") % {
                                "most": f"{most:,}", "more": f"{kept_won - most:,}"}, "mileage_won")


def return_set_status(*, request: ReturnRequest, to_status: str, fields: tuple[str, ...] = ()) -> ReturnRequest:
    """Move a locked return along RETURN_TRANSITIONS (반품접수 → 반송중 → 반송완료), saving `fields` beside."""
    move(request, to_status, fields=("updated_at", *fields))
    return request


def return_mark_shipping(*, request: ReturnRequest, by) -> ReturnRequest:
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update().get(pk=request.pk)
        if not ReturnRequest.transitions.opens("shipping", request.status):
            raise ActionError(_("반품접수 상태가 아닙니다."))
        order_set_status(order=request.order, to_status=OrderStatus.RETURNING, by=by, note="반송중")
        return_set_status(request=request, to_status=ReturnStatus.RETURNING)
    return request


def return_complete(*, request: ReturnRequest, by, now: datetime | None = None) -> Refund:
    """반송완료: the goods are back; their lines are marked returned and a refund (환불전) joins the queue."""
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update(of=("self",)).select_related("order").get(pk=request.pk)
        if not ReturnRequest.transitions.opens("complete", request.status):
            raise ActionError(_("반송중 상태가 아닙니다."))
        order = lock_order(request.order)
        now = now or timezone.now()  # taken once the lock is held: the history keeps the order of events
        for line_id, quantity in request.lines.items():
            line = OrderLine.objects.select_for_update().get(pk=int(line_id), order=order)
            line.returned_quantity += quantity
            line.save(update_fields=["returned_quantity"])
        order_set_status(order=order, to_status=OrderStatus.RETURNED, by=by, note="반송완료", now=now)
        refund = create_refund(now, order=order, reason=RefundReason.RETURN, returned_at=now, created_by=by,
                               **request.refund_terms())
        request.refund = refund
        return_set_status(request=request, to_status=ReturnStatus.RETURNED, fields=("refund",))
    return refund
