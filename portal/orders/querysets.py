"""Order querysets: deep pages fetched with a deferred join.

A page far down the order queue (OFFSET tens of thousands) would make the database read and skip every wide row
before it. Past `DEFERRED_FROM`, the page's ids are read first from the (placed_at, id) index alone, then only
those rows are fetched, so page 500 costs about what page 1 costs. A `.values()` queryset must name "id".
"""

from django.db import models

DEFERRED_FROM = 1_000


class OrderQuerySet(models.QuerySet):
    _deferred_paging = False

    def deferred_paging(self) -> "OrderQuerySet":
        clone = self._chain()
        clone._deferred_paging = True
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._deferred_paging = self._deferred_paging
        return clone

    def __getitem__(self, key):
        if (self._deferred_paging and isinstance(key, slice) and self._result_cache is None
                and (key.start or 0) >= DEFERRED_FROM):
            plain = self._chain()
            plain._deferred_paging = False
            ids = list(plain.values_list("pk", flat=True)[key])
            found = plain.order_by().filter(pk__in=ids)
            rows = ({row["id"]: row for row in found} if self._fields else {row.pk: row for row in found})
            return [rows[pk] for pk in ids if pk in rows]
        return super().__getitem__(key)
