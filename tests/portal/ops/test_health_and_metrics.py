"""/healthz for the proxy and /metrics for Prometheus: right numbers from the database, the right status code, no
secret shown, and /metrics closed to strangers."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from mileage.models import (
    MileageEvent,
    MileageSettings,
    MileageStateChange,
    MileageTransaction,
    OutboxMessage,
    OutboxStatus,
    TransactionState,
)
from portal.aftersales.models import Refund, RefundReason, RefundStatus
from portal.ops.metrics import ops_summary, quantile
from tests.factories import ProductFactory, order_for
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db
STRANGER = {"REMOTE_ADDR": "203.0.113.7"}
CLOSED_PORT = "http://127.0.0.1:9"


def message(order, key, status, attempts, created_ago=timedelta(0)):
    row = OutboxMessage.objects.create(kind="stated", order=order, payload={}, idempotency_key=key,
                                       wire_key=f"{key}:w", status=status, attempts=attempts,
                                       next_attempt_at=timezone.now())
    OutboxMessage.objects.filter(pk=row.pk).update(created_at=timezone.now() - created_ago)
    return row


@pytest.fixture(autouse=True)
def fresh_cache():
    """/healthz keeps the provider's answer in the cache for a few seconds: each test starts without it."""
    cache.clear()


@pytest.fixture
def credentials(settings):
    mileage = MileageSettings.load()
    mileage.api_id, mileage.hash_key = "HLTHZ1", "f" * 40
    mileage.save()
    return mileage.hash_key


def test_healthz_is_ok_with_the_provider_answering(sandbox, merchant, settings):
    settings.MILEAGE_API_BASE = settings.MILEAGE_SERVICE_BASE = sandbox.base_url
    mileage = MileageSettings.load()
    mileage.api_id, mileage.hash_key = merchant
    mileage.save()
    response = Client().get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["down"] == [] and body["degraded"] == []
    assert body["checks"]["provider"]["reachable"] is True
    assert body["checks"]["outbox"] == {"ok": True, "pending": 0, "failed": 0, "oldest_pending_seconds": 0}
    assert merchant[1] not in response.content.decode()
    assert "no-cache" in response["Cache-Control"]
    # a proxy polling every second does not poll the provider with it
    assert Client().get("/healthz").json()["checks"]["provider"]["cached"] is True


def test_healthz_names_an_unreachable_provider_and_a_stuck_outbox_but_still_serves(settings, credentials):
    # given the provider down, an old pending message and a FAILED one
    settings.MILEAGE_API_BASE = CLOSED_PORT
    order = order_for([(ProductFactory(), 1)])
    message(order, "a", OutboxStatus.PENDING, 2, created_ago=timedelta(hours=1))
    message(order, "b", OutboxStatus.FAILED, 6)
    # when the proxy asks
    response = Client().get("/healthz")
    # then the node still serves, and says what is wrong
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["degraded"] == ["provider", "outbox"]
    assert body["checks"]["provider"]["reachable"] is False and body["checks"]["provider"]["code"] == "UNAVAILABLE"
    outbox = body["checks"]["outbox"]
    assert (outbox["pending"], outbox["failed"]) == (1, 1) and 3590 <= outbox["oldest_pending_seconds"] <= 3700
    assert credentials not in response.content.decode()


def test_healthz_answers_503_when_the_cache_is_down(settings, credentials):
    settings.MILEAGE_API_BASE = CLOSED_PORT
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0",
                                   "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["cache"] and body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["error"] == "ConnectionError"


def test_healthz_answers_503_when_the_database_is_down(settings, credentials, monkeypatch):
    settings.MILEAGE_API_BASE = CLOSED_PORT

    class Down:
        vendor = "down"

        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr("portal.ops.health.connection", Down())
    monkeypatch.setattr("portal.ops.health.check_provider", lambda: {"ok": False, "reachable": False})
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["database"]
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["outbox"]["ok"] is False


def test_quantiles_are_nearest_rank():
    values = list(range(1, 101))
    assert (quantile(values, 0.5), quantile(values, 0.95)) == (50.0, 95.0)
    assert quantile([7], 0.95) == 7.0 and quantile([], 0.5) is None


