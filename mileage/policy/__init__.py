"""Pure-Python rules of Naver Mileage (docs/policy.md, whose codes E1, U1, … the modules cite). No Django
import here: a test enforces it.

Frozen dataclasses in, integer won out. Every number lives in `constants`.
"""

from .calendar import effective_month, next_cutoff
from .constants import *  # noqa: F403
from .dates import unpaid_deadline
from .earn import EarnBaseRule, OrderAmounts, earn_amount, earn_base, earn_within_holding_cap
from .earn_choice import EarnPlan, earn_plan, store_points_earn
from .errors import PolicyError
from .exchange import ExchangeOutcome, exchange_earn_basis, exchange_outcome
from .inflow import InflowToken, inflow_is_valid, referrer_ends_inflow
from .refund import RefundPlan, refund_plan
from .returns import max_mileage_return, validate_mileage_return
from .use import max_use_amount, validate_use

__all__ = [
    "EarnBaseRule",
    "EarnPlan",
    "ExchangeOutcome",
    "InflowToken",
    "OrderAmounts",
    "PolicyError",
    "RefundPlan",
    "earn_amount",
    "earn_within_holding_cap",
    "earn_base",
    "earn_plan",
    "effective_month",
    "next_cutoff",
    "exchange_earn_basis",
    "exchange_outcome",
    "inflow_is_valid",
    "max_mileage_return",
    "max_use_amount",
    "store_points_earn",
    "referrer_ends_inflow",
    "refund_plan",
    "unpaid_deadline",
    "validate_mileage_return",
    "validate_use",
]
