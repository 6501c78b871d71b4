"""Login throttling on top of django-axes (issue 25): who is locked out, and from which address.

- A login name is locked for one address only (axes counts the pair (name, address)), so nobody can lock the real
  operator out by typing `operator` with wrong passwords from elsewhere.
- An address is locked on its own only after LOGIN_ADDRESS_FAILURE_LIMIT failures over any names (a per-address rate
  limit against guessing many names from one place), far above the pair's limit so that buyers behind one proxy do
  not lock each other out.
- The client address is the connection's, unless TRUSTED_PROXY_COUNT names how many proxies of the shop's own append
  to X-Forwarded-For: then the address those proxies saw. A forged X-Forwarded-For is ignored without that setting.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = n the n-th address from the right of
    X-Forwarded-For (the one the shop's outermost proxy received the connection from)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < count:
        return remote  # not through the shop's proxies: the connection's own address
    return chain[-count][:45]


class PairAndAddressHandler(AxesDatabaseHandler):
    """Locked when the pair (name, address) reached AXES_FAILURE_LIMIT, or the address alone reached
    LOGIN_ADDRESS_FAILURE_LIMIT within AXES_COOLOFF_TIME."""

    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or self._address_locked(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        """The failure counted as axes counts it; past the address's limit the request is answered as locked."""
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is not None and not getattr(request, "axes_locked_out", False) and self._address_locked(request):
            request.axes_locked_out = True

    @staticmethod
    def _address_locked(request) -> bool:
        address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
        if not address:
            return False
        since = timezone.now() - settings.AXES_COOLOFF_TIME
        failures = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since).aggregate(
            s=Sum("failures_since_start"))["s"] or 0
        return failures >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


def over_limit(key: str, limit: int, window: int) -> bool:
    """Counts one try under `key` in a window that starts with its first try; True once past `limit`. The
    counters live in the cache (Redis when REDIS_URL is set, so every node counts together); `cache.add` then
    `cache.incr` is atomic on both backends. For what django-axes does not count: 비밀번호 찾기, 회원가입."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this try opens a new window
        cache.add(key, 1, timeout=window)
        count = 1
    return count > limit
