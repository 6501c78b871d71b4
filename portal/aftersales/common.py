"""What the after-sale actions share (cancellations, returns, exchanges, refunds, fulfilment): the operator's error,
the refund's input and its checks, the order lock, the chosen lines, store points given back and a new refund under
the next 'C' number."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mileage.policy import PolicyError, validate_mileage_return
from portal.accounts.services import store_points_change
from portal.numbering import REFUND_PREFIX, save_numbered
from portal.orders.models import Order, OrderStatus, PaymentMethod
from portal.orders.money import (
    kept_charge_refusal,
    refund_method_and_why,
    refund_method_error,
    refund_method_for,
)

from .errors import ActionError
from .models import Refund, RefundMethod, payout_of
from .selectors import refund_limits


@dataclass(frozen=True)
class RefundInput:
    cash_won: int
    store_points_won: int
    mileage_won: int
    shipping_deduction_won: int = 0
    method: str = ""  # 환불 방식; empty: the way the order was paid (카드취소 for a card, 현금환불 for a transfer)
    bank: str = ""
    account_no: str = ""
    holder: str = ""


def has_account(bank: str, account_no: str, holder: str) -> bool:
    """Whether a 현금환불's account is complete: bank, number and holder."""
    return bool(bank.strip() and account_no.strip() and holder.strip())


def lock_order(order: Order | int) -> Order:
    """The order's row (an Order or its id), locked until the caller's transaction ends: locked by id, never loaded
    first. FOR NO KEY UPDATE, as every lock of an order: writers of the order still wait for each other, but a row
    that only refers to the order (a settlement line, an outbox answer recorded by the worker) does not wait for it —
    its foreign-key check takes a KEY SHARE lock, which FOR UPDATE would block while this transaction waits for the
    worker's mileage row: a deadlock."""
    return Order.objects.select_for_update(no_key=True).get(pk=order if isinstance(order, int) else order.pk)


