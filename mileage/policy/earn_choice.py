"""E9: the shop's own 적립금 beside Naver Mileage, and the buyer's per-order choice of which one the order earns.

Off (the shop does not let buyers choose): the order earns both as configured. On: the order earns the one the
buyer chose; an order that earns 적립금 sends its approval with an earn base of 0 (use stays possible: earn and use
remain one button, M1). The 적립금 is computed on the same earn base as the Naver earn (E1), at the shop's rate,
floored to the won; guests have no 적립금.
"""

from dataclasses import dataclass

from .constants import MIN_EARN_UNIT_WON, RATE_DENOMINATOR

NAVER, STORE, BOTH = "naver", "store", "both"


def store_points_earn(base_won: int, rate_x10: int) -> int:
    """The shop's 적립금 for an earn base: floor(base × rate), nothing below 1원 (the manual's "적립금 : 400원")."""
    if base_won < 0 or rate_x10 < 0:
        raise ValueError("base and rate must not be negative")
    earned = base_won * rate_x10 // RATE_DENOMINATOR
    return earned if earned >= MIN_EARN_UNIT_WON else 0


@dataclass(frozen=True)
class EarnPlan:
    choice: str  # NAVER | STORE | BOTH
    naver_base_won: int  # the earn base sent to the provider (0 when the order earns 적립금 instead)
    store_points_won: int  # the shop's 적립금 the order will earn at 구매확정


def earn_plan(*, buyer_chooses: bool, chosen: str, is_member: bool, base_won: int, store_rate_x10: int) -> EarnPlan:
    """Which earn an order gets. Examples: the 5,000원 order using 500원 (base 4,500원), 적립금 at 2%:
    not chosen → BOTH, Naver base 4,500원 and 90원 적립금; chosen 적립금 → Naver base 0 and 90원; chosen Naver → 4,500원
    and no 적립금. A guest always earns Naver Mileage only."""
    if not is_member:
        return EarnPlan(NAVER, base_won, 0)
    points = store_points_earn(base_won, store_rate_x10)
    if not buyer_chooses:
        return EarnPlan(BOTH, base_won, points)
    if chosen == STORE:
        return EarnPlan(STORE, 0, points)
    return EarnPlan(NAVER, base_won, 0)
