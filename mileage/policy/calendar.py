"""The base-rate calendar (R1, R2), as the shop shows it: the provider keeps the rates and says which applies when
(getAccumRate); the shop tells its operator from which month a change asked for now would apply and when the next
month's rate is fixed.

A rate requested at any time takes effect on the 1st of a month: the rate standing at 00:00 Asia/Seoul on the
26th applies to the whole next month. A request made before the 26th's 00:00 therefore applies from next month;
one made at or after it (December is already fixed) applies from the month after next.
"""

from datetime import datetime

from dateutil.relativedelta import relativedelta

from .constants import BUSINESS_TZ, RATE_CUTOFF_DAY


def effective_month(requested_at: datetime) -> tuple[int, int]:
    """R2: the (year, month) from whose 1st a rate requested at `requested_at` applies."""
    if requested_at.tzinfo is None:
        raise ValueError("an aware datetime is required")
    local = requested_at.astimezone(BUSINESS_TZ)
    first = local.date().replace(day=1) + relativedelta(months=1 if local.day < RATE_CUTOFF_DAY else 2)
    return first.year, first.month


def next_cutoff(moment: datetime) -> datetime:
    """The next 26th 00:00 Asia/Seoul strictly after `moment` (for the countdown on the rate screen)."""
    local = moment.astimezone(BUSINESS_TZ)
    candidate = local.replace(day=RATE_CUTOFF_DAY, hour=0, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate += relativedelta(months=1)  # the 26th exists in every month: the day and the time stay
    return candidate