def cap_amount(value: int, limit: int, label: str, field: str, *, above: str = "") -> int:
    """`value` when it is an integer between 0 and `limit`, else an ActionError naming the field (`above`: the
    sentence for a value above the limit, when the limit needs saying what it is)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ActionError(_("%(label)s: 숫자로 입력해 주세요.") % {"label": label}, field)
    if value < 0:
        raise ActionError(_("%(label)s: 0원 이상이어야 합니다.") % {"label": label}, field)
    if value > limit:
        raise ActionError(above or _("%(label)s: 최대 %(limit)s원까지 가능합니다.")
                          % {"label": label, "limit": f"{limit:,}"}, field)
    return value


def validate_whole_return(order: Order, data: RefundInput) -> None:
    """A return of everything still kept gives back the mileage and the points still used, whole, whatever the money:
    the re-approval would otherwise ask the provider to hold a use on an amount of nothing."""
    _all_back(refund_limits(order), data, returning=True)


def _all_back(limits: dict, data: RefundInput, *, returning: bool) -> None:
    if data.mileage_won != limits["mileage"]:
        message = (_("주문 상품을 모두 반품합니다. 주문시 사용한 네이버 마일리지 중 남은 %(won)s원을 그대로 반환해 주세요.")
                   if returning else _("주문 전체를 취소합니다. 주문시 사용한 네이버 마일리지 %(won)s원을 그대로 반환해 주세요."))
        raise ActionError(message % {"won": f"{limits['mileage']:,}"}, "mileage_won")
    if data.store_points_won != limits["points"]:
        # the order ends: the points it used have no other way back (no later refund or cancel returns them)
        message = (_("주문 상품을 모두 반품합니다. 주문시 사용한 적립금 중 남은 %(won)s원을 그대로 반환해 주세요.")
                   if returning else _("주문 전체를 취소합니다. 주문시 사용한 적립금 %(won)s원을 그대로 반환해 주세요."))
        raise ActionError(message % {"won": f"{limits['points']:,}"}, "store_points_won")


def validate_refund(order: Order, data: RefundInput, *, whole_order: bool = False, returning: bool = False) -> None:
    """A refund stays within what was paid and not yet given back (L4 for the mileage); one that ends the whole
    order (`whole_order`: 배송전 취소, or a return of everything still kept, `returning`) gives its mileage and
    points back whole (manual §6-§8: 사용한 만큼 그대로)."""
    limits = refund_limits(order)
    cap_amount(data.cash_won, limits["cash"], _("현금/카드결제액"), "cash_won")
    cap_amount(data.store_points_won, limits["points"], _("사용된 적립금 반환"), "store_points_won")
    try:
        validate_mileage_return(data.mileage_won, used_won=order.mileage_use_won,
                                already_returned_won=order.mileage_use_won - limits["mileage"])
    except PolicyError as exc:
        raise ActionError(str(exc), "mileage_won") from exc
    if whole_order:
        _all_back(limits, data, returning=returning)
        if error := kept_charge_refusal(order, limits["cash"] - data.cash_won):  # kept for good: refused
            raise ActionError(error, "cash_won")
    total = data.cash_won + data.store_points_won + data.mileage_won
    if total == 0:
        raise ActionError(_("환불할 금액이 없습니다."))
    # taken off the money paid back, never off the points or the mileage returned
    cap_amount(data.shipping_deduction_won, data.cash_won, _("배송비"), "shipping_deduction_won",
               above=_("배송비는 돌려드릴 현금/카드결제액 %(cash)s원에서 차감하므로 그보다 많이 입력할 수 없습니다.")
               % {"cash": f"{data.cash_won:,}"})
    # 총 환불액 as the form shows it (manual §7): the money and the points given back, the mileage apart
    if data.shipping_deduction_won and data.shipping_deduction_won >= data.cash_won + data.store_points_won:
        raise ActionError(_("배송비는 총 환불금액 이상 입력이 불가능합니다."), "shipping_deduction_won")
    payout_won = payout_of(data.cash_won, data.shipping_deduction_won)
    method = data.method or refund_method_for(order, payout_won)
    error = refund_method_error(order, method, method_label=RefundMethod(method).label, cash_won=payout_won,
                                has_account=has_account(data.bank, data.account_no, data.holder))
    if error:
        raise ActionError(error, "method")


def create_refund(now: datetime, **fields) -> Refund:
    """A new refund under the next free 'C' number of the day (retried when a concurrent one took it); without a
    환불 방식 it pays back the way the order was paid, or as 현금환불 when the PG cannot take its cancel (a part of a
    transfer or a mobile payment, a mobile payment past its day: portal.orders.rules) — a 현금환불 for that reason
    keeps the line 환불관리 shows why."""
    if not fields.get("method") or fields["method"] == RefundMethod.CASH:
        with translation.override("ko"):  # stored in the shop's language, shown in the reader's (cash_reason_text)
            method, why = refund_method_and_why(
                fields["order"], payout_of(fields.get("cash_won", 0), fields.get("shipping_deduction_won", 0)))
        fields["method"] = fields.get("method") or method
        if fields["method"] == RefundMethod.CASH and why:
            fields["cash_reason"] = why
    if fields["method"] != RefundMethod.CASH:  # an account belongs to a 현금환불 only
        fields.update(bank="", account_no="", holder="")
    return save_numbered(Refund(**fields), prefix=REFUND_PREFIX, now=now)


def parse_lines(order: Order, lines: dict, *, exchange: bool = False) -> dict[int, int]:
    """{line id: quantity} of the order's lines chosen for a return or an exchange, at most what is not returned."""
    chosen = {}
    # a return reads which lines an exchange brought in and whether they left: the buyer does not have unsent ones
    # to send back (they may still be exchanged for something else before they leave)
    lines_of_order = list(order.lines.all() if exchange
                          else order.lines.select_related("exchange").prefetch_related("exchange__lines"))
    available = {line.pk: line.quantity - line.returned_quantity for line in lines_of_order}
    unsent = {} if exchange else {line.pk: line.product_name for line in lines_of_order
                                  if line.exchange is not None and line.exchange.awaits_shipping}
    for raw_id, raw_qty in lines.items():
        if str(raw_qty).strip() in ("", "0"):
            continue
        if not str(raw_qty).strip().isdigit():
            raise ActionError(_("수량은 숫자로 입력해 주세요."), "lines")
        line_id, quantity = int(raw_id), int(raw_qty)
        if line_id not in available:
            raise ActionError(_("이 주문의 상품이 아닙니다."), "lines")
        if line_id in unsent:
            raise ActionError(_("%(name)s: 아직 배송하지 않은 교환상품이라 반품할 수 없습니다. 교환상품 배송 뒤에 "
                                "처리해 주세요.") % {"name": unsent[line_id]}, "lines")
        if quantity > available[line_id] == 0:  # taken meanwhile (another tab, another operator)
            message = (_("%(name)s: 이미 모두 교환 또는 반품 처리된 상품입니다. 화면을 새로 고쳐 확인해 주세요.")
                       % {"name": next(line.product_name for line in lines_of_order if line.pk == line_id)})
            raise ActionError(message, "lines")
        if quantity > available[line_id]:
            message = (_("남은 수량(%(count)s개)보다 많이 교환할 수 없습니다.") if exchange
                       else _("구매한 수량(%(count)s개)보다 많이 반품할 수 없습니다."))
            raise ActionError(message % {"count": available[line_id]}, "lines")
        chosen[line_id] = quantity
    if not chosen:
        raise ActionError(_("교환할 상품과 수량을 선택해 주세요.") if exchange else _("반품할 상품과 수량을 선택해 주세요."),
                          "lines")
    return chosen


def return_points(order: Order, amount: int, key: str, by) -> None:
    """Give `amount` of the member's store points back once (`key` is the ledger row's idempotency key)."""
    if amount and order.member_id:
        store_points_change(member=order.member, delta_won=amount, reason="주문취소/환불 반환", idempotency_key=key,
                            order=order, by=by)


def past_deposit_deadline(order: Order, now: datetime | None = None) -> bool:
    """A bank transfer still unpaid past its deadline (E8): its mileage is cancelled (mileage_auto_cancel), the
    order lapses (orders_expire_unpaid); no 입금확인 takes it any more."""
    return (order.payment_method == PaymentMethod.BANK_TRANSFER and order.status == OrderStatus.AWAITING_DEPOSIT
            and order.deposit_deadline is not None and order.deposit_deadline <= (now or timezone.now()))
