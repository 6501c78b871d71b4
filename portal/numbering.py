"""Day-sequenced document numbers, the one numbering helper of the portal: '20261128-0000015' for orders,
'C20261128-0000003' for refunds (each kind's prefix below). A number is unique under concurrency: the next number
is read, the row is inserted in a savepoint, and a collision with a row another transaction committed meanwhile
(IntegrityError on the unique column) reads again and retries.

Every numbered row is created through `save_numbered`; returns and exchanges carry no number of their own (a return
is known by its refund's number once its goods are back, an exchange by its order's)."""

from datetime import datetime
from typing import TypeVar

from django.db import IntegrityError, connections, models, router, transaction
from django.utils import timezone

from mileage.policy.constants import BUSINESS_TZ

T = TypeVar("T", bound=models.Model)

ATTEMPTS = 30  # enough for every one of a burst of simultaneous requests to win once

ORDER_PREFIX = ""  # 주문번호, as in the manual
REFUND_PREFIX = "C"  # 환불정보 (cancellations, returns and exchanges alike)


def next_number(model: type[models.Model], prefix: str, now: datetime | None = None, *, field: str = "number",
                width: int = 7) -> str:
    """`{prefix}{YYYYMMDD}-{seq}`: the Seoul date of `now` and one more than the highest number of that day."""
    day = (now or timezone.now()).astimezone(BUSINESS_TZ).strftime("%Y%m%d")
    stem = f"{prefix}{day}-"
    numbers = model.objects.filter(**{f"{field}__startswith": stem})
    if connections[router.db_for_read(model)].vendor == "sqlite":
        # SQLite's LIKE ignores case, so it cannot use the index on `field` and would read every row; the same
        # prefix as a range of its binary-ordered text can. (PostgreSQL's LIKE uses its pattern index already,
        # and a range there would follow the database's collation, not the bytes.)
        numbers = numbers.filter(**{f"{field}__gte": stem, f"{field}__lt": stem[:-1] + chr(ord(stem[-1]) + 1)})
    last = numbers.order_by(f"-{field}").values_list(field, flat=True).first()
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{seq:0{width}d}"


def save_numbered(instance: T, *, prefix: str, now: datetime | None = None, field: str = "number",
                  attempts: int = ATTEMPTS) -> T:
    """Save a new row under the next free `prefix` number of `now`'s day, retrying with a fresh number when another
    transaction took it first.

    Works inside an outer transaction too: each try is a savepoint, so a collision does not spoil the caller's
    transaction."""
    model = type(instance)
    for attempt in range(attempts):
        setattr(instance, field, next_number(model, prefix, now, field=field))
        try:
            with transaction.atomic():
                instance.save(force_insert=True)
            return instance
        except IntegrityError:
            instance.pk = None
            if attempt == attempts - 1:
                raise
    return instance
