"""How long each kind of record is kept (전자상거래법 시행령 제6조 ①, in months) and the cut-off dates they give.

The settings (PERSONAL_DATA_RETENTION_MONTHS) may lengthen a period, never shorten it below the law's: a shorter one
is refused at start (checks.py). 표시·광고에 관한 기록 (6개월) is not among them: the shop's advertising records
(Wagtail pages and their revisions) hold no buyer's personal data (docs/adr/0015).
"""

import calendar
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from mileage.policy.constants import BUSINESS_TZ

CONTRACT = "contract"  # 계약 또는 청약철회 등에 관한 기록: every order, and a buyer's 취소/반품 신청
PAYMENT = "payment"  # 대금결제 및 재화 등의 공급에 관한 기록: every order's payment, delivery, refunds
DISPUTE = "dispute"  # 소비자의 불만 또는 분쟁처리에 관한 기록: a buyer's request the shop refused (반려)

LEGAL_MINIMUM_MONTHS = {CONTRACT: 60, PAYMENT: 60, DISPUTE: 36}


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock time `months` calendar months earlier in Asia/Seoul (the 31st falls back to the month's
    last day: 2031-03-31 minus one month is 2031-02-28)."""
    local = timezone.localtime(moment, BUSINESS_TZ)
    index = local.year * 12 + (local.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    return local.replace(year=year, month=month, day=min(local.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Cutoffs:
    """An order whose last event is before `plain` (before `disputed` when it holds a refused request) is past its
    period."""

    plain: datetime
    disputed: datetime
    months_plain: int
    months_disputed: int

    @property
    def latest(self) -> datetime:
        return max(self.plain, self.disputed)


def retention_months() -> dict[str, int]:
    return {kind: int(settings.PERSONAL_DATA_RETENTION_MONTHS.get(kind, minimum))
            for kind, minimum in LEGAL_MINIMUM_MONTHS.items()}


def cutoffs(now: datetime) -> Cutoffs:
    months = retention_months()
    plain = max(months[CONTRACT], months[PAYMENT])
    disputed = max(plain, months[DISPUTE])
    return Cutoffs(plain=months_before(now, plain), disputed=months_before(now, disputed), months_plain=plain,
                   months_disputed=disputed)
