"""The access log's pruning: once a month, on one node, in a task worker (docs/adr/0016, as portal/retention/tasks.py).

Every node's scheduler (`manage.py outbox_scheduler`) calls `access_log_tick` at each tick. From RETENTION_HOUR
(Asia/Seoul) on, the first node to insert the month's PruneRun row — a unique month, so on any database exactly one
insert succeeds — hands the pruning to a task worker; the others find the month taken and remember it until the
next month. A second run in the same month would find nothing older than the period but what the first left.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from core.claims import OncePerPeriod
from mileage.policy.constants import BUSINESS_TZ

from .models import PruneRun
from .services import access_log_prune

log = logging.getLogger(__name__)

MONTHLY = OncePerPeriod(PruneRun, "month")  # the month's pruning, claimed by one node (core/claims.py)


@task()
def run_access_log_prune(month: str) -> int:
    report = access_log_prune()
    PruneRun.objects.filter(month=month).update(finished_at=timezone.now(), pruned=report.pruned)
    log.info("access log: %s records past their retention pruned", report.pruned)
    return report.pruned


def access_log_tick(*, now: datetime | None = None) -> bool:
    """Claim this month's pruning if it is due and nobody has; True when this node claimed it and enqueued it."""
    now = now or timezone.now()
    local = timezone.localtime(now, BUSINESS_TZ)
    if local.hour < settings.RETENTION_HOUR:
        return False
    month = local.strftime("%Y-%m")
    return MONTHLY.claim(month, now=now, enqueue=lambda: run_access_log_prune.enqueue(month))
