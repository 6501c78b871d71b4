"""Which orders are past their retention period, and erasing their personal data one order at a time.

An order is due when nothing about it is open any more — its status is final (배송완료, 구매확정, 반송완료,
주문취소, 결제실패), no refund waits as 환불전, no buyer's request is open, no payment cancel or provider call is
pending — and its last event (the latest of its placement, payment, status changes, refunds, returns, exchanges,
buyer's requests, payment cancels, mileage calls and store-point entries) is older than its period: the contract's
and payment's (5 years), or the dispute's when the shop refused a buyer's request and that period is longer.

Erasing replaces the personal fields by ERASED — the order's, its refunds' and returns' account holder and number
and free text, its buyer's requests, the account a 현금환불 was paid to, a 현금영수증's 휴대폰번호 or 사업자번호 (its masked copy stays), the recipient in
the delivery invoice call —
in one transaction per order under the order's row lock, and writes the order's Erasure row; an order already erased, or no longer due when its turn comes, is passed by. Kept: every
amount, number, status and date, the order lines, payments and their cancels, the mileage ledger (transactions,
events, settlement lines) and the store-point ledger — what settlement and accounting need. A member's orders lose
the same fields as a guest's; the member's own account (회원정보) is not an order record and stays until the member
leaves. A guest's order also loses its password hash: 비회원 주문조회 no longer finds it.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import DateTimeField, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from mileage.models import MileageEvent, OutboxMessage, OutboxStatus
from mileage.services.erasure import outbox_erase_personal
from portal.accounts.models import StorePointEntry
from portal.aftersales.models import (
    BuyerRequest,
    BuyerRequestStatus,
    Exchange,
    Refund,
    RefundStatus,
    ReturnRequest,
)
from portal.orders import cash_receipts
from portal.orders.models import (
    CashReceipt,
    Order,
    OrderStatus,
    OrderStatusChange,
    Payment,
    PaymentCancel,
    PaymentCancelStatus,
)
from portal.orders.money import payment_cancels_erase_accounts

from .models import ERASED, Erasure
from .periods import Cutoffs, cutoffs

log = logging.getLogger(__name__)

FINAL_STATUSES = (OrderStatus.DELIVERED, OrderStatus.CONFIRMED, OrderStatus.RETURNED, OrderStatus.CANCELLED,
                  OrderStatus.PAYMENT_FAILED)

# The order's personal fields and what they become: a name, phone or address keeps the marker (the row still reads
# as an order someone placed); an optional field is emptied.
ORDER_FIELDS = {
    "orderer_name": ERASED, "orderer_phone": ERASED, "orderer_email": "", "recipient_name": ERASED,
    "recipient_phone": ERASED, "zipcode": "", "address": ERASED, "address_detail": "", "shipping_message": "",
    "depositor_name": ERASED, "guest_password_hash": "",
}
REFUND_ACCOUNT_FIELDS = ("account_no", "holder")  # the bank's name says nothing of the person and stays


def _latest(model, moment: str, path: str = "order"):
    """The latest `moment` of `model`'s rows of the outer order (a correlated subquery, NULL without rows)."""
    rows = model.objects.filter(**{path: OuterRef("pk")}).order_by().values(path).annotate(latest=Max(moment))
    return Subquery(rows.values("latest")[:1], output_field=DateTimeField())


def with_last_event(orders: QuerySet) -> QuerySet:
    """`last_event_at`: the latest moment anything happened to each order (its placement at the least)."""
    moments = [
        F("paid_at"),
        _latest(OrderStatusChange, "changed_at"),
        _latest(Payment, "created_at"), _latest(Payment, "approved_at"),
        _latest(PaymentCancel, "created_at", "payment__order"),
        _latest(CashReceipt, "created_at", "payment__order"),
        _latest(Refund, "created_at"), _latest(Refund, "completed_at"),
        _latest(ReturnRequest, "updated_at"),
        _latest(Exchange, "created_at"),
        _latest(BuyerRequest, "created_at"), _latest(BuyerRequest, "handled_at"),
        _latest(MileageEvent, "created_at", "transaction__order"),
        _latest(StorePointEntry, "created_at"),
    ]
    return orders.annotate(last_event_at=Greatest(F("placed_at"), *(Coalesce(m, F("placed_at")) for m in moments),
                                                  output_field=DateTimeField()))


