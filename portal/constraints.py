"""Database constraints shared by the shop's models."""

from django.db import models
from django.db.models import Q


def non_negative(prefix: str, *fields: str) -> list[models.CheckConstraint]:
    """A CheckConstraint `<field> >= 0` for each money field, named `<prefix>_<field>_non_negative`."""
    return [models.CheckConstraint(condition=Q(**{f"{field}__gte": 0}), name=f"{prefix}_{field}_non_negative")
            for field in fields]
