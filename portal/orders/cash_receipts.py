"""The one writer of `CashReceipt` rows (현금영수증): issue one for a cash-like payment, retry a failed one with the
same idempotency key, and after a refund cancel the current receipt and issue the next for what is left.

A gateway that refuses or does not answer leaves the order as it is: the receipt is marked failed with the reason
the operator sees, and `retry` asks again with the same key (core.idempotency.action_key), so the gateway issues it
once. Each receipt has its own gateway payment id (`<order number>-CR<sequence>`), as PortOne keeps one receipt per
payment id."""

from django.db import transaction
from django.db.models import Sum

from core.idempotency import action_key
from core.state_machine import move

from .gateway import GatewayUnavailable, get_gateway
from .models import CashReceipt, CashReceiptStatus, Payment, PaymentCancelStatus
from .rules import cash_receipt_amount, cash_receipt_method, masked_identifier


def _refunded_won(payment: Payment) -> int:
    return payment.cancels.filter(status=PaymentCancelStatus.DONE).aggregate(s=Sum("amount_won"))["s"] or 0


def _gateway_payment_id(receipt: CashReceipt) -> str:
    return f"{receipt.payment.order.number}-CR{receipt.sequence}"


def _ask(receipt: CashReceipt) -> CashReceipt:
    """Ask the gateway for `receipt` (REQUESTED or FAILED, locked by the caller) and record the answer."""
    try:
        answer = get_gateway(receipt.payment.gateway).issue_cash_receipt(
            payment_id=_gateway_payment_id(receipt), amount_won=receipt.amount_won, kind=receipt.kind,
            identifier=receipt.identifier, idempotency_key=receipt.idempotency_key)
    except GatewayUnavailable as exc:
        receipt.failure_reason = f"결제대행사 응답 없음 ({exc})"[:200]
        move(receipt, CashReceiptStatus.FAILED, fields=["failure_reason"])
        return receipt
    if answer.approved:
        receipt.approval_number, receipt.failure_reason = answer.tid, ""
        move(receipt, CashReceiptStatus.ISSUED, fields=["approval_number", "failure_reason"])
    else:
        receipt.failure_reason = answer.message[:200]
        move(receipt, CashReceiptStatus.FAILED, fields=["failure_reason"])
    return receipt


def issue(*, payment: Payment, kind: str, identifier: str) -> CashReceipt | None:
    """The payment's next receipt for the cash it keeps (None when nothing is left or the method takes none);
    `identifier` already checked (portal.orders.rules.cash_receipt_identifier)."""
    if not cash_receipt_method(payment.method) or kind not in ("personal", "corporate") or not identifier:
        return None
    amount = cash_receipt_amount(payable_won=payment.amount_won, refunded_won=_refunded_won(payment))
    if amount <= 0:
        return None
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        sequence = (locked.cash_receipts.order_by("-sequence").values_list("sequence", flat=True).first() or 0) + 1
        receipt = CashReceipt.objects.create(
            payment=locked, sequence=sequence, kind=kind, identifier=identifier,
            identifier_masked=masked_identifier(identifier), amount_won=amount,
            idempotency_key=action_key(locked.order.number, "cash-receipt", str(sequence)))
        return _ask(receipt)


def retry(receipt: CashReceipt) -> CashReceipt:
    """Ask again for a failed receipt, with its own key: the gateway issues it at most once."""
    with transaction.atomic():
        locked = CashReceipt.objects.select_for_update().select_related("payment__order").get(pk=receipt.pk)
        if locked.status != CashReceiptStatus.FAILED:
            return locked
        return _ask(locked)


def after_refund(payment: Payment) -> CashReceipt | None:
    """A refund was paid out of `payment`: the issued receipt is cancelled at the gateway and, when cash is left,
    the next one issued for it (None after a whole refund). A gateway refusing the cancel leaves the receipt issued
    (nothing reissued) and raises GatewayUnavailable for the caller to retry."""
    current = payment.cash_receipts.filter(status=CashReceiptStatus.ISSUED).order_by("-sequence").first()
    if current is None:
        return None
    with transaction.atomic():
        locked = CashReceipt.objects.select_for_update().select_related("payment__order").get(pk=current.pk)
        if locked.status != CashReceiptStatus.ISSUED:
            return None
        answer = get_gateway(payment.gateway).cancel_cash_receipt(
            payment_id=_gateway_payment_id(locked), approval_number=locked.approval_number,
            idempotency_key=action_key(locked.idempotency_key, "cancel"))
        if not answer.approved:
            raise GatewayUnavailable(answer.message)
        move(locked, CashReceiptStatus.CANCELLED)
    return issue(payment=payment, kind=locked.kind, identifier=locked.identifier)
