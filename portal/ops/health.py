"""The node's health for the proxy in front: the database and the cache (without them this node cannot serve: 503),
the provider's reachability and the outbox backlog (degraded, still 200: orders are taken and calls wait).

The provider is asked with getAccumRate (a GET that carries no secret) on short timeouts, and the answer is kept in
the cache for a few seconds so that a proxy polling every second does not poll the provider with it. Nothing here
shows a credential: a failed call is reported by its code only.
"""

import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone

from mileage.models import MileageSettings, OutboxMessage, OutboxStatus
from mileage.provider import ProviderError, ProviderUnavailable
from mileage.provider.client import client_for

PROVIDER_CACHE_KEY = "healthz:provider"


def check_database() -> dict:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1), "vendor": connection.vendor}


def check_cache() -> dict:
    started = time.perf_counter()
    token = uuid.uuid4().hex
    key = f"healthz:probe:{token}"
    cache.set(key, token, 10)
    ok = cache.get(key) == token
    cache.delete(key)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1), "backend": backend}


def check_provider() -> dict:
    try:
        cached = cache.get(PROVIDER_CACHE_KEY)
    except Exception:  # the cache check reports a cache that is down; the provider is still asked
        cached = None
    if cached is not None:
        return {**cached, "cached": True}
    api_id, hash_key = MileageSettings.load().effective_credentials()
    client = client_for(api_id, hash_key, connect_timeout=settings.HEALTHZ_PROVIDER_TIMEOUT,
                        read_timeout=settings.HEALTHZ_PROVIDER_TIMEOUT)
    started = time.perf_counter()
    try:
        client.accum_rate(fresh=True)
        result = {"ok": True, "reachable": True}
    except ProviderUnavailable as exc:
        result = {"ok": False, "reachable": False, "code": exc.code}
    except ProviderError as exc:  # it answered, but refused: reachable, and still a problem to look at
        result = {"ok": False, "reachable": True, "code": exc.code}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    try:
        cache.set(PROVIDER_CACHE_KEY, result, settings.HEALTHZ_PROVIDER_CACHE_SECONDS)
    except Exception:
        pass
    return {**result, "cached": False}


def outbox_backlog(now=None) -> dict:
    """Pending messages, the oldest one's age in seconds, and the FAILED ones waiting for an operator."""
    now = now or timezone.now()
    row = OutboxMessage.objects.aggregate(
        pending=Count("id", filter=Q(status=OutboxStatus.PENDING)),
        failed=Count("id", filter=Q(status=OutboxStatus.FAILED)),
        oldest=Min("created_at", filter=Q(status=OutboxStatus.PENDING)))
    oldest = row["oldest"]
    return {"pending": row["pending"], "failed": row["failed"],
            "oldest_pending_seconds": max(0, int((now - oldest).total_seconds())) if oldest else 0}


def check_outbox() -> dict:
    backlog = outbox_backlog()
    too_old = backlog["oldest_pending_seconds"] > settings.HEALTHZ_OUTBOX_MAX_AGE_SECONDS
    return {"ok": not backlog["failed"] and not too_old, **backlog}


CHECKS = {"database": check_database, "cache": check_cache, "provider": check_provider, "outbox": check_outbox}
ESSENTIAL = ("database", "cache")  # without these this node cannot serve


def health() -> tuple[int, dict]:
    """(HTTP status, body): 503 only when this node cannot serve, otherwise 200 with the degraded parts named."""
    checks: dict[str, dict] = {}
    for name, check in CHECKS.items():
        if name == "outbox" and not checks["database"]["ok"]:
            checks[name] = {"ok": False, "error": "database unavailable"}
            continue
        try:
            checks[name] = check()
        except Exception as exc:  # a check that cannot run is a failed check; the reason is its type, no details
            checks[name] = {"ok": False, "error": type(exc).__name__}
    down = [name for name in ESSENTIAL if not checks[name]["ok"]]
    degraded = [name for name in CHECKS if name not in ESSENTIAL and not checks[name]["ok"]]
    status = "down" if down else ("degraded" if degraded else "ok")
    body = {"status": status, "down": down, "degraded": degraded, "checks": checks,
            "time": timezone.now().isoformat()}
    return (503 if down else 200), body

