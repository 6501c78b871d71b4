"""Inflow from the provider's ads and the extra rate (I1–I3).

The token (`NaPm`) is minted and signed by the provider; the shop can only read its fields, keep it for the
browser session, end it at expiry or on a foreign referrer, and hand it back to the provider.
"""

from datetime import datetime, timedelta

from ..wire import InflowToken
from .constants import INFLOW_TTL

__all__ = ["InflowToken", "inflow_is_valid", "referrer_ends_inflow"]


# A visit stated later than now (beyond clocks' usual drift) was not made: a token dated ahead would outlive I3.
VISIT_CLOCK_SKEW = timedelta(minutes=5)


def inflow_is_valid(token: InflowToken | None, now: datetime) -> bool:
    """I3: valid strictly before the earlier of its stated expiry and visit + 6 hours, and only for a visit that has
    happened (a visit time in the future is refused: the shop cannot check the provider's signature, so a token
    dated ahead would keep its extra rate on the product pages for as long as it said)."""
    if token is None or token.visited_at > now + VISIT_CLOCK_SKEW:
        return False
    deadline = min(token.expires_at, token.visited_at + INFLOW_TTL)
    return now < deadline


def _host_matches(host: str, allowed: str) -> bool:
    allowed = allowed.lower()
    return host == allowed or host.endswith("." + allowed)


def referrer_ends_inflow(referrer_host: str | None, own_hosts: list[str], provider_hosts: list[str]) -> bool:
    """I2: a page view from a foreign site (neither the shop nor the provider) ends the inflow.

    An empty referrer (typed URL, bookmark, privacy settings) does not end it.
    """
    if not referrer_host:
        return False
    host = referrer_host.lower()
    return not any(_host_matches(host, allowed) for allowed in [*own_hosts, *provider_hosts])
