"""When an unpaid bank transfer lapses (E8)."""

from datetime import datetime

from .constants import UNPAID_TRANSFER_PERIOD


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return moment


def unpaid_deadline(ordered_at: datetime) -> datetime:
    """E8: a bank-transfer order without deposit by this moment is cancelled with its mileage."""
    return _aware(ordered_at) + UNPAID_TRANSFER_PERIOD
