"""The one statement of an order's Naver Mileage earn (docs/policy.md M2), read from its mileage transaction.

Every statement — My Page's row, the order detail, the e-mail, the PDF receipt and the console's 주문상세정보 —
shows this and nothing else, so that no two of them can disagree:

* 적립 예정 N원: the provider holds the earn as expected (approved, not yet paid: a bank transfer before its deposit);
* 적립 예정 (usable date부터 사용 가능) N원: the provider granted the earn when the order was paid (`earn_granted`,
  booked as the provider books it) into the buyer's 적립예정 잔액, usable 15 days after the payment (E7);
* 적립 완료 (date) N원: that earn once usable, the date being the day it became usable (the payment's day + 15); the
  amount is what it granted, after any re-approval;
* 적립 취소: the transaction was cancelled, aborted or refused; 적립 취소 예정 while the order itself is cancelled or
  failed and the provider has not been told yet (a refund waits for 환불완료: the earn goes then);
* 적립 없음: nothing to earn (an order earning the shop's 적립금 instead, E9, or only excluded goods).

Beside a dead order's mileage use it says whether the buyer has it back: 반환 완료 (the provider cancelled or aborted
it), 반환 예정 (not told yet), 사용되지 않음 (the provider refused the approval). Beside a live order's use, the part
its refunds and exchanges gave back: "N원 반환" once the provider's answer took it off the use (`provider_use_won`),
"N원 반환 예정" while the re-approval is asked and not answered, or was refused (the operator sees why on
주문상세정보) — never "반환" for mileage the provider still holds.
"""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import BigIntegerField, Case, F, Value, When
from django.db.models.functions import Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import ymd
from mileage.models import MileageTransaction, TransactionState
from mileage.policy.constants import PENDING_PERIOD
from mileage.templatetags.money import rate, won

from .models import Order, OrderStatus

EXPECTED, GRANTED, CANCELLED, NONE = "expected", "granted", "cancelled", "none"
RETURNED, PENDING, UNUSED = "returned", "pending", "unused"

_DEAD_TRANSACTIONS = {TransactionState.CANCELLED, TransactionState.ABORTED, TransactionState.FAILED}
_DEAD_ORDERS = {OrderStatus.CANCELLED, OrderStatus.PAYMENT_FAILED}
_MISSING = object()
_MISSING = object()

# The mileage of an order's use that went back to the buyer, in SQL (for a list or an export of many orders), as
# EarnStatus reads it of one: all of it once the provider's transaction is dead (cancelled or aborted: given back;
# refused: never taken), else what the provider's answers to the re-approvals took off the use (a partial return,
# an exchange), never more than was asked back (an approval still on its way holds nothing yet); a re-approval asked
# and not answered is not counted.
MILEAGE_USE_RETURNED = Case(
    When(mileage__isnull=True, then=Value(0)),
    When(mileage__state__in=_DEAD_TRANSACTIONS, then=F("mileage_use_won")),
    default=Least(Greatest(Value(0), F("mileage_use_won") - F("mileage__provider_use_won")),
                  Greatest(Value(0), F("mileage_use_won") - (F("mileage__use_won") - F("mileage__returned_won")))),
    output_field=BigIntegerField())


