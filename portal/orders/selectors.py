"""Reads of orders that pages repeat (HackSoft-style selectors beside the services): everything 주문상세정보 shows in
one call, and what every buyer statement shows besides the lines (M2)."""

from dataclasses import dataclass, field, fields

from wagtail.models import Revision

from mileage.models import MileageEvent, MileageTransaction, OutboxMessage
from mileage.selectors import mileage_for_order

from .models import CashReceipt, Order, OrderLine, OrderStatusChange, Payment


@dataclass(frozen=True)
class OrderDetail:
    order: Order
    mileage: MileageTransaction | None
    lines: list[OrderLine]
    payment: Payment | None  # the first payment (the one the order was placed with)
    history: list[OrderStatusChange]
    events: list[MileageEvent]
    outbox: list[OutboxMessage]
    refunds: list
    returns: list
    exchanges: list
    disclosure_revision_id: int | None  # the Wagtail revision of the rules shown at placement, if it still exists
    cash_receipts: list[CashReceipt] = field(default_factory=list)

    def as_context(self) -> dict:
        return {field.name: getattr(self, field.name) for field in fields(self)}


def order_detail(number: str) -> OrderDetail | None:
    """주문상세정보: the order with its lines, payment, status history, mileage transaction and its events, the
    provider calls still waiting, and its refunds, returns and exchanges; None when no order has that number."""
    order = Order.objects.select_related("member__user").filter(number=number).first()
    if order is None:
        return None
    revision_id = order.disclosure_revision_id
    if revision_id:
        revision_id = revision_id if Revision.objects.filter(pk=revision_id).exists() else None
    return OrderDetail(
        order=order, mileage=mileage_for_order(order), lines=list(order.lines.all()),
        payment=order.payments.first(), history=list(order.status_changes.select_related("changed_by")),
        events=list(MileageEvent.objects.filter(transaction__order=order).select_related("created_by")),
        outbox=list(OutboxMessage.objects.filter(order=order)),
        refunds=list(order.refunds.all()), returns=list(order.returns.select_related("refund")),
        exchanges=list(order.exchanges.select_related("created_by")), disclosure_revision_id=revision_id or None,
        cash_receipts=cash_receipts_of(order))


def order_statement(order: Order) -> dict:
    """What every statement shows besides the lines (M2): the mileage used and the expected or granted earn, and the
    payment."""
    return {"mileage": mileage_for_order(order), "payment": order.payments.first(),
            "cash_receipts": cash_receipts_of(order)}


def cash_receipts_of(order: Order) -> list[CashReceipt]:
    """The order's 현금영수증, oldest first (a refund cancels one and issues the next)."""
    return list(CashReceipt.objects.filter(payment__order=order).order_by("payment_id", "sequence"))
