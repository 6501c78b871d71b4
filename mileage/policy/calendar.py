"""The base-rate calendar (R1, R2).

A rate requested at any time takes effect on the 1st of a month: the rate standing at 00:00 Asia/Seoul on the
26th applies to the whole next month. A request made before the 26th's 00:00 therefore applies from next month;
one made at or after it (December is already fixed) applies from the month after next.
"""

from dataclasses import dataclass
from datetime import datetime

from .constants import BUSINESS_TZ, RATE_CUTOFF_DAY


@dataclass(frozen=True)
class RateChange:
    requested_at: datetime
    rate_x10: int


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def effective_month(requested_at: datetime) -> tuple[int, int]:
    """R2: the (year, month) from whose 1st a rate requested at `requested_at` applies."""
    if requested_at.tzinfo is None:
        raise ValueError("an aware datetime is required")
    local = requested_at.astimezone(BUSINESS_TZ)
    months_ahead = 1 if local.day < RATE_CUTOFF_DAY else 2
    return _add_months(local.year, local.month, months_ahead)


def rate_for_month(changes: list[RateChange], initial_rate_x10: int, year: int, month: int) -> int:
    """The base rate for (year, month): the latest request already effective by then, else the initial rate."""
    rate = initial_rate_x10
    latest = None
    for change in changes:
        if effective_month(change.requested_at) <= (year, month) and (
            latest is None or change.requested_at >= latest
        ):
            latest = change.requested_at
            rate = change.rate_x10
    return rate


def rate_on(changes: list[RateChange], initial_rate_x10: int, moment: datetime) -> int:
    """The base rate applying at `moment` (its Asia/Seoul month)."""
    local = moment.astimezone(BUSINESS_TZ)
    return rate_for_month(changes, initial_rate_x10, local.year, local.month)


def next_cutoff(moment: datetime) -> datetime:
    """The next 26th 00:00 Asia/Seoul strictly after `moment` (for the countdown on the rate screen)."""
    local = moment.astimezone(BUSINESS_TZ)
    candidate = local.replace(day=RATE_CUTOFF_DAY, hour=0, minute=0, second=0, microsecond=0)
    if candidate <= local:
        year, month = _add_months(local.year, local.month, 1)
        candidate = candidate.replace(year=year, month=month)
    return candidate
