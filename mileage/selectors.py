"""Reads of the mileage app used by pages and views (rates, the disclosure rules, checkout availability)."""

import logging
from dataclasses import dataclass

from django.core.cache import cache

from mileage import wire
from mileage.models import MileageSettings
from mileage.policy.constants import (
    MAX_BALANCE_PER_BUYER_WON,
    MAX_EARN_PER_ORDER_WON,
    MIN_USE_WON,
    PENDING_DAYS,
    RATE_CUTOFF_DAY,
    UNPAID_TRANSFER_DAYS,
)

log = logging.getLogger(__name__)
RATE_CACHE_KEY = "mileage:base-rate"
UNAVAILABLE = -1  # cached briefly when the provider cannot be reached, so pages do not wait on it each time
UNAVAILABLE_RETRY_SECONDS = 30


def base_rate_x10(*, timeout_seconds: int = 300) -> int | None:
    """The merchant's current base rate from the provider (getAccumRate), cached; None when it cannot be read."""
    cached = cache.get(RATE_CACHE_KEY)
    if cached is not None:
        return cached if cached >= 0 else None
    from mileage.provider import ProviderError, get_client

    try:
        rate = get_client().accum_rate().base_rate_x10
    except ProviderError as exc:
        log.warning("base rate unavailable: %s", exc)
        cache.set(RATE_CACHE_KEY, UNAVAILABLE, UNAVAILABLE_RETRY_SECONDS)
        return None
    cache.set(RATE_CACHE_KEY, rate, timeout_seconds)
    return rate


@dataclass(frozen=True)
class DisclosureRules:
    subtract_discounts: bool
    subtract_store_points: bool
    include_shipping: bool
    base_rate: str | None
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
                           base_rate=wire.rate_to_wire(rate) if rate is not None else None)


def live_disclosure():
    from cms_pages.models import EarnBaseDisclosurePage

    return EarnBaseDisclosurePage.objects.live().public().first()


def checkout_available() -> tuple[bool, str]:
    """Whether the order form may offer the 적립/사용 button, and if not, why (for operators)."""
    settings = MileageSettings.load()
    if not settings.service_enabled:
        return False, "네이버 마일리지 서비스가 꺼져 있습니다. (The mileage service is switched off.)"
    if not all(settings.effective_credentials()):
        return False, "가맹점 API ID와 해쉬키가 없습니다. (The API ID and hash key are missing.)"
    if live_disclosure() is None:
        return False, ("적립 기준 안내 페이지가 게시되어 있지 않습니다. "
                       "(The earn-base disclosure page is not published.)")
    return True, ""
