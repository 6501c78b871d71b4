"""Reads of the mileage app used by pages, views and services (rates, the disclosure rules, checkout availability,
an order's mileage transaction)."""

import logging
from dataclasses import dataclass

from django.utils.translation import gettext as _

from mileage import wire
from mileage.models import (
    MileageSettings,
    MileageTransaction,
    OperatorNotice,
    OutboxMessage,
    OutboxStatus,
    TransactionState,
)
from mileage.models.outbox import HOLDING_NOTHING_KINDS, MILEAGE_RETURN_KINDS, OutboxKind, waits_for
from mileage.policy.constants import (
    MAX_BALANCE_PER_BUYER_WON,
    MAX_EARN_PER_ORDER_WON,
    MIN_USE_WON,
    PENDING_DAYS,
    RATE_CUTOFF_DAY,
    UNPAID_TRANSFER_DAYS,
)
from mileage.provider import extensions

log = logging.getLogger(__name__)
ACTIVE = extensions.ACTIVE


def provider_rates(*, timeout_seconds: int = 300) -> tuple[int | None, str]:
    """(base rate ×10, serviceStatus) from the provider's getAccumRate, cached; (None, "") when it cannot be read.
    A provider that sends no serviceStatus is taken as ACTIVE."""
    info = extensions.provider_info(timeout_seconds=timeout_seconds)
    return info.base_rate_x10, info.service_status


def base_rate_x10(*, timeout_seconds: int = 300) -> int | None:
    """The merchant's current base rate, or None when it cannot be read or the provider says the merchant's service
    is not ACTIVE (a shop then shows no rate)."""
    rate, status = provider_rates(timeout_seconds=timeout_seconds)
    return rate if status in (ACTIVE, "") else None


def shown_extra_rate_x10(token_rate_x10: int) -> int:
    """The extra rate a product page shows for an ad visit (I4): the token's `aa`, never more than the provider says
    it grants now (getAccumRate's addAccumRate) — the shop cannot check the token's signature, so a made-up link
    never advertises a rate the provider does not offer. A provider that does not say is taken at the token's word."""
    granted = extensions.provider_info().add_rate_x10
    return token_rate_x10 if granted is None else min(token_rate_x10, granted)


@dataclass(frozen=True)
class DisclosureRules:
    subtract_discounts: bool
    subtract_store_points: bool
    include_shipping: bool
    base_rate: str | None
    store_points_rate: str | None = None  # E9: the shop's own 적립금 rate, None when it grants none
    buyer_chooses_earn: bool = False
    min_use_won: int = MIN_USE_WON
    max_earn_per_order_won: int = MAX_EARN_PER_ORDER_WON
    max_balance_won: int = MAX_BALANCE_PER_BUYER_WON
    pending_days: int = PENDING_DAYS
    unpaid_days: int = UNPAID_TRANSFER_DAYS
    rate_cutoff_day: int = RATE_CUTOFF_DAY


def disclosure_rules(*, with_rate: bool = True) -> DisclosureRules:
    settings = MileageSettings.load()
    rate = base_rate_x10() if with_rate else None
    return DisclosureRules(subtract_discounts=settings.subtract_discounts,
                           subtract_store_points=settings.subtract_store_points,
                           include_shipping=settings.include_shipping,
                           base_rate=wire.rate_to_wire(rate) if rate is not None else None,
                           store_points_rate=wire.rate_to_wire(settings.store_points_rate_x10)
                           if settings.store_points_rate_x10 else None,
                           buyer_chooses_earn=settings.buyer_chooses_earn)


def checkout_available(*, disclosure_published: bool) -> tuple[bool, str]:
    """Whether the order form may offer the 적립/사용 button, and if not, why (for operators). The earn-base
    disclosure is a CMS page (cms_pages.selectors.live_disclosure): the caller says whether it is published."""
    settings = MileageSettings.load()
    if not settings.service_enabled:
        return False, _("네이버 마일리지 서비스가 꺼져 있습니다.")
    if not all(settings.effective_credentials()):
        return False, _("가맹점 API ID와 해쉬키가 없습니다.")
    if not disclosure_published:
        return False, _("적립 기준 안내 페이지가 게시되어 있지 않습니다.")
    _rate, status = provider_rates()
    if status not in (ACTIVE, ""):
        return False, _("네이버 마일리지가 가맹점 서비스 상태를 %(status)s(으)로 알려 왔습니다.") % {"status": status}
    return True, ""


