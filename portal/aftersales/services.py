"""Kept only for bench/measure.py, which still imports these two names from here: new code imports from
`portal.aftersales.cancellations` and `portal.aftersales.common`. Remove once bench/ switches."""

from .cancellations import order_cancel_after_payment
from .common import RefundInput

__all__ = ["RefundInput", "order_cancel_after_payment"]
