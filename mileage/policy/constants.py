"""Every number of the Naver Mileage policy, in one place, with the manual section it comes from."""

from datetime import timedelta
from zoneinfo import ZoneInfo

# The ×10 rate scale is a fact of the wire protocol: defined in mileage.wire, used by the rules here.
from ..wire import RATE_SCALE

# Business time of the provider and the shop (docs/policy.md, Conventions).
BUSINESS_TZ = ZoneInfo("Asia/Seoul")

# U1 — §이용자 정책 (1): minimum use per order is 500원, no maximum but the balance.
MIN_USE_WON = 500

# E3 — §이용자 정책 (2): at most 20,000원 earned per order.
MAX_EARN_PER_ORDER_WON = 20_000

# E4 — §이용자 정책 (2), (3): at most 500,000원 held (available + pending) per buyer id. The provider's rule: the
# shop only shows the number.
MAX_BALANCE_PER_BUYER_WON = 500_000

# E2 — §팝업 안내: earnings below 1원 are not granted (최소 적립단위 1원).
MIN_EARN_UNIT_WON = 1

# E2 — rates are percentages with one decimal; this module computes with rate × 10 (RATE_SCALE) as an int.
# A percentage of an amount with the ×10 scale: amount × rate_x10 / (100 × 10).
RATE_DENOMINATOR = 100 * RATE_SCALE

# E7 — §5 적립 기준: an earning becomes available 15 days after payment completion (the provider's rule; shown).
PENDING_DAYS = 15
PENDING_PERIOD = timedelta(days=PENDING_DAYS)

# E8 — §주문 관련, §6: an unpaid bank transfer is cancelled after 15 days without deposit.
UNPAID_TRANSFER_DAYS = 15
UNPAID_TRANSFER_PERIOD = timedelta(days=UNPAID_TRANSFER_DAYS)

# R2 — §가맹점 정책 (5): the rate standing at 00:00 on the 26th applies to the whole next month.
RATE_CUTOFF_DAY = 26

# I3 — §4 추가 적립 제공 기준 (2): the inflow expires 6 hours after the visit.
INFLOW_TTL_HOURS = 6
INFLOW_TTL = timedelta(hours=INFLOW_TTL_HOURS)

# E6 — §가맹점 정책 (6), §적립제외 4-1: the only reasons a product may be excluded.
EXCLUSION_REASON_GIFT_CERTIFICATE = "상품권"
EXCLUSION_REASON_GOLD = "금"
EXCLUSION_REASONS = (EXCLUSION_REASON_GIFT_CERTIFICATE, EXCLUSION_REASON_GOLD)

# Guest order password: the manual's order form (§3 결제정보) asks for 4 to 12 letters or digits, case-sensitive;
# the shop asks for 6 to 12, letters and digits both (portal.orders.rules), since the password is what guards
# a guessable order number at 비회원 주문조회 (docs/policy.md, the shop's own rules).
GUEST_PASSWORD_MIN_LENGTH = 6
GUEST_PASSWORD_MAX_LENGTH = 12

__all__ = [name for name in dir() if name.isupper()]  # RATE_SCALE included
