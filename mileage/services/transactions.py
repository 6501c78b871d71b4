"""Writes on an order's mileage: the verified popup choice, the approval and every later provider call.

Each function changes the portal's state and records the provider call in the outbox in ONE database
transaction; the call itself goes out after commit (mileage.provider.outbox).
"""

from django.db import transaction

from mileage import wire
from mileage.models import MileageSettings, MileageTransaction, TransactionState
from mileage.policy import OrderAmounts, earn_amount, earn_base
from mileage.provider.client import Invoice, PaymentRequest
from mileage.provider.outbox import enqueue_call
from portal.orders.models import Order, PaymentMethod


def order_amounts(order: Order) -> OrderAmounts:
    return OrderAmounts(goods_won=order.goods_won, excluded_goods_won=order.excluded_goods_won,
                        discount_won=order.discount_won, store_points_won=order.store_points_won,
                        shipping_won=order.shipping_won, mileage_use_won=order.mileage_use_won)


def mileage_transaction_create(*, order: Order, done: wire.DoneResult, inflow_token: str = "") -> MileageTransaction:
    """Store the buyer's verified popup choice for an order (inside the order's creating transaction)."""
    base = earn_base(order_amounts(order), MileageSettings.load().earn_base_rule)
    return MileageTransaction.objects.create(
        order=order, req_tx_id=done.req_tx_id, state=TransactionState.SELECTED,
        base_rate_x10=done.base_rate_x10, add_rate_x10=done.add_rate_x10, use_won=done.mileage_use_won,
        earn_base_won=base, original_earn_base_won=base,
        expected_earn_won=earn_amount(base, done.base_rate_x10 + done.add_rate_x10), inflow_token=inflow_token)


def payment_request(order: Order, mileage: MileageTransaction, *, order_amount_won: int | None = None,
                    earn_base_won: int | None = None, use_won: int | None = None, lines=None,
                    with_req_tx_id: bool = True) -> PaymentRequest:
    lines = list(order.lines.all()) if lines is None else lines
    items = [wire.WireItem(line.product_code, line.product_name, line.unit_price_won,
                           line.quantity - line.returned_quantity,
                           line.unit_price_won * (line.quantity - line.returned_quantity), line.category_path)
             for line in lines if line.quantity - line.returned_quantity > 0]
    first = items[0].name if items else order.number
    name = first if len(items) <= 1 else f"{first} 외 {len(items) - 1}건"
    return PaymentRequest(
        order_no=order.number, product_name=name, qty=sum(i.qty for i in items) or 1,
        order_amount_won=order.goods_won + order.shipping_won if order_amount_won is None else order_amount_won,
        amount_won=mileage.earn_base_won if earn_base_won is None else earn_base_won,
        mileage_use_won=mileage.use_remaining_won if use_won is None else use_won,
        is_member=order.member_id is not None, is_confirmed=order.payment_method != PaymentMethod.BANK_TRANSFER,
        items=items, req_tx_id=mileage.req_tx_id if with_req_tx_id else "")


def _lock(order: Order) -> MileageTransaction:
    return MileageTransaction.objects.select_for_update().get(order=order)


def mileage_approval_request(*, order: Order, by=None) -> MileageTransaction:
    """L1: approve the order at the provider (after commit)."""
    with transaction.atomic():
        mileage = _lock(order)
        if mileage.state != TransactionState.SELECTED:
            return mileage
        mileage.state = TransactionState.APPROVING
        mileage.save(update_fields=["state", "updated_at"])
        enqueue_call(kind="approve", mileage=mileage, idempotency_key=f"{order.number}:approve",
                     payload={"request": payment_request(order, mileage).to_json(), "by": _uid(by)})
    return mileage


def mileage_call(*, order: Order, kind: str, key_suffix: str = "", by=None) -> MileageTransaction:
    """stated, cancel_stated, cancel, confirmed or abort of the order's transaction (after commit)."""
    with transaction.atomic():
        mileage = _lock(order)
        enqueue_call(kind=kind, mileage=mileage, idempotency_key=f"{order.number}:{kind}{key_suffix}",
                     payload={"by": _uid(by), "tx_id_before": mileage.tx_id})
    return mileage


def mileage_repayment_request(*, order: Order, request: PaymentRequest, key: str, by=None) -> MileageTransaction:
    """Re-approval with new totals (partial refund, return, exchange); the new txId arrives with the answer."""
    with transaction.atomic():
        mileage = _lock(order)
        mileage.earn_base_won = request.amount_won
        mileage.returned_won = mileage.use_won - request.mileage_use_won
        mileage.save(update_fields=["earn_base_won", "returned_won", "updated_at"])
        enqueue_call(kind="repayment", mileage=mileage, idempotency_key=f"{order.number}:{key}",
                     payload={"request": request.to_json(), "by": _uid(by), "tx_id_before": mileage.tx_id})
    return mileage


def mileage_invoice_send(*, order: Order, invoice: Invoice, by=None) -> MileageTransaction:
    with transaction.atomic():
        mileage = _lock(order)
        enqueue_call(kind="invoice", mileage=mileage, idempotency_key=f"{order.number}:invoice:{invoice.invoice_no}",
                     payload={"invoice": invoice.__dict__, "by": _uid(by), "tx_id_before": mileage.tx_id})
    return mileage


def _uid(user) -> int | None:
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None
