"""Work done once per period (a day, a month) by one of several nodes, in a task worker.

Every node's scheduler calls `OncePerPeriod.claim` at each tick. The first node to insert the period's row (the period
is unique, so on any database exactly one insert succeeds) enqueues the task; the others find the period taken. Either
way this process remembers the period, so the rest of it costs a tick no query. The row's model has the period field,
`started_at` and `finished_at` (set by the task when it ends)."""

from collections.abc import Callable
from datetime import datetime

from django.db import IntegrityError, models, transaction


class OncePerPeriod:
    def __init__(self, model: type[models.Model], field: str):
        self.model, self.field = model, field
        self.claimed = None  # the period this process saw claimed (by itself or another node)

    def claim(self, period, *, now: datetime, enqueue: Callable[[], object]) -> bool:
        """Claim `period` and run `enqueue` if nobody has; True when this node claimed it. An enqueue that fails
        gives the claim back, so the next tick claims it again."""
        if self.claimed == period:
            return False
        try:
            with transaction.atomic():
                self.model.objects.create(**{self.field: period}, started_at=now)
        except IntegrityError:
            self.claimed = period  # another node has it
            return False
        try:
            enqueue()
        except Exception:
            self.model.objects.filter(**{self.field: period}, finished_at__isnull=True).delete()
            raise
        self.claimed = period
        return True
