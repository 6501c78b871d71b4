"""Store points (적립금): every change is a ledger row written under the member's row lock."""

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from .models import Member, StorePointEntry


class NotEnoughPoints(Exception):
    pass


def store_points_change(*, member: Member, delta_won: int, reason: str, idempotency_key: str, order=None,
                        by=None) -> StorePointEntry:
    """Add (positive) or spend (negative) store points once per idempotency key; never below zero."""
    with transaction.atomic():
        existing = StorePointEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.store_points_won + delta_won < 0:
            raise NotEnoughPoints(_("적립금이 부족합니다 (보유 %(points)s원).") % {"points": f"{locked.store_points_won:,}"})
        Member.objects.filter(pk=locked.pk).update(store_points_won=F("store_points_won") + delta_won)
        locked.refresh_from_db(fields=["store_points_won"])
        entry = StorePointEntry.objects.create(
            member=locked, delta_won=delta_won, balance_after_won=locked.store_points_won, reason=reason,
            order=order, idempotency_key=idempotency_key,
            created_by=by if by is not None and by.is_authenticated else None)
    member.store_points_won = locked.store_points_won
    return entry
