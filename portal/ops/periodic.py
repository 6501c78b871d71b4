"""The scheduler's periodic work, safe to run on every node.

One sweep cancels unpaid bank transfers past their deadline (E8), abandons placements left 주문처리중 by a process
that died, finishes refunds whose gateway cancel a dead process left 요청중 (ADR 0012), and sends the outbox
messages that are due. Every node may run `manage.py outbox_scheduler`; each
sweep first takes a PostgreSQL session-level advisory lock (`pg_try_advisory_lock`) and a node that does not get it
skips that tick, so ten schedulers do the work once per tick. The lock is released after each sweep, so a node that
dies hands the work to the others at the next tick. The services underneath stay correct without the lock anyway
(row locks, the outbox's claim lease, `skip_locked` where a sweep would wait on another node); the lock keeps nodes
from racing each other for nothing. On SQLite (one machine) the lock is a no-op. See docs/adr/0007-periodic-work.md.
"""

import io
import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.management import call_command

from core.locks import advisory_lock, lock_key
from mileage.services.transactions import outbox_deliver_due
from portal.aftersales.cancellations import orders_expire_unpaid
from portal.aftersales.refunds import refunds_resume
from portal.orders.checkout import orders_abandon_stuck

__all__ = ["SWEEP_LOCK", "SweepResult", "advisory_lock", "lock_key", "periodic_sweep"]

log = logging.getLogger(__name__)

SWEEP_LOCK = "portal.periodic.sweep"


@dataclass(frozen=True)
class SweepResult:
    expired: int  # unpaid bank transfers cancelled
    abandoned: int  # placements left 주문처리중 abandoned
    sent: int  # outbox messages sent
    refunds: int = 0  # refunds whose gateway cancel a dead process left 요청중, completed


def pages_publish_due() -> None:
    """The CMS's 게시 예약: the revisions whose go-live moment has come are published, the pages whose expiry has
    come are unpublished (Wagtail's publish_scheduled, run with each sweep, so that what the editor scheduled —
    a new 적립 기준 안내 on the day its rules change — happens without anyone at the server)."""
    try:
        call_command("publish_scheduled", stdout=io.StringIO())
    except Exception:  # a page that cannot be published must not stop the money's work below: logged, tried again
        log.exception("scheduled pages: publishing failed; tried again at the next sweep")


def periodic_sweep(*, now: datetime | None = None) -> SweepResult | None:
    """One tick of the scheduler; None when another node holds the sweep lock and does this tick's work."""
    with advisory_lock(SWEEP_LOCK) as held:
        if not held:
            log.debug("sweep skipped: another node holds the lock")
            return None
        pages_publish_due()
        return SweepResult(expired=orders_expire_unpaid(now=now), abandoned=orders_abandon_stuck(now=now),
                           refunds=refunds_resume(now=now), sent=outbox_deliver_due(now=now))
