"""Reads after the sale (HackSoft-style selectors beside the actions): what may still be refunded, what is left of
an order after its returns, and an exchange's quote (추가 결제예정 금액 or the refund, and the L5 earn basis). The
console's screens and the actions read through these, so a screen shows what the action will check."""

from dataclasses import dataclass

from django.db.models import Sum
from django.utils.translation import gettext as _

from core.digest import digest
from mileage.models import MileageSettings
from mileage.policy import (
    OrderAmounts,
    PolicyError,
    earn_base,
    exchange_earn_basis,
    exchange_outcome,
)
from mileage.selectors import mileage_for_order
from portal.catalog.models import Product
from portal.orders.amounts import build_amounts, goods_of, kept_lines, mileage_may_pay_won, product_lines
from portal.orders.models import Order, OrderStatus
from portal.orders.money import collected_won, returned_outside_refunds_won

from .errors import ActionError
from .models import BuyerRequest, BuyerRequestStatus, Exchange, Refund, RefundStatus, ReturnRequest


def mileage_returned_by_exchanges(order: Order) -> int:
    """Mileage the order's exchanges gave back (re-approved when each was made)."""
    return Exchange.objects.filter(order=order).aggregate(s=Sum("mileage_returned_won"))["s"] or 0


def mileage_returned_so_far(order: Order) -> int:
    """Mileage already given back, or promised in refunds still waiting, for this order (L4 sums them): its
    refunds' and its exchanges'."""
    refunded = Refund.objects.filter(order=order).aggregate(s=Sum("mileage_won"))["s"] or 0
    return refunded + mileage_returned_by_exchanges(order)


def mileage_in_open_returns(order: Order) -> int:
    """Mileage promised by returns whose goods are not back yet (no refund recorded for them)."""
    return ReturnRequest.objects.filter(order=order, refund__isnull=True).aggregate(s=Sum("mileage_won"))["s"] or 0


def refund_limits(order: Order) -> dict[str, int]:
    """What may still be refunded, in won: `cash` (of what the shop took of the payable), `points` (store points
    used) and `mileage`."""
    refunded = Refund.objects.filter(order=order).aggregate(cash=Sum("cash_won"), points=Sum("store_points_won"),
                                                            mileage=Sum("mileage_won"))  # one read of the refunds
    paid = min(order.payable_won, collected_won(order))  # never more than the shop took
    return {"cash": max(0, paid - (refunded["cash"] or 0) - returned_outside_refunds_won(order)),
            "points": order.store_points_won - (refunded["points"] or 0),
            "mileage": order.mileage_use_won - (refunded["mileage"] or 0) - mileage_returned_by_exchanges(order)}


def cancel_fingerprint(order: Order, limits: dict[str, int] | None = None) -> str:
    """A short digest of what 배송전 주문 취소 하기 showed: the order's state and what may still be refunded. 취소완료
    pressed on a form opened before the order changed (상품교환완료, 결제취소 or 입금확인 meanwhile, in another tab or by
    another operator) is shown again with the new figures instead of cancelling on the old ones."""
    limits = limits if limits is not None else refund_limits(order)
    return digest(order.pk, order.status, order.payable_won, order.exchanges.count(), limits["cash"],
                  limits["points"], limits["mileage"])


def remaining_amounts(order: Order) -> OrderAmounts | None:
    """What is left of the order once its returned lines are gone (None for a cancelled order)."""
    if order.status == OrderStatus.CANCELLED:
        return None
    goods = goods_of(kept_lines(order))
    points = max(0, order.store_points_won - (Refund.objects.filter(order=order, status=RefundStatus.DONE)
                                              .aggregate(s=Sum("store_points_won"))["s"] or 0))
    return build_amounts(goods, store_points_won=min(points, goods.goods_won),
                         shipping_won=order.shipping_won if goods.goods_won else 0)


def mileage_still_used_won(order: Order, *, limits: dict | None = None, mileage=None) -> int:
    """The mileage the order still uses, the most an exchange may give back: a return's refund still 환불전 counts as
    given back already."""
    mileage = mileage if mileage is not None else mileage_for_order(order)
    if mileage is None:
        return 0
    return min((limits or refund_limits(order))["mileage"], mileage.use_remaining_won)


@dataclass(frozen=True)
class ReturnQuote:
    """What a return gives back by default (금액 계산 on 상품반품정보): the operator may change it before 반품접수."""

    cash_won: int
    store_points_won: int
    mileage_won: int


def return_quote(order: Order, chosen: dict[int, int]) -> ReturnQuote:
    """The refund of returning `chosen` (line id → quantity): what the buyer paid and the order still holds (cash,
    store points, the mileage still used) less what the lines kept cost. The mileage goes back as far as the kept
    lines cannot carry it (U2; all of it when nothing is kept), then the money, then the store points, then more of
    the mileage. The manual's whole return of its example: 현금환불 4,500원 and 네이버 마일리지 500원."""
    limits = refund_limits(order)
    mileage_left = mileage_still_used_won(order, limits=limits)
    kept = goods_of(kept_lines(order, less=chosen))
    shipping = order.shipping_won if kept.goods_won else 0
    points_kept = min(limits["points"], kept.goods_won)
    kept_cost = kept.goods_won - min(order.discount_won, kept.goods_won) + shipping
    back = max(0, limits["cash"] + limits["points"] + mileage_left - kept_cost)
    carried = mileage_may_pay_won(kept, shipping_won=shipping, store_points_won=points_kept) if kept.goods_won else 0
    mileage = max(0, mileage_left - carried)
    rest = max(0, back - mileage)
    cash = min(limits["cash"], rest)
    points = min(limits["points"], rest - cash)
    mileage = min(mileage_left, mileage + rest - cash - points)
    return ReturnQuote(cash_won=cash, store_points_won=points, mileage_won=mileage)


