"""The retention job's schedule: once a day, on one node, in a task worker (docs/adr/0007, docs/adr/0015).

Every node's scheduler (`manage.py outbox_scheduler`) calls `retention_tick` at each tick. From RETENTION_HOUR
(Asia/Seoul) on, the first node to insert the day's RetentionRun row — the claim, a unique date, so on any database
exactly one insert succeeds — hands the run to a task worker (django-tasks); the others find the day taken and
remember it until the next day, so a tick costs no query the rest of the day. The run itself holds a PostgreSQL
advisory lock, so the task and `manage.py anonymise_expired` started by hand never erase side by side; and each
order is erased under its row lock and passed by once erased, so even an overlap would erase it once.

A node that dies during the run leaves the day's row unfinished: the next day's run takes what is left.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from core.claims import OncePerPeriod
from core.locks import advisory_lock
from mileage.policy.constants import BUSINESS_TZ

from .models import RetentionRun
from .services import ErasureReport, erase_expired

log = logging.getLogger(__name__)

RETENTION_LOCK = "portal.retention.erase"

DAILY = OncePerPeriod(RetentionRun, "day")  # today's run, claimed by one node (core/claims.py)


def erase_expired_locked(*, now: datetime | None = None) -> ErasureReport | None:
    """The run under the advisory lock; None when another process is running it."""
    with advisory_lock(RETENTION_LOCK) as held:
        if not held:
            log.info("retention run skipped: another process holds the lock")
            return None
        return erase_expired(now=now)


@task()
def run_retention(day: str) -> int:
    """The background task (django-tasks): the day's run, its outcome on the day's row."""
    report = erase_expired_locked()
    erased = len(report.erased) if report else 0
    RetentionRun.objects.filter(day=day).update(finished_at=timezone.now(), erased=erased)
    return erased


def retention_tick(*, now: datetime | None = None) -> bool:
    """Claim today's run if it is due and nobody has; True when this node claimed it and enqueued the task."""
    now = now or timezone.now()
    local = timezone.localtime(now, BUSINESS_TZ)
    if local.hour < settings.RETENTION_HOUR:
        return False
    today = local.date()
    return DAILY.claim(today, now=now, enqueue=lambda: run_retention.enqueue(today.isoformat()))
