"""Members: 회원가입, and store points (적립금), every change of which is a ledger row written under the member's
row lock."""

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from .models import Member, StorePointEntry


class NotEnoughPoints(Exception):
    pass


def store_points_change(*, member: Member, delta_won: int, reason: str, idempotency_key: str, order=None,
                        by=None) -> StorePointEntry:
    """Add (positive) or spend (negative) store points once per idempotency key; never below zero."""
    with transaction.atomic():
        # the key is looked up under the member's lock: a second call with it at the same moment waits for the
        # first and then finds its entry (looked up before the lock, it moved the points again and then failed on
        # the key's unique index)
        locked = Member.objects.select_for_update().get(pk=member.pk)
        existing = StorePointEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            member.store_points_won = locked.store_points_won
            return existing
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


class UsernameTaken(Exception):
    pass


def member_join(*, username: str, password: str, name: str, email: str, phone: str, zipcode: str = "",
                address: str = "", address_detail: str = "") -> Member:
    """회원가입: the login and the member in one transaction, with 0원 of store points. Two joins with one 아이디
    at once: the database's unique login keeps one, the other gets UsernameTaken."""
    first, last = (name[1:], name[0]) if len(name) > 1 else (name, "")
    try:
        with transaction.atomic():
            user = User.objects.create_user(username, email=email, password=password, first_name=first[:150],
                                            last_name=last[:150])
            return Member.objects.create(user=user, name=name, phone=phone, zipcode=zipcode, address=address,
                                         address_detail=address_detail)
    except IntegrityError as exc:
        if User.objects.filter(username=username).exists():
            raise UsernameTaken(username) from exc
        raise