@dataclass(frozen=True)
class EarnStatus:
    state: str  # expected | granted | cancelled | none
    amount_won: int  # the earn expected or granted; 0 when cancelled or none
    rate_x10: int  # the rate the order was approved with (shown only beside an earn)
    granted_on: date | None = None  # the business date the provider granted the earn
    use_back: str = ""  # of a dead order's mileage use: returned | pending (not yet told) | unused (never approved)
    told: bool = True  # a cancelled earn the provider already knows of (else 적립 취소 예정: a refund waits)
    # of a live order's use: what its refunds (환불완료 of a return) and exchanges gave back of it, as the provider
    # answered (returned), and what is asked of the provider and not answered yet, or refused (returning)
    use_returned_won: int = 0
    use_returning_won: int = 0

    @property
    def label(self) -> str:
        """"적립 예정" / "적립 예정 (2026-12-19부터 사용 가능)" / "적립 완료 (2026-12-04)" / "적립 취소" / "적립 없음", in
        the active language."""
        if self.state == GRANTED:
            if self.granted_on is None:
                return _("적립 완료")
            usable = self.usable_from
            if usable is not None:  # E7: granted at payment into the 적립예정 잔액, usable 15 days after
                return _("적립 예정 (%(usable)s부터 사용 가능)") % {"usable": ymd(usable)}
            # the day it became usable (E7), as it read "…부터 사용 가능" until then; not the payment's day
            return _("적립 완료 (%(date)s)") % {"date": ymd(self.granted_on + PENDING_PERIOD)}
        if self.state == CANCELLED and not self.told:
            return _("적립 취소 예정")
        return {EXPECTED: _("적립 예정"), CANCELLED: _("적립 취소")}.get(self.state, _("적립 없음"))

    @property
    def usable_from(self) -> date | None:
        """The day a granted earn becomes usable (E7: 15 days after payment), while that day is still to come."""
        if self.state != GRANTED or self.granted_on is None:
            return None
        usable = self.granted_on + PENDING_PERIOD
        return usable if usable > timezone.localdate() else None

    @property
    def shows_amount(self) -> bool:
        return self.state in (EXPECTED, GRANTED)

    @property
    def state_text(self) -> str:
        """The state and its amount: "적립 예정 45원", "적립 완료 (2026-12-04) 45원", "적립 취소", "적립 없음"."""
        return f"{self.label} {won(self.amount_won)}" if self.shows_amount else self.label

    @property
    def text(self) -> str:
        """The whole statement: "1% 적립 예정 45원", "1% 적립 완료 (2026-12-04) 45원", "적립 취소", "적립 없음"."""
        return f"{rate(self.rate_x10)}% {self.state_text}" if self.shows_amount else self.label

    @property
    def version(self) -> tuple:
        """What a cached statement (the PDF receipt) must change with."""
        return (self.state, self.amount_won, self.rate_x10, self.granted_on, self.use_back, self.usable_from,
                self.told, self.use_returned_won, self.use_returning_won)

    @property
    def use_back_label(self) -> str:
        """Beside "네이버 마일리지 사용 -700원": whether the buyer has the mileage back — a dead order's whole use, or
        the part a live order's refunds gave back ("600원 반환"), or asked back of the provider and not answered yet
        ("600원 반환 예정")."""
        if self.use_back:
            return {RETURNED: _("반환 완료"), PENDING: _("반환 예정"), UNUSED: _("사용되지 않음")}[self.use_back]
        parts = []
        if self.use_returned_won:
            parts.append(_("%(amount)s 반환") % {"amount": won(self.use_returned_won)})
        if self.use_returning_won:
            parts.append(_("%(amount)s 반환 예정") % {"amount": won(self.use_returning_won)})
        return " · ".join(parts)

    @property
    def shows_use_back(self) -> bool:
        return bool(self.use_back or self.use_returned_won or self.use_returning_won)


def earn_status(order: Order, mileage: MileageTransaction | None | object = _MISSING) -> EarnStatus | None:
    """The order's Naver Mileage earn as every statement shows it; None when the order has no mileage transaction
    (placed without the provider). `mileage` saves the query when the caller already read the transaction."""
    if mileage is _MISSING:
        try:
            mileage = order.mileage
        except ObjectDoesNotExist:
            mileage = None
    if mileage is None:
        return None
    rate = mileage.total_rate_x10
    if mileage.state in _DEAD_TRANSACTIONS or order.status in _DEAD_ORDERS:
        return EarnStatus(CANCELLED, 0, rate, use_back=_use_back(order, mileage),
                          told=mileage.state in _DEAD_TRANSACTIONS)
    # the order's use less what the provider holds of it, as its answers said: the refunds' and exchanges' part given
    # back; and less what it is being told it still is: the part asked back and not answered (or refused) yet
    asked = max(0, order.mileage_use_won - (mileage.use_won - mileage.returned_won))
    answered = min(asked, max(0, order.mileage_use_won - mileage.provider_use_won))
    back = {"use_returned_won": answered, "use_returning_won": asked - answered}
    if mileage.earn_granted:
        if not mileage.granted_earn_won:
            return EarnStatus(NONE, 0, rate, **back)
        moment = order.paid_at or mileage.updated_at
        return EarnStatus(GRANTED, mileage.granted_earn_won, rate,
                          timezone.localdate(moment) if moment is not None else None, **back)
    if not mileage.expected_earn_won:
        return EarnStatus(NONE, 0, rate, **back)
    return EarnStatus(EXPECTED, mileage.expected_earn_won, rate, **back)


def _use_back(order: Order, mileage: MileageTransaction) -> str:
    """Where the mileage a dead order used stands: back with the buyer once the provider cancelled or aborted it,
    never taken when the provider refused it (or it was aborted before an approval was recorded), still to be
    returned while the provider has not been told."""
    if not order.mileage_use_won:
        return ""
    if mileage.state == TransactionState.FAILED or (mileage.state == TransactionState.ABORTED and not mileage.tx_id):
        return UNUSED  # refused, or aborted before any approval was recorded: never taken
    return RETURNED if mileage.state in _DEAD_TRANSACTIONS else PENDING
