"""The provider's rules (docs/policy.md, docs/protocol.md), written for the provider sandbox alone.

Pure Python, no Django and nothing of the shop but its wire protocol: the same rules are written a second time in
the shop's mileage.policy, so that a rule bug on either side shows up as a disagreement in the end-to-end tests
instead of being computed identically by both (docs/adr/0008). Money is integer won; rates are ints ×10.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from mileage.wire import InflowToken

from .constants import (
    BUSINESS_TZ,
    BUYER_HOLDING_CAP_WON,
    INFLOW_LIFETIME,
    MIN_USE_WON,
    ORDER_EARN_CAP_WON,
    PENDING_DAYS,
    PERCENT_X_SCALE,
    RATE_CUTOFF_DAY,
    SMALLEST_EARNING_WON,
    UNPAID_DAYS,
)


class RuleError(Exception):
    """A buyer's or merchant's request that the provider's rules refuse: a stable code and a Korean message (the
    provider's pages are Korean; the sandbox is no part of the shop's translated interface)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the provider's rules need an aware datetime")
    return moment


# --- use (U1) ------------------------------------------------------------------------------------------------

def check_use(use_won: int, *, balance_won: int, max_use_won: int) -> int:
    """U1/U2: the amount the buyer typed in the popup must be 0, or from 500원 up to both the balance (holds
    already taken off) and the shop's maxUseAmount. Returns the amount; raises RuleError otherwise."""
    if type(use_won) is not int:
        raise RuleError("use_not_integer", "사용금액은 숫자로 입력해 주세요.")
    if use_won < 0:
        raise RuleError("use_negative", "사용금액은 0원 이상이어야 합니다.")
    if use_won == 0:
        return 0
    if use_won < MIN_USE_WON:
        raise RuleError("use_below_minimum", f"네이버 마일리지는 {MIN_USE_WON:,}원부터 사용할 수 있습니다.")
    if use_won > balance_won:
        raise RuleError("use_above_balance", f"사용금액이 잔액({balance_won:,}원)보다 많습니다.")
    if use_won > max_use_won:
        raise RuleError("use_above_max", f"이 주문에는 최대 {max_use_won:,}원까지 사용할 수 있습니다.")
    return use_won


def parse_use(text: str) -> int:
    """The popup's use field: ASCII digits (commas and spaces allowed as people type them), at most 40 digits, an
    optional leading minus left for check_use to refuse (as is a number above any balance). Empty means 0. Raises RuleError on anything else."""
    cleaned = (text or "").replace(",", "").strip() or "0"
    digits = cleaned.removeprefix("-")
    if not digits or len(digits) > 40 or not all("0" <= ch <= "9" for ch in digits):
        raise RuleError("use_not_integer", "사용금액은 숫자로 입력해 주세요.")
    # a number of more digits than any balance is still a number: check_use says it is above the balance
    return -int(digits) if cleaned.startswith("-") else int(digits)


# --- earn (E2, E3, E4) ---------------------------------------------------------------------------------------

def order_earning(base_won: int, rate_x10: int) -> int:
    """E2 and E3: the base (the shop's `amount`) times the rate, rounded down to the won; nothing below 1원; at most
    20,000원 for the order."""
    if base_won < 0 or rate_x10 < 0:
        raise ValueError("an earn base and a rate are never negative")
    whole_won = (base_won * rate_x10) // PERCENT_X_SCALE
    if whole_won < SMALLEST_EARNING_WON:
        return 0
    return ORDER_EARN_CAP_WON if whole_won > ORDER_EARN_CAP_WON else whole_won


def within_holding_cap(earning_won: int, *, available_won: int, pending_won: int) -> int:
    """E4: what of `earning_won` the buyer may receive. Holding 500,000원 or more (available + pending) the buyer
    earns nothing; below it the earning is cut so that the holding reaches 500,000원 at most."""
    room = BUYER_HOLDING_CAP_WON - (available_won + pending_won)
    if room <= 0 or earning_won <= 0:
        return 0
    return earning_won if earning_won <= room else room


