"""Metrics for Prometheus, computed from the database at scrape time, so every node reports the same truth.

Gauges, not process counters: the outbox backlog and its FAILED messages, refunds waiting for 환불완료 (환불전),
approvals the provider refused in the last 24 hours, the provider's latency (MileageEvent.provider_ms: its own time
where it states it, as the sandbox does, else the portal's wait for its answer; p50 and p95 over the last hour) and its error rate (outbox attempts that failed / attempts, messages of the last hour).
`ops_summary` is the same numbers for the console dashboard's card.
"""

from dataclasses import asdict, dataclass
from datetime import timedelta

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from mileage.models import MileageEvent, MileageStateChange, OutboxMessage, OutboxStatus, TransactionState
from portal.aftersales.models import Refund, RefundStatus

LATENCY_WINDOW = timedelta(hours=1)
REFUSED_WINDOW = timedelta(hours=24)
LATENCY_SAMPLE = 10_000  # the newest events of the window (console_mevent_timed_idx); enough for a p95


def quantile(sorted_values: list[int], q: float) -> float | None:
    """The nearest-rank quantile of sorted values; None when there are none."""
    if not sorted_values:
        return None
    rank = max(1, -(-int(q * 1000) * len(sorted_values) // 1000))  # ceil(q × n), in integers
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


@dataclass(frozen=True)
class OpsSummary:
    outbox_pending: int
    outbox_oldest_pending_seconds: int
    outbox_failed: int
    refunds_waiting: int
    approvals_refused_24h: int
    provider_p50_ms: float | None
    provider_p95_ms: float | None
    provider_calls_1h: int
    outbox_attempts_1h: int
    outbox_failed_attempts_1h: int

    @property
    def provider_error_rate(self) -> float:
        return self.outbox_failed_attempts_1h / self.outbox_attempts_1h if self.outbox_attempts_1h else 0.0

    @property
    def provider_error_percent(self) -> str:
        return f"{self.provider_error_rate * 100:.1f}"


def ops_summary(now=None) -> OpsSummary:
    now = now or timezone.now()
    recent = Q(created_at__gte=now - LATENCY_WINDOW)
    outbox = OutboxMessage.objects.aggregate(  # one query: the backlog and the last hour's attempts
        pending=Count("id", filter=Q(status=OutboxStatus.PENDING)),
        failed=Count("id", filter=Q(status=OutboxStatus.FAILED)),
        oldest=Min("created_at", filter=Q(status=OutboxStatus.PENDING)),
        attempts=Sum("attempts", filter=recent), sent=Count("id", filter=recent & Q(status=OutboxStatus.SENT)))
    oldest = outbox["oldest"]
    latencies = sorted(MileageEvent.objects.filter(created_at__gte=now - LATENCY_WINDOW, provider_ms__isnull=False)
                       .order_by("-created_at").values_list("provider_ms", flat=True)[:LATENCY_SAMPLE])
    total = outbox["attempts"] or 0
    refused = (MileageStateChange.objects.filter(to_state=TransactionState.FAILED,
                                                 changed_at__gte=now - REFUSED_WINDOW)
               .values("transaction").distinct().count())
    return OpsSummary(
        outbox_pending=outbox["pending"], outbox_failed=outbox["failed"],
        outbox_oldest_pending_seconds=max(0, int((now - oldest).total_seconds())) if oldest else 0,
        refunds_waiting=Refund.objects.filter(status=RefundStatus.BEFORE).count(),
        approvals_refused_24h=refused,
        provider_p50_ms=quantile(latencies, 0.5), provider_p95_ms=quantile(latencies, 0.95),
        provider_calls_1h=len(latencies),
        outbox_attempts_1h=total, outbox_failed_attempts_1h=max(0, total - outbox["sent"]),
    )


GAUGES = [
    ("portal_outbox_pending_messages", "Outbox messages waiting to be sent", "outbox_pending"),
    ("portal_outbox_oldest_pending_seconds", "Age of the oldest pending outbox message", "outbox_oldest_pending_seconds"),
    ("portal_outbox_failed_messages", "Outbox messages FAILED, waiting for an operator's retry", "outbox_failed"),
    ("portal_refunds_waiting", "Refunds waiting for 환불완료 (환불전)", "refunds_waiting"),
    ("portal_mileage_approvals_refused_24h", "Mileage approvals refused in the last 24 hours", "approvals_refused_24h"),
    ("portal_provider_calls_1h", "Provider answers with a timing in the last hour", "provider_calls_1h"),
    ("portal_outbox_attempts_1h", "Outbox send attempts of the last hour's messages", "outbox_attempts_1h"),
    ("portal_outbox_failed_attempts_1h", "Outbox send attempts that failed, last hour's messages",
     "outbox_failed_attempts_1h"),
]


class DatabaseCollector:
    """Collects the gauges once per scrape from the database."""

    def collect(self):
        summary = ops_summary()
        values = asdict(summary)
        for name, documentation, field in GAUGES:
            yield GaugeMetricFamily(name, documentation, value=values[field])
        latency = GaugeMetricFamily("portal_provider_latency_ms",
                                    "The provider's own time per call (X-Provider-Time-Ms), last hour",
                                    labels=["quantile"])
        for label, value in (("0.5", summary.provider_p50_ms), ("0.95", summary.provider_p95_ms)):
            if value is not None:
                latency.add_metric([label], value)
        yield latency
        yield GaugeMetricFamily("portal_provider_error_ratio",
                                "Failed outbox attempts / attempts, last hour's messages",
                                value=summary.provider_error_rate)


def render_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return generate_latest(registry)
