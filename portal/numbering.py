"""Day-sequenced document numbers ('20261128-0000015' for orders, 'C20261128-0000003' for refunds), unique under
concurrency: the next number is read, the row is inserted in a savepoint, and a collision with a row another
transaction committed meanwhile (IntegrityError on the unique column) reads again and retries."""

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from mileage.policy.constants import BUSINESS_TZ

T = TypeVar("T", bound=models.Model)

ATTEMPTS = 30  # enough for every one of a burst of simultaneous requests to win once


def next_number(model: type[models.Model], prefix: str, now: datetime | None = None, *, field: str = "number",
                width: int = 7) -> str:
    """`{prefix}{YYYYMMDD}-{seq}`: the Seoul date of `now` and one more than the highest number of that day."""
    day = (now or timezone.now()).astimezone(BUSINESS_TZ).strftime("%Y%m%d")
    stem = f"{prefix}{day}-"
    last = (model.objects.filter(**{f"{field}__startswith": stem}).order_by(f"-{field}")
            .values_list(field, flat=True).first())
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{seq:0{width}d}"


def save_numbered(instance: T, number: Callable[[], str], *, field: str = "number", attempts: int = ATTEMPTS) -> T:
    """Save a new row under `number()`, retrying with a fresh number when another transaction took it first.

    Works inside an outer transaction too: each try is a savepoint, so a collision does not spoil the caller's
    transaction."""
    for attempt in range(attempts):
        setattr(instance, field, number())
        try:
            with transaction.atomic():
                instance.save(force_insert=True)
            return instance
        except IntegrityError:
            instance.pk = None
            if attempt == attempts - 1:
                raise
    return instance