def can_only_use(*, available_won: int, pending_won: int, held_won: int = 0) -> bool:
    """E4 as the popup says it: the buyer's holding (uses held by open popups are still the buyer's) has reached
    the cap, so this order earns nothing."""
    return available_won + held_won + pending_won >= BUYER_HOLDING_CAP_WON


# --- time (E7, E8) -------------------------------------------------------------------------------------------

def available_from(paid_at: datetime) -> datetime:
    """E7: a granted earning turns from pending into available 15 days after the payment completed."""
    return _require_aware(paid_at) + timedelta(days=PENDING_DAYS)


def unpaid_lapses_at(approved_at: datetime) -> datetime:
    """E8: when an approved, still unpaid bank transfer is cancelled by the provider."""
    return _require_aware(approved_at) + timedelta(days=UNPAID_DAYS)


def unpaid_has_lapsed(approved_at: datetime, now: datetime) -> bool:
    """E8: the 15 days are over at `now` (the very moment counts as over)."""
    return now >= unpaid_lapses_at(approved_at)


# --- the rate calendar (R1, R2) ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RateRequestFact:
    """A merchant's rate request as the calendar needs it."""

    requested_at: datetime
    rate_x10: int


def _month_after(year: int, month: int, count: int = 1) -> tuple[int, int]:
    moved = date(year, month, 1) + relativedelta(months=count)
    return moved.year, moved.month


def cutoff_for_month(year: int, month: int) -> datetime:
    """R2: the moment whose standing rate applies to (year, month): 00:00 Asia/Seoul on the 26th before it."""
    prev_year, prev_month = _month_after(year, month, -1)
    return datetime(prev_year, prev_month, RATE_CUTOFF_DAY, tzinfo=BUSINESS_TZ)


def first_month_of(requested_at: datetime) -> tuple[int, int]:
    """R2: the first (year, month) a request applies to: the first month whose cut-off comes after it."""
    local = _require_aware(requested_at).astimezone(BUSINESS_TZ)
    year, month = _month_after(local.year, local.month, 1)
    while cutoff_for_month(year, month) <= local:
        year, month = _month_after(year, month, 1)
    return year, month


def rate_of_month(requests: Iterable[RateRequestFact], initial_rate_x10: int, year: int, month: int) -> int:
    """R2: the rate standing at the month's cut-off: the last request made before it, else the initial rate."""
    cutoff = cutoff_for_month(year, month)
    standing = [(r.requested_at, n, r.rate_x10) for n, r in enumerate(requests) if r.requested_at < cutoff]
    return max(standing)[2] if standing else initial_rate_x10


def rate_at(requests: Iterable[RateRequestFact], initial_rate_x10: int, moment: datetime) -> int:
    """The base rate in force at `moment` (its Asia/Seoul month)."""
    local = _require_aware(moment).astimezone(BUSINESS_TZ)
    return rate_of_month(requests, initial_rate_x10, local.year, local.month)


def next_month(moment: datetime) -> tuple[int, int]:
    local = _require_aware(moment).astimezone(BUSINESS_TZ)
    return _month_after(local.year, local.month, 1)


def next_month_is_fixed(moment: datetime) -> bool:
    """R2: from the 26th's 00:00 on, next month's rate can no longer change."""
    return moment >= cutoff_for_month(*next_month(moment))


def next_cutoff_after(moment: datetime) -> datetime:
    """The first cut-off strictly after `moment` (the partner center's countdown)."""
    year, month = next_month(moment)
    cutoff = cutoff_for_month(year, month)
    return cutoff if cutoff > moment else cutoff_for_month(*_month_after(year, month, 1))


# --- inflow (E5, I3) -----------------------------------------------------------------------------------------

def inflow_ends_at(token: InflowToken) -> datetime:
    """I3: the earlier of the token's stated expiry and 6 hours after the visit."""
    by_visit = token.visited_at + INFLOW_LIFETIME
    return token.expires_at if token.expires_at < by_visit else by_visit


def extra_rate_of(token: InflowToken | None, now: datetime) -> int:
    """E5/I3: the token's extra rate while it is valid (strictly before its end), else 0. The caller has checked
    that the provider signed the token."""
    if token is None or now >= inflow_ends_at(token):
        return 0
    return token.extra_rate_x10
