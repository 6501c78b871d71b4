"""What a refund does to the order's mileage at 환불완료 (L2–L5, R3): one decision, made in one place.

`refund_plan` takes what the order used, what earlier refunds gave back, what this refund gives back and what
remains of the order, and answers the provider call to make (cancel, re-approval or none) with the new totals.
The re-approval keeps the ORIGINAL rates (R3): the expected earn is computed with them, never with today's rate.
"""

from dataclasses import dataclass

from .earn import EarnBaseRule, OrderAmounts, earn_amount, earn_base
from .returns import validate_mileage_return

CANCEL, REPAYMENT = "cancel", "repayment"
DEFAULT_RULE = EarnBaseRule()


@dataclass(frozen=True)
class RefundPlan:
    call: str  # CANCEL | REPAYMENT
    returned_won: int  # mileage given back by this refund
    use_after_won: int  # what the order still uses at the provider afterwards
    earn_base_after_won: int
    order_amount_after_won: int
    earn_after_won: int  # expected earn on the new base at the original rates


def refund_plan(*, used_won: int, returned_before_won: int, mileage_back_won: int, remaining: OrderAmounts | None,
                original_rate_x10: int, rule: EarnBaseRule = DEFAULT_RULE, earns_mileage: bool = True) -> RefundPlan:
    """Only for an order whose use the provider holds (an order without mileage tells the provider nothing).
    `remaining` is what is left of the order after this refund (None or no goods: nothing is left).

    Examples (§7, §8): the 5,000원 order paid 4,500원 + 500원 mileage, cancelled with 500원 back → CANCEL, use 0.
    Two of three lines returned with 200원 back → REPAYMENT, use 300원, earn on what remains at the original rate.
    An order that earns the shop's 적립금 instead (E9, `earns_mileage` False) keeps an earn base of 0: it never earns
    both. Raises PolicyError when more would go back than the order used (summed over earlier refunds)."""
    validate_mileage_return(mileage_back_won, used_won=used_won, already_returned_won=returned_before_won)
    use_after = used_won - returned_before_won - mileage_back_won
    nothing_left = remaining is None or remaining.goods_won == 0
    if nothing_left and use_after == 0:
        return RefundPlan(CANCEL, mileage_back_won, 0, 0, 0, 0)
    if nothing_left:
        # The order is gone but the shop keeps part of the use (e.g. a deducted fee): the provider keeps that use
        # and no earn.
        return RefundPlan(REPAYMENT, mileage_back_won, use_after, 0, 0, 0)
    amounts = OrderAmounts(goods_won=remaining.goods_won, excluded_goods_won=remaining.excluded_goods_won,
                           discount_won=remaining.discount_won,
                           store_points_won=min(remaining.store_points_won, remaining.goods_won),
                           shipping_won=remaining.shipping_won,
                           mileage_use_won=min(use_after, remaining.goods_won + remaining.shipping_won))
    base = earn_base(amounts, rule) if earns_mileage else 0
    return RefundPlan(REPAYMENT, mileage_back_won, use_after, base, remaining.goods_won + remaining.shipping_won,
                      earn_amount(base, original_rate_x10))