# --- the mileage transaction of an order --------------------------------------------------------------------------

def mileage_for_order(order):
    """The order's mileage transaction (any state), or None when the order was placed without the provider."""
    return MileageTransaction.objects.filter(order=order).first()


def order_has_mileage(order) -> bool:
    return MileageTransaction.objects.filter(order=order).exists()


def req_tx_id_taken(req_tx_id: str) -> bool:
    """Whether a popup choice (its reqTxId) already belongs to an order."""
    return MileageTransaction.objects.filter(req_tx_id=req_tx_id).exists()


def outbox_waiting_for(messages) -> None:
    """Sets `waits_for` on each of `messages` (OutboxMessage rows, one page of 전송 대기열): the earlier unsent call of
    its order that holds it back, by the outbox's own rule (models.outbox.waits_for), or None. One query."""
    messages = [m for m in messages if m.order_id is not None]
    unsent: dict[int, list[tuple[int, str, str]]] = {}
    for order_id, pk, status, kind in (OutboxMessage.objects.filter(
            order_id__in={m.order_id for m in messages}, status__in=(OutboxStatus.PENDING, OutboxStatus.FAILED))
            .order_by("pk").values_list("order_id", "pk", "status", "kind")):
        unsent.setdefault(order_id, []).append((pk, status, kind))
    for message in messages:
        message.waits_for = waits_for(message.kind, [row for row in unsent.get(message.order_id, ())
                                                     if row[0] < message.pk]) \
            if message.status == OutboxStatus.PENDING else None


def open_operator_notices() -> list[OperatorNotice]:
    """The five newest operator notices not yet resolved (the disclosure unpublished, …): above the dashboard and the
    order queue."""
    return list(OperatorNotice.objects.filter(resolved_at__isnull=True)[:5])


# the provider calls whose answer books a settlement line (mileage.services.transactions._book_settlement): only
# one of these, still unsent, can explain a difference between the books and the provider's report
SETTLEMENT_CALL_KINDS = (OutboxKind.STATED, OutboxKind.CANCEL_STATED, OutboxKind.CANCEL, OutboxKind.ABORT,
                         OutboxKind.AUTO_CANCEL, OutboxKind.REPAYMENT)


def mileage_in_flight(numbers) -> set[str]:
    """Of the orders numbered `numbers`, those whose mileage is still on its way to the provider: an approval being
    asked (the order being placed), or a call that books settlement waiting in 전송 대기열 to be sent. An order with a
    failed call is not on its way — it waits for an operator — and is never counted. 정산's 대사 says so of these
    instead of calling a difference a mismatch."""
    numbers = list(numbers)
    if not numbers:
        return set()
    waiting = OutboxMessage.objects.filter(order__number__in=numbers, status=OutboxStatus.PENDING,
                                           kind__in=SETTLEMENT_CALL_KINDS)
    # a refused call that holds nothing back (a delivery invoice): the order's calls go on
    stuck = OutboxMessage.objects.filter(order__number__in=numbers, status=OutboxStatus.FAILED).exclude(
        kind__in=HOLDING_NOTHING_KINDS)
    asking = MileageTransaction.objects.filter(order__number__in=numbers,
                                               state__in=(TransactionState.HELD, TransactionState.APPROVING))
    return ((set(waiting.values_list("order__number", flat=True))
             | set(asking.values_list("order__number", flat=True)))
            - set(stuck.values_list("order__number", flat=True)))


def refunds_returning(order_id: int, numbers: list[str]) -> set[str]:
    """Of an order's refunds (`numbers`), those whose mileage return the provider has not answered yet: their own
    call (a re-approval or cancel keyed by the refund) waiting or refused, or closed by the order's later cancel that
    is itself still waiting. One query."""
    calls = list(OutboxMessage.objects.filter(order_id=order_id, kind__in=MILEAGE_RETURN_KINDS).values_list(
        "idempotency_key", "status"))
    order_cancel_waiting = any(status in (OutboxStatus.PENDING, OutboxStatus.FAILED) for key, status in calls
                               if not any(number in key for number in numbers))
    returning = set()
    for number in numbers:
        own = [status for key, status in calls if number in key]
        if any(status in (OutboxStatus.PENDING, OutboxStatus.FAILED) for status in own) or (
                order_cancel_waiting and any(status == OutboxStatus.SUPERSEDED for status in own)):
            returning.add(number)
    return returning