def _open(model, condition: Q, path: str = "order") -> Exists:
    return Exists(model.objects.filter(condition, **{path: OuterRef("pk")}))


def due_orders(limits: Cutoffs) -> QuerySet:
    """The orders past their retention period and not erased yet, with `last_event_at` and `disputed`."""
    orders = (Order.objects.filter(status__in=FINAL_STATUSES, placed_at__lt=limits.latest, erasure__isnull=True)
              .exclude(_open(Refund, Q(status=RefundStatus.BEFORE)))
              .exclude(_open(BuyerRequest, Q(status=BuyerRequestStatus.OPEN)))
              .exclude(_open(PaymentCancel, Q(status=PaymentCancelStatus.PENDING), "payment__order"))
              .exclude(_open(OutboxMessage, Q(status=OutboxStatus.PENDING)))
              .annotate(disputed=_open(BuyerRequest, Q(status=BuyerRequestStatus.DISMISSED))))
    return (with_last_event(orders)
            .filter(Q(disputed=False, last_event_at__lt=limits.plain) | Q(disputed=True, last_event_at__lt=limits.disputed))
            .order_by("pk"))


@dataclass(frozen=True)
class DueOrder:
    pk: int
    number: str
    guest: bool
    last_event_at: datetime
    disputed: bool


def due(now: datetime | None = None) -> list[DueOrder]:
    """What a run at `now` would erase (the dry run's list), in id order."""
    rows = due_orders(cutoffs(now or timezone.now())).values_list("pk", "number", "member_id", "last_event_at",
                                                                   "disputed")
    return [DueOrder(pk=pk, number=number, guest=member_id is None, last_event_at=last, disputed=disputed)
            for pk, number, member_id, last, disputed in rows]


def order_erase_personal_data(*, order_id: int, now: datetime | None = None) -> Erasure | None:
    """Erase one order's personal data if it is still due at `now`; None when it was not (erased meanwhile, or
    something happened to it since the list was read)."""
    now = now or timezone.now()
    limits = cutoffs(now)
    with transaction.atomic():
        order = Order.objects.select_for_update(no_key=True).filter(pk=order_id).first()
        if order is None:
            return None
        still_due = due_orders(limits).filter(pk=order_id).values_list("last_event_at", "disputed").first()
        if still_due is None:
            return None
        last_event_at, disputed = still_due
        for name, value in ORDER_FIELDS.items():
            setattr(order, name, value)
        order.save(update_fields=list(ORDER_FIELDS))
        for model in (Refund, ReturnRequest):
            for name in REFUND_ACCOUNT_FIELDS:
                model.objects.filter(order_id=order_id).exclude(**{name: ""}).update(**{name: ERASED})
        ReturnRequest.objects.filter(order_id=order_id).exclude(reason="").update(reason=ERASED)
        BuyerRequest.objects.filter(order_id=order_id).update(reason=ERASED)
        BuyerRequest.objects.filter(order_id=order_id).exclude(dismiss_reason="").update(dismiss_reason=ERASED)
        payment_cancels_erase_accounts(order=order, marker=ERASED)
        cash_receipts.erase_identifiers(order=order, marker=ERASED)
        outbox_erase_personal(order_id=order_id, marker=ERASED)
        return Erasure.objects.create(
            order=order, guest=order.is_guest, last_event_at=last_event_at, erased_at=now,
            retention_months=limits.months_disputed if disputed else limits.months_plain)


@dataclass
class ErasureReport:
    erased: list[str] = field(default_factory=list)  # order numbers
    guests: int = 0
    members: int = 0


def erase_expired(*, now: datetime | None = None) -> ErasureReport:
    """Erase every order due at `now`, one order per transaction (a failure stops nothing already done)."""
    now = now or timezone.now()
    report = ErasureReport()
    for order in due(now):
        erasure = order_erase_personal_data(order_id=order.pk, now=now)
        if erasure is None:
            continue
        report.erased.append(order.number)
        if erasure.guest:
            report.guests += 1
        else:
            report.members += 1
    if report.erased:
        log.info("personal data erased: %d orders (%d guests', %d members')", len(report.erased), report.guests,
                 report.members)
    return report
