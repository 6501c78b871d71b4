"""Writes on orders: numbering and the status machine (lock the row, check the table, record the change)."""

from datetime import datetime

from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.numbering import ATTEMPTS, ORDER_PREFIX, next_number, save_numbered

from .models import Order, OrderStatus, OrderStatusChange


class TransitionNotAllowed(Exception):
    def __init__(self, order: Order, to_status: str):
        self.order, self.to_status = order, to_status
        frm, to = OrderStatus(order.status).label, OrderStatus(to_status).label
        if order.status == to_status:  # the same button pressed twice, or by two people: the first one did it
            super().__init__(_("이미 '%(to)s' 상태입니다. 다른 곳에서 먼저 처리되었습니다.") % {"to": to})
            return
        super().__init__(_("'%(from)s' 상태에서 '%(to)s'(으)로 바꿀 수 없습니다.") % {"from": frm, "to": to})


def next_order_number(now: datetime | None = None) -> str:
    """'YYYYMMDD-0000015': the Seoul date and a sequence within that day, as in the manual."""
    return next_number(Order, ORDER_PREFIX, now)


def save_with_number(order: Order, now: datetime | None = None, attempts: int = ATTEMPTS) -> Order:
    """Save a new order under the next free number (retrying when two orders race for the same one)."""
    return save_numbered(order, prefix=ORDER_PREFIX, now=now, attempts=attempts)


def lock_for_sweep(order: Order, status: str) -> Order | None:
    """Inside a transaction, for a sweep several nodes may run at once: the order's row locked, unless another
    transaction holds it (left to that one) or it is no longer in `status` (it moved on meanwhile); else None."""
    locked = Order.objects.select_for_update(skip_locked=True, no_key=True).filter(pk=order.pk).first()
    return locked if locked is not None and locked.status == status else None


def order_set_status(*, order: Order, to_status: str, by=None, note: str = "",
                     now: datetime | None = None, from_status: str | None = None, also: dict | None = None) -> Order:
    """Move an order along ORDER_TRANSITIONS under a row lock and write the change row. `from_status`: the status
    the caller knows the order is in (it recorded it itself): the move is then one UPDATE by id guarded by that
    status, which takes the row's lock as it writes, instead of a locked read and a write; an order that is no
    longer in it is moved, or refused, the locked way. `also`: other columns of the order written with the move, in
    the same UPDATE (the placement's 실 결제금액, portal.orders.money.charged_with_the_move)."""
    now = now or timezone.now()
    changed_by = by if (by is not None and by.is_authenticated) else None
    with transaction.atomic():
        if from_status is not None and Order.transitions.allows(from_status, to_status):
            fields = {"status": to_status}
            if to_status == OrderStatus.PAID:
                fields["paid_at"] = Coalesce(F("paid_at"), Value(now, output_field=DateTimeField()))
            elif to_status == OrderStatus.AWAITING_DEPOSIT:
                fields["paid_at"] = None  # set back to unpaid: the deposit was not there after all
            fields.update(also or {})
            if Order.objects.filter(pk=order.pk, status=from_status).update(**fields):
                OrderStatusChange.objects.create(order=order, from_status=from_status, to_status=to_status,
                                                 changed_by=changed_by, changed_at=now, note=note)
                order.status = to_status
                if to_status == OrderStatus.PAID and order.paid_at is None:
                    order.paid_at = now
                elif to_status == OrderStatus.AWAITING_DEPOSIT:
                    order.paid_at = None
                return order
        locked = Order.objects.select_for_update(no_key=True).get(pk=order.pk)
        if not Order.transitions.allows(locked.status, to_status):
            raise TransitionNotAllowed(locked, to_status)
        from_status = locked.status
        locked.status = to_status
        fields = ["status"]
        if to_status == OrderStatus.PAID and locked.paid_at is None:
            locked.paid_at = now
            fields.append("paid_at")
        elif to_status == OrderStatus.AWAITING_DEPOSIT and locked.paid_at is not None:
            locked.paid_at = None  # set back to unpaid: the deposit was not there after all
            fields.append("paid_at")
        for name, value in (also or {}).items():
            setattr(locked, name, value)
            fields.append(name)
        locked.save(update_fields=fields)
        OrderStatusChange.objects.create(order=locked, from_status=from_status, to_status=to_status,
                                         changed_by=changed_by, changed_at=now, note=note)
    order.status, order.paid_at = locked.status, locked.paid_at
    return order
