"""The provider's numbers, from docs/policy.md (the rule each one serves is named beside it).

The provider sandbox keeps its own copy of the rules on purpose: the shop computes the same things in
mileage.policy, and the end-to-end tests compare the two (docs/adr/0008). Only the wire protocol's facts come from
mileage.wire.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from mileage.wire import RATE_SCALE

# "Business time is Asia/Seoul": the rate cut-off and the settlement months are counted there.
BUSINESS_TZ = ZoneInfo("Asia/Seoul")

# U1: a use is 0 (none) or at least 500원; no maximum but the balance (and the shop's maxUseAmount, U2).
MIN_USE_WON = 500

# E2: earnings below 1원 are not granted.
SMALLEST_EARNING_WON = 1

# E3: at most 20,000원 earned on one order.
ORDER_EARN_CAP_WON = 20_000

# E4: at most 500,000원 held (available + pending) by one buyer; at or above it the buyer can only use.
BUYER_HOLDING_CAP_WON = 500_000

# E7: an earning becomes usable 15 days after payment completion.
PENDING_DAYS = 15

# E8: an approved bank transfer without deposit for 15 days is cancelled, its use and earn returned.
UNPAID_DAYS = 15

# R2: the rate standing at 00:00 on this day of a month applies to the whole next month.
RATE_CUTOFF_DAY = 26

# I3: an inflow token is good for 6 hours after the visit (and never past its own stated expiry).
INFLOW_HOURS = 6
INFLOW_LIFETIME = timedelta(hours=INFLOW_HOURS)

# E2: a rate is a percentage with one decimal carried ×RATE_SCALE, so an earning is base × rate / (100 × scale).
PERCENT_X_SCALE = 100 * RATE_SCALE
