"""What the retention job must leave alone: every figure settlement and accounting read, and the ledgers."""

from mileage.models import MileageEvent, MileageStateChange, MileageTransaction, OutboxMessage, SettlementLine
from portal.accounts.models import Member, StorePointEntry
from portal.aftersales.models import Exchange, Refund
from portal.orders.models import (
    Order,
    OrderLine,
    OrderStatusChange,
    Payment,
    PaymentCancel,
    PaymentStateChange,
)

ORDER_FIGURES = ("number", "status", "payment_method", "member_id", "goods_won", "excluded_goods_won", "discount_won",
                 "shipping_won", "store_points_won", "earn_choice", "store_points_earn_won", "store_points_granted_won",
                 "mileage_use_won", "payable_won", "placed_at", "paid_at", "deposit_deadline", "invoice_no", "carrier",
                 "uses_mileage")
REFUND_FIGURES = ("number", "order_id", "reason", "status", "cash_won", "store_points_won", "mileage_won",
                  "shipping_deduction_won", "method", "bank", "provider_call", "created_at", "completed_at")
CANCEL_FIGURES = ("payment_id", "label", "refund_number", "amount_won", "status", "gateway_tid", "idempotency_key",
                  "created_at")
OUTBOX_FIGURES = ("kind", "order_id", "idempotency_key", "wire_key", "status", "attempts", "response")


def figures() -> dict:
    """Everything but the personal fields, row by row."""
    def rows(queryset, *fields):
        return list(queryset.order_by("pk").values(*fields))

    return {
        "orders": rows(Order.objects, *ORDER_FIGURES),
        "lines": rows(OrderLine.objects),
        "payments": rows(Payment.objects),
        "payment changes": rows(PaymentStateChange.objects),
        "cancels": rows(PaymentCancel.objects, *CANCEL_FIGURES),
        "refunds": rows(Refund.objects, *REFUND_FIGURES),
        "exchanges": rows(Exchange.objects),
        "status changes": rows(OrderStatusChange.objects),
        "members": rows(Member.objects),
        "store points": rows(StorePointEntry.objects),
        "mileage": rows(MileageTransaction.objects),
        "mileage events": rows(MileageEvent.objects),
        "mileage changes": rows(MileageStateChange.objects),
        "settlement": rows(SettlementLine.objects),
        "outbox": rows(OutboxMessage.objects, *OUTBOX_FIGURES),
    }