def return_takes_everything(order: Order, chosen: dict[int, int]) -> bool:
    """Whether returning `chosen` leaves the order no goods."""
    return not goods_of(kept_lines(order, less=chosen)).goods_won


def open_request(order: Order) -> BuyerRequest | None:
    """The buyer's open 취소/반품/교환 신청 of the order (one at most), or None."""
    return BuyerRequest.objects.filter(order=order, status=BuyerRequestStatus.OPEN).first()


def exchange_fingerprint(order: Order, quote: "ExchangeQuote", *, old_lines: dict[int, int],
                         new_products: list[tuple[Product, int]], mileage_returned_won: int) -> str:
    """A short digest of what 금액 계산 showed: the lines and products chosen, the mileage given back, the figures,
    and the order as it stood (its exchanges and returns so far, the buyer's open request). 상품교환완료 pressed from
    a page whose inputs were changed since, or in a second tab after the first completed, is shown again instead of
    doing what nobody saw."""
    asked = open_request(order)
    terms = (order.pk, order.exchanges.count(), sum(line.returned_quantity for line in order.lines.all()),
             (asked.pk, asked.kind) if asked is not None else None,
             sorted(old_lines.items()), sorted((product.code, quantity) for product, quantity in new_products),
             mileage_returned_won, quote.new_total_won, quote.cash_paid_won, quote.additional_payment_won,
             quote.refund_won, quote.mileage_kept_won, quote.earn_basis_won)
    return digest(*terms)


@dataclass(frozen=True)
class ExchangeQuote:
    new_total_won: int
    cash_paid_won: int
    additional_payment_won: int
    refund_won: int
    mileage_kept_won: int
    earn_basis_won: int


def exchange_quote(*, order: Order, old_lines: dict[int, int], new_products: list[tuple[Product, int]],
                   mileage_returned_won: int) -> ExchangeQuote:
    """§9: 추가 결제예정 금액 or the refund; the earn basis of L5. What was paid is the cash the shop holds for the
    order (what it took less what its refunds give back: `refund_limits`), never an earlier exchange's 추가 결제예정
    금액 still to come nor the part of a return already refunded; the store points still used likewise."""
    goods = goods_of([*kept_lines(order, less=old_lines), *product_lines(new_products)])
    mileage = mileage_for_order(order)
    limits = refund_limits(order)
    used = mileage_still_used_won(order, limits=limits, mileage=mileage)
    points = min(limits["points"], goods.goods_won)
    try:
        outcome = exchange_outcome(new_total_won=goods.goods_won + order.shipping_won - points,
                                   cash_paid_won=limits["cash"], mileage_used_won=used,
                                   mileage_returned_won=mileage_returned_won)
    except PolicyError as exc:
        raise ActionError(str(exc), "mileage_returned_won") from exc
    most = mileage_may_pay_won(goods, shipping_won=order.shipping_won, store_points_won=points)
    if outcome.mileage_kept_won > most:  # U2: the mileage kept may not pay for 상품권 or 골드 taken in exchange
        raise ActionError(_("교환 후 네이버 마일리지로 결제할 수 있는 금액은 최대 %(most)s원입니다(예외상품 제외). 네이버 "
                            "마일리지 반환액을 %(least)s원 이상 입력해 주세요.") % {
                                "most": f"{most:,}", "least": f"{used - most:,}"}, "mileage_returned_won")
    new_basis = earn_base(build_amounts(goods, store_points_won=points,
                                        shipping_won=order.shipping_won, mileage_use_won=outcome.mileage_kept_won),
                          MileageSettings.load().earn_base_rule)
    # L5 against the basis the order earns on now: what its returns, partial refunds and earlier exchanges left
    # (each re-approval's), never the first approval's, which still counts goods given back since
    basis = exchange_earn_basis(mileage.earn_base_won, new_basis) if mileage else 0
    return ExchangeQuote(new_total_won=goods.goods_won, cash_paid_won=limits["cash"],
                         additional_payment_won=outcome.additional_payment_won, refund_won=outcome.refund_won,
                         mileage_kept_won=outcome.mileage_kept_won, earn_basis_won=basis)


def exchanges_awaiting_shipping(order) -> list[Exchange]:
    """The order's exchanges whose new goods have not left yet (교환상품 배송)."""
    return [e for e in Exchange.objects.filter(order=order, shipped_at__isnull=True, ships_with_order=False)
            .prefetch_related("lines").order_by("id") if e.awaits_shipping]