@pytest.fixture
def activity(db):
    """Two pending messages (one tried twice), one FAILED after 6 tries, one sent at the first try; a refund
    waiting; one approval refused today and one two days ago; provider timings 10..200 ms."""
    order = order_for([(ProductFactory(), 1)])
    message(order, "p1", OutboxStatus.PENDING, 2, created_ago=timedelta(minutes=5))
    message(order, "p2", OutboxStatus.PENDING, 0)
    message(order, "f1", OutboxStatus.FAILED, 6)
    message(order, "s1", OutboxStatus.SENT, 1)
    Refund.objects.create(number="R1", order=order, reason=RefundReason.values[0], status=RefundStatus.BEFORE)
    Refund.objects.create(number="R2", order=order, reason=RefundReason.values[0], status=RefundStatus.DONE)
    mileage = MileageTransaction.objects.create(order=order, req_tx_id="REQ1", state=TransactionState.FAILED)
    MileageStateChange.objects.create(transaction=mileage, from_state="approving", to_state="failed")
    other = MileageTransaction.objects.create(order=order_for([(ProductFactory(), 1)]), req_tx_id="REQ2")
    MileageStateChange.objects.create(transaction=other, from_state="approving", to_state="failed",
                                      changed_at=timezone.now() - timedelta(days=2))
    for n, ms in enumerate(range(10, 201, 10)):
        MileageEvent.objects.create(transaction=mileage, kind="stated", provider_ms=ms, idempotency_key=f"e{n}")
    return order


def test_the_summary_counts_from_the_database(activity):
    summary = ops_summary()
    assert (summary.outbox_pending, summary.outbox_failed, summary.refunds_waiting) == (2, 1, 1)
    assert 295 <= summary.outbox_oldest_pending_seconds <= 400
    assert summary.approvals_refused_24h == 1
    assert (summary.provider_p50_ms, summary.provider_p95_ms, summary.provider_calls_1h) == (100.0, 190.0, 20)
    # 9 attempts, of which the one that sent succeeded
    assert (summary.outbox_attempts_1h, summary.outbox_failed_attempts_1h) == (9, 8)
    assert summary.provider_error_percent == "88.9"


def test_metrics_for_prometheus(activity, settings):
    settings.METRICS_TOKEN = "scrape-token-123"
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-123", **STRANGER)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for line in ["portal_outbox_pending_messages 2.0", "portal_outbox_failed_messages 1.0",
                 "portal_refunds_waiting 1.0", "portal_mileage_approvals_refused_24h 1.0",
                 'portal_provider_latency_ms{quantile="0.5"} 100.0', 'portal_provider_latency_ms{quantile="0.95"} 190.0',
                 "portal_outbox_attempts_1h 9.0", "portal_outbox_failed_attempts_1h 8.0"]:
        assert line in text.splitlines(), line
    assert "portal_provider_error_ratio 0.888" in text


def test_metrics_are_closed_to_strangers(db, settings):
    load_demo()
    settings.METRICS_TOKEN = "scrape-token-123"
    assert Client().get("/metrics", **STRANGER).status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **STRANGER).status_code == 401
    assert Client().get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 401  # through the proxy
    member = Client()
    member.force_login(User.objects.get(username="hong"))
    assert member.get("/metrics", **STRANGER).status_code == 403
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    assert operator.get("/metrics", **STRANGER).status_code == 200
    assert Client().get("/metrics").status_code == 200  # a scrape on the node itself (loopback)
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ", **STRANGER).status_code == 401


def test_the_dashboard_shows_the_summary(activity):
    load_demo()
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    page = operator.get("/console/").content.decode()
    assert 'id="ops-summary"' in page
    assert 'id="ops-failed">1건' in page and 'id="ops-refused">1건' in page
    assert "보통 100ms · 느릴 때 190ms" in page and 'id="ops-error-rate">88.9%' in page


def test_the_dashboard_card_in_english(activity, settings):
    load_demo()
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    operator.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = operator.get("/console/").content.decode()
    assert "Operations" in page and "Approvals refused (24 h)" in page and "Send error rate (1 h)" in page
