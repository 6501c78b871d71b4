"""Earn base (E1) and earn amount (E2, E3). The per-buyer holding cap (E4) is the provider's to apply; the shop
only tells the buyer where it will cut (earn_within_holding_cap)."""

from dataclasses import dataclass

from .constants import (
    MAX_BALANCE_PER_BUYER_WON,
    MAX_EARN_PER_ORDER_WON,
    MIN_EARN_UNIT_WON,
    RATE_DENOMINATOR,
)


@dataclass(frozen=True)
class EarnBaseRule:
    """The merchant's earn-base choices (E1, §3-2). Defaults: discounts and store points subtracted,
    shipping not included."""

    subtract_discounts: bool = True
    subtract_store_points: bool = True
    include_shipping: bool = False


@dataclass(frozen=True)
class OrderAmounts:
    """An order's amounts in won. `goods_won` includes the excluded goods; `excluded_goods_won` says how much
    of it is gift certificates or gold."""

    goods_won: int
    excluded_goods_won: int = 0
    discount_won: int = 0
    store_points_won: int = 0
    shipping_won: int = 0
    mileage_use_won: int = 0

    def __post_init__(self) -> None:
        for name in ("goods_won", "excluded_goods_won", "discount_won", "store_points_won", "shipping_won",
                     "mileage_use_won"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        if self.excluded_goods_won > self.goods_won:
            raise ValueError("excluded_goods_won cannot exceed goods_won")

    @property
    def payable_won(self) -> int:
        """What the buyer pays before mileage: goods − discounts − store points + shipping."""
        return max(0, self.goods_won - self.discount_won - self.store_points_won + self.shipping_won)


def earn_base(amounts: OrderAmounts, rule: EarnBaseRule = EarnBaseRule()) -> int:
    """E1: eligible goods − mileage used (U3), with the merchant's choices; never below 0."""
    base = amounts.goods_won - amounts.excluded_goods_won - amounts.mileage_use_won
    if rule.subtract_discounts:
        base -= amounts.discount_won
    if rule.subtract_store_points:
        base -= amounts.store_points_won
    if rule.include_shipping:
        base += amounts.shipping_won
    return max(0, base)


def earn_amount(base_won: int, rate_x10: int) -> int:
    """E2 floor(base × rate) with the rate ×10; E3 cap of 20,000원 per order; below 1원 nothing."""
    if base_won < 0 or rate_x10 < 0:
        raise ValueError("base and rate must not be negative")
    earned = base_won * rate_x10 // RATE_DENOMINATOR
    if earned < MIN_EARN_UNIT_WON:
        return 0
    return min(earned, MAX_EARN_PER_ORDER_WON)


def earn_within_holding_cap(expected_won: int, *, balance_won: int, use_won: int) -> int | None:
    """E4 as the shop can tell it before the approval, which the provider alone decides: a buyer holding 500,000원
    earns nothing, and below it an earning is cut to what fits. The popup reports the balance left after this
    order's use (`balanceAmount`), not the pending earnings, so the shop knows an upper bound: what fits over that
    balance and this use. Returns that bound when it cuts `expected_won`, else None (the expected earn stands as
    far as the shop can tell)."""
    room = max(0, MAX_BALANCE_PER_BUYER_WON - max(0, balance_won) - max(0, use_won))
    return room if expected_won > room else None
