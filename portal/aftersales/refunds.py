"""The refund queue's 환불완료 (환불관리, POLICY L3, L4): the store points go back to the member and the provider
is told the mileage outcome (cancel, or re-approval for a partial refund), decided by mileage.policy.refund_plan."""

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mileage.models import MileageSettings
from mileage.policy import refund_plan
from mileage.policy.refund import CANCEL, REPAYMENT
from mileage.services.transactions import (
    live_mileage,
    mileage_cancel,
    mileage_repayment_request,
    payment_request,
)
from portal.orders.models import Order, OrderStatus, Payment, PaymentStatus
from portal.orders.services import order_set_status

from .common import lock_order, return_points
from .models import ProviderCall, Refund, RefundReason, RefundStatus
from .selectors import remaining_amounts


def _tell_provider(order: Order, refund: Refund, by) -> None:
    """The refund's mileage outcome, decided now by mileage.policy.refund_plan, sent through the outbox."""
    mileage = live_mileage(order)
    if mileage is None or refund.reason == RefundReason.EXCHANGE:  # an exchange re-approved when it was made
        return
    remaining = remaining_amounts(order)
    plan = refund_plan(used_won=mileage.use_won, returned_before_won=mileage.returned_won,
                       mileage_back_won=refund.mileage_won, remaining=remaining,
                       original_rate_x10=mileage.total_rate_x10, rule=MileageSettings.load().earn_base_rule)
    if plan.call == CANCEL:
        mileage_cancel(order=order, key_suffix=f":{refund.number}", by=by)
    elif plan.call == REPAYMENT:
        lines = [] if remaining is None else list(order.lines.all())
        request = payment_request(order, mileage, order_amount_won=plan.order_amount_after_won,
                                  earn_base_won=plan.earn_base_after_won, use_won=plan.use_after_won, lines=lines,
                                  with_req_tx_id=False)
        mileage_repayment_request(order=order, request=request, key=f"repayment:{refund.number}", by=by)
    refund.provider_call = {CANCEL: ProviderCall.CANCEL, REPAYMENT: ProviderCall.REPAYMENT}.get(plan.call,
                                                                                               ProviderCall.NONE)
    refund.save(update_fields=["provider_call"])


def refund_complete(*, refund: Refund, by, now: datetime | None = None) -> bool:
    """환불완료: returns the store points and tells the provider (cancel, or re-approval for a partial refund).
    Pressed twice or by two operators at once, it applies exactly once: returns False the second time."""
    now = now or timezone.now()
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status == RefundStatus.DONE:
            return False
        order = lock_order(refund.order)
        refund.status, refund.completed_by, refund.completed_at = RefundStatus.DONE, by, now
        refund.save(update_fields=["status", "completed_by", "completed_at"])
        return_points(order, refund.store_points_won, f"{refund.number}:points", by)
        if order.status == OrderStatus.CANCELLED:
            Payment.objects.filter(order=order, status=PaymentStatus.APPROVED).update(status=PaymentStatus.CANCELLED)
        _tell_provider(order, refund, by)
        if order.status == OrderStatus.RETURNED and order.lines.filter(returned_quantity__lt=F("quantity")).exists():
            order_set_status(order=order, to_status=OrderStatus.DELIVERED, by=by, note="부분반품 환불완료", now=now)
    return True
