"""Day-sequenced document numbers, the one numbering helper of the portal: '20261128-0000015' for orders,
'C20261128-0000003' for refunds (each kind's prefix below). A number is unique under concurrency: the next number
is read, the row is inserted in a savepoint, and a collision with a row another transaction committed meanwhile
(IntegrityError on the unique column) reads again and retries.

Every numbered row is created through `save_numbered`; returns and exchanges carry no number of their own (a return
is known by its refund's number once its goods are back, an exchange by its order's)."""

from datetime import datetime
from typing import TypeVar

from django.db import IntegrityError, connections, migrations, models, router, transaction
from django.db.models import F
from django.db.models.functions import Collate
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
    last = _highest_with_prefix(model, field, stem)
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{seq:0{width}d}"


def _highest_with_prefix(model: type[models.Model], field: str, stem: str) -> str | None:
    """The highest `field` starting with `stem`, read from an index: the prefix as a range in byte order (a LIKE
    cannot use SQLite's index, which ignores case in LIKE, nor PostgreSQL's unique index under a non-C collation,
    whose order is not the bytes'; PostgreSQL has a COLLATE "C" index on each numbered column for this)."""
    vendor = connections[router.db_for_read(model)].vendor
    if vendor not in ("sqlite", "postgresql"):
        return (model.objects.filter(**{f"{field}__startswith": stem}).order_by(f"-{field}")
                .values_list(field, flat=True).first())
    key = Collate(field, "C") if vendor == "postgresql" else F(field)  # SQLite compares text as bytes already
    upper = stem[:-1] + chr(ord(stem[-1]) + 1)
    return (model.objects.alias(_key=key).filter(_key__gte=stem, _key__lt=upper).order_by("-_key")
            .values_list(field, flat=True).first())


def byte_order_index(*, table: str, name: str) -> migrations.RunPython:
    """The migration operation giving a numbered column its byte-order (COLLATE "C") index on PostgreSQL, which
    `_highest_with_prefix` reads; nothing on SQLite, whose unique index is in byte order already."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS {name} ON {table} (number COLLATE "C")')

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return migrations.RunPython(forwards, backwards)


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
            if attempt == attempts - 1 or not model.objects.filter(**{field: getattr(instance, field)}).exists():
                raise  # out of tries, or another constraint refused the row: the caller's to answer
    return instance
