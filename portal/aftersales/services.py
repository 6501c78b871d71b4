"""Operator actions on an order (POLICY L1–L6): deposit, shipping, purchase confirmation, cancellations before
and after payment, returns, exchanges and the refund queue's 환불완료.

Each function locks the order (and the refund) rows, checks the status table, changes the portal's state, and
records the provider call in the outbox in the same transaction; the call goes out after commit.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from mileage.models import MileageSettings, MileageTransaction
from mileage.policy import (
    OrderAmounts,
    PolicyError,
    earn_base,
    refund_plan,
    store_points_earn,
    validate_mileage_return,
)
from mileage.policy.constants import BUSINESS_TZ
from mileage.policy.refund import CANCEL, REPAYMENT
from mileage.provider.client import Invoice
from mileage.selectors import order_has_mileage
from mileage.services.transactions import (
    live_mileage,
    mileage_auto_cancel,
    mileage_call,
    mileage_cancel,
    mileage_invoice_send,
    mileage_release,
    mileage_repayment_request,
    payment_request,
)
from portal.accounts.services import store_points_change
from portal.numbering import next_number, save_numbered
from portal.orders.models import Order, OrderLine, OrderStatus, Payment, PaymentStatus
from portal.orders.services import order_set_status

from .models import ProviderCall, Refund, RefundReason, RefundStatus, ReturnRequest, ReturnStatus


class ActionError(Exception):
    """An operator's input that cannot be applied: shown next to the field, nothing changed."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def _mileage(order: Order) -> MileageTransaction | None:
    return live_mileage(order)


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _cap(value: int, limit: int, label: str, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ActionError(_("%(label)s은(는) 숫자로 입력해 주세요.") % {"label": label}, field)
    if value < 0:
        raise ActionError(_("%(label)s은(는) 0원 이상이어야 합니다.") % {"label": label}, field)
    if value > limit:
        raise ActionError(_("%(label)s은(는) 최대 %(limit)s원까지 가능합니다.") % {"label": label, "limit": f"{limit:,}"},
                          field)
    return value


def _refund_number(now: datetime) -> str:
    return next_number(Refund, "C", now)


def _create_refund(now: datetime, **fields) -> Refund:
    """A new refund under the next free 'C' number of the day (retried when a concurrent one took it)."""
    return save_numbered(Refund(**fields), lambda: _refund_number(now))


# --- the order's way ---------------------------------------------------------------------------------------------

def order_confirm_deposit(*, order: Order, by) -> Order:
    """입금확인: the bank transfer arrived; the provider is told the deal is done (stated)."""
    with transaction.atomic():
        order = _lock(order)
        order_set_status(order=order, to_status=OrderStatus.PAID, by=by, note="입금확인")
        Payment.objects.filter(order=order, status=PaymentStatus.WAITING).update(
            status=PaymentStatus.APPROVED, approved_at=timezone.now())
        if _mileage(order):
            mileage_call(order=order, kind="stated", key_suffix=f":{order.status_changes.count()}", by=by)
    return order


def order_mark_unpaid(*, order: Order, by) -> Order:
    """미입금상태로 전환: back to 입금전; the provider's deal-done is cancelled."""
    with transaction.atomic():
        order = _lock(order)
        order_set_status(order=order, to_status=OrderStatus.AWAITING_DEPOSIT, by=by, note="미입금상태로 전환")
        Payment.objects.filter(order=order, status=PaymentStatus.APPROVED).update(status=PaymentStatus.WAITING)
        if _mileage(order):
            mileage_call(order=order, kind="cancel_stated", key_suffix=f":{order.status_changes.count()}", by=by)
    return order


def order_ship(*, order: Order, invoice_no: str, company: str, by) -> Order:
    invoice_no = invoice_no.strip()
    if not invoice_no or not invoice_no.replace("-", "").isalnum():
        raise ActionError(_("운송장번호를 입력해 주세요 (영문/숫자)."), "invoice_no")
    with transaction.atomic():
        order = _lock(order)
        order_set_status(order=order, to_status=OrderStatus.SHIPPED, by=by, note=f"{company} {invoice_no}")
        order.invoice_no = invoice_no
        order.save(update_fields=["invoice_no"])
        if _mileage(order):  # the Invoice masks the name and the phone on the wire
            mileage_invoice_send(order=order, by=by, invoice=Invoice(
                shipped_date=timezone.now().astimezone(BUSINESS_TZ).strftime("%Y%m%d"), invoice_no=invoice_no,
                recipient_name=order.recipient_name, service_company=company or "자체배송",
                address=_address_to_dong(order.address), recipient_cph_no=order.recipient_phone))
    return order


def _address_to_dong(address: str) -> str:
    """The address cut after its 동/읍/면/리 part (PROTOCOL §2 invoice)."""
    words = address.split()
    for index, word in enumerate(words):
        if word.endswith(("동", "읍", "면", "리")) and index > 0:
            return " ".join(words[: index + 1])
    return " ".join(words[:3])


def order_deliver(*, order: Order, by) -> Order:
    return order_set_status(order=order, to_status=OrderStatus.DELIVERED, by=by, note="배송완료")


def order_confirm_purchase(*, order: Order, by) -> Order:
    with transaction.atomic():
        order = _lock(order)
        order_set_status(order=order, to_status=OrderStatus.CONFIRMED, by=by, note="구매확정")
        if _mileage(order):
            mileage_call(order=order, kind="confirmed", by=by)
        _grant_store_points(order, by)
    return order


def _grant_store_points(order: Order, by) -> None:
    """E9: the shop's 적립금 is granted at 구매확정, on what remains of the order after returns and exchanges (so a
    cancelled or returned order never gets it)."""
    if not order.member_id or order.store_points_earn_won <= 0:
        return
    settings = MileageSettings.load()
    remaining = _remaining(order)
    base = earn_base(OrderAmounts(goods_won=remaining.goods_won, excluded_goods_won=remaining.excluded_goods_won,
                                  store_points_won=remaining.store_points_won,
                                  mileage_use_won=min(order.mileage_use_won, remaining.goods_won)),
                     settings.earn_base_rule) if remaining else 0
    earned = min(order.store_points_earn_won, store_points_earn(base, settings.store_points_rate_x10))
    if earned:
        store_points_change(member=order.member, delta_won=earned, reason="구매확정 적립", order=order, by=by,
                            idempotency_key=f"{order.number}:earn")


def order_cancel_before_payment(*, order: Order, by) -> Order:
    """§6 입금전 취소: the whole use goes back at once and the pending earn is cancelled (L2)."""
    with transaction.atomic():
        order = _lock(order)
        order_set_status(order=order, to_status=OrderStatus.CANCELLED, by=by, note="입금전 취소")
        Payment.objects.filter(order=order).update(status=PaymentStatus.CANCELLED)
        _return_points(order, order.store_points_won, f"{order.number}:cancel:points", by)
        if _mileage(order):
            mileage_cancel(order=order, by=by)
        elif order_has_mileage(order):
            mileage_release(order=order, by=by)
    return order


def _return_points(order: Order, amount: int, key: str, by) -> None:
    if amount and order.member_id:
        store_points_change(member=order.member, delta_won=amount, reason="주문취소/환불 반환", idempotency_key=key,
                            order=order, by=by)


@dataclass(frozen=True)
class RefundInput:
    cash_won: int
    store_points_won: int
    mileage_won: int
    shipping_deduction_won: int = 0
    method: str = "cash"
    bank: str = ""
    account_no: str = ""
    holder: str = ""


def mileage_returned_so_far(order: Order) -> int:
    """Mileage already given back, or promised in refunds still waiting, for this order (L4 sums them)."""
    return Refund.objects.filter(order=order).aggregate(s=Sum("mileage_won"))["s"] or 0


def refund_limits(order: Order) -> dict[str, int]:
    refunded = Refund.objects.filter(order=order).aggregate(cash=Sum("cash_won"), points=Sum("store_points_won"))
    return {"cash": order.payable_won - (refunded["cash"] or 0),
            "points": order.store_points_won - (refunded["points"] or 0),
            "mileage": order.mileage_use_won - mileage_returned_so_far(order)}


def _validate_refund(order: Order, data: RefundInput) -> None:
    limits = refund_limits(order)
    _cap(data.cash_won, limits["cash"], "현금/카드결제액", "cash_won")
    _cap(data.store_points_won, limits["points"], "사용된 적립금 반환", "store_points_won")
    try:
        validate_mileage_return(data.mileage_won, used_won=order.mileage_use_won,
                                already_returned_won=mileage_returned_so_far(order))
    except PolicyError as exc:
        raise ActionError(str(exc), "mileage_won") from exc
    total = data.cash_won + data.store_points_won + data.mileage_won
    _cap(data.shipping_deduction_won, data.cash_won, "배송비", "shipping_deduction_won")
    if total == 0:
        raise ActionError(_("환불할 금액이 없습니다."))


def order_cancel_after_payment(*, order: Order, data: RefundInput, by, now: datetime | None = None) -> Refund:
    """§7 배송전 취소: the order is cancelled and a refund (환불전) waits in the queue; the provider is not told."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _lock(order)
        if order.status != OrderStatus.PAID:
            raise ActionError(_("결제완료(배송전) 주문만 취소할 수 있습니다."))
        _validate_refund(order, data)
        order_set_status(order=order, to_status=OrderStatus.CANCELLED, by=by, note="배송전 취소", now=now)
        return _create_refund(now, order=order, reason=RefundReason.CANCEL, created_by=by, **data.__dict__)


# --- returns -----------------------------------------------------------------------------------------------------

def _parse_lines(order: Order, lines: dict) -> dict[int, int]:
    chosen = {}
    available = {line.pk: line.quantity - line.returned_quantity for line in order.lines.all()}
    for raw_id, raw_qty in lines.items():
        if str(raw_qty).strip() in ("", "0"):
            continue
        if not str(raw_qty).strip().isdigit():
            raise ActionError(_("수량은 숫자로 입력해 주세요."), "lines")
        line_id, quantity = int(raw_id), int(raw_qty)
        if line_id not in available:
            raise ActionError(_("이 주문의 상품이 아닙니다."), "lines")
        if quantity > available[line_id]:
            raise ActionError(_("구매한 수량(%(count)s개)보다 많이 반품할 수 없습니다.") % {"count": available[line_id]},
                              "lines")
        chosen[line_id] = quantity
    if not chosen:
        raise ActionError(_("반품할 상품과 수량을 선택해 주세요."), "lines")
    return chosen


def return_request(*, order: Order, lines: dict, data: RefundInput, reason: str = "", by) -> ReturnRequest:
    """§8 반품접수: the mileage to return is entered by the operator, at most what remains of the use."""
    with transaction.atomic():
        order = _lock(order)
        if order.status != OrderStatus.DELIVERED:
            raise ActionError(_("배송완료된 주문만 반품할 수 있습니다."))
        chosen = _parse_lines(order, lines)
        if data.cash_won + data.store_points_won + data.mileage_won:
            _validate_refund(order, data)
        pending = ReturnRequest.objects.filter(order=order, refund__isnull=True).aggregate(s=Sum("mileage_won"))["s"]
        try:
            validate_mileage_return(data.mileage_won, used_won=order.mileage_use_won,
                                    already_returned_won=mileage_returned_so_far(order) + (pending or 0))
        except PolicyError as exc:
            raise ActionError(str(exc), "mileage_won") from exc
        order_set_status(order=order, to_status=OrderStatus.RETURN_REQUESTED, by=by, note="반품접수")
        return ReturnRequest.objects.create(order=order, lines={str(k): v for k, v in chosen.items()}, reason=reason,
                                            created_by=by, **data.__dict__)


def return_mark_shipping(*, request: ReturnRequest, by) -> ReturnRequest:
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != ReturnStatus.REQUESTED:
            raise ActionError(_("반품접수 상태가 아닙니다."))
        order_set_status(order=request.order, to_status=OrderStatus.RETURNING, by=by, note="반송중")
        request.status = ReturnStatus.RETURNING
        request.save(update_fields=["status", "updated_at"])
    return request


def return_complete(*, request: ReturnRequest, by, now: datetime | None = None) -> Refund:
    """반송완료: the goods are back; their lines are marked returned and a refund (환불전) joins the queue."""
    now = now or timezone.now()
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update().select_related("order").get(pk=request.pk)
        if request.status != ReturnStatus.RETURNING:
            raise ActionError(_("반송중 상태가 아닙니다."))
        order = _lock(request.order)
        for line_id, quantity in request.lines.items():
            line = OrderLine.objects.select_for_update().get(pk=int(line_id), order=order)
            line.returned_quantity += quantity
            line.save(update_fields=["returned_quantity"])
        order_set_status(order=order, to_status=OrderStatus.RETURNED, by=by, note="반송완료", now=now)
        refund = _create_refund(
            now, order=order, reason=RefundReason.RETURN, returned_at=now,
            cash_won=request.cash_won, store_points_won=request.store_points_won, mileage_won=request.mileage_won,
            shipping_deduction_won=request.shipping_deduction_won, method=request.method, bank=request.bank,
            account_no=request.account_no, holder=request.holder, created_by=by)
        request.status, request.refund = ReturnStatus.RETURNED, refund
        request.save(update_fields=["status", "refund", "updated_at"])
    return refund


# --- the refund queue ---------------------------------------------------------------------------------------------

def _remaining(order: Order) -> OrderAmounts | None:
    """What is left of the order once its returned lines are gone (None for a cancelled order)."""
    if order.status == OrderStatus.CANCELLED:
        return None
    lines = list(order.lines.all())
    goods = sum(line.unit_price_won * (line.quantity - line.returned_quantity) for line in lines)
    excluded = sum(line.unit_price_won * (line.quantity - line.returned_quantity) for line in lines if line.is_excluded)
    points = max(0, order.store_points_won - (Refund.objects.filter(order=order, status=RefundStatus.DONE)
                                              .aggregate(s=Sum("store_points_won"))["s"] or 0))
    return OrderAmounts(goods_won=goods, excluded_goods_won=excluded, store_points_won=min(points, goods),
                        shipping_won=order.shipping_won if goods else 0)


def _tell_provider(order: Order, refund: Refund, by) -> None:
    """The refund's mileage outcome, decided now by mileage.policy.refund_plan, sent through the outbox."""
    mileage = _mileage(order)
    if mileage is None or refund.reason == RefundReason.EXCHANGE:  # an exchange re-approved when it was made
        return
    remaining = _remaining(order)
    plan = refund_plan(used_won=mileage.use_won, returned_before_won=mileage.returned_won,
                       mileage_back_won=refund.mileage_won, remaining=remaining,
                       original_rate_x10=mileage.total_rate_x10, rule=MileageSettings.load().earn_base_rule)
    if plan.call == CANCEL:
        mileage_cancel(order=order, key_suffix=f":{refund.number}", by=by)
    elif plan.call == REPAYMENT:
        lines = [] if remaining is None else list(order.lines.all())
        request = payment_request(order, mileage, order_amount_won=plan.order_amount_after_won,
                                  earn_base_won=plan.earn_base_after_won, use_won=plan.use_after_won, lines=lines,
                                  with_req_tx_id=False)
        mileage_repayment_request(order=order, request=request, key=f"repayment:{refund.number}", by=by)
    refund.provider_call = {CANCEL: ProviderCall.CANCEL, REPAYMENT: ProviderCall.REPAYMENT}.get(plan.call,
                                                                                               ProviderCall.NONE)
    refund.save(update_fields=["provider_call"])


def refund_complete(*, refund: Refund, by, now: datetime | None = None) -> bool:
    """환불완료: returns the store points and tells the provider (cancel, or re-approval for a partial refund).
    Pressed twice or by two operators at once, it applies exactly once: returns False the second time."""
    now = now or timezone.now()
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status == RefundStatus.DONE:
            return False
        order = _lock(refund.order)
        refund.status, refund.completed_by, refund.completed_at = RefundStatus.DONE, by, now
        refund.save(update_fields=["status", "completed_by", "completed_at"])
        _return_points(order, refund.store_points_won, f"{refund.number}:points", by)
        if order.status == OrderStatus.CANCELLED:
            Payment.objects.filter(order=order, status=PaymentStatus.APPROVED).update(status=PaymentStatus.CANCELLED)
        _tell_provider(order, refund, by)
        if order.status == OrderStatus.RETURNED and order.lines.filter(returned_quantity__lt=F("quantity")).exists():
            order_set_status(order=order, to_status=OrderStatus.DELIVERED, by=by, note="부분반품 환불완료", now=now)
    return True


# --- E8 on the portal's side -------------------------------------------------------------------------------------

def orders_expire_unpaid(*, now: datetime | None = None) -> int:
    """Unpaid bank transfers past their 15-day deadline are cancelled; the provider cancels their mileage by
    itself (E8), so the ledger records that fact without a call."""
    now = now or timezone.now()
    count = 0
    for order in Order.objects.filter(status=OrderStatus.AWAITING_DEPOSIT, deposit_deadline__lte=now):
        with transaction.atomic():
            # an order another node (or an operator) holds is left to it; if still unpaid, the next sweep takes it
            locked = Order.objects.select_for_update(skip_locked=True).filter(pk=order.pk).first()
            if locked is None or locked.status != OrderStatus.AWAITING_DEPOSIT:
                continue
            order_set_status(order=locked, to_status=OrderStatus.CANCELLED, note="미입금 자동취소", now=now)
            Payment.objects.filter(order=locked).update(status=PaymentStatus.CANCELLED)
            _return_points(locked, locked.store_points_won, f"{locked.number}:expire:points", None)
            mileage_auto_cancel(order=locked)
            count += 1
    return count
