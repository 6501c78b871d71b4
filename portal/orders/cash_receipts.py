"""The one writer of `CashReceipt` rows (현금영수증): issue one for a cash-like payment, retry a failed one with the
same idempotency key, and after a refund cancel the current receipt and issue the next for what is left.

A gateway that refuses or does not answer leaves the order as it is: the receipt is marked failed with the reason
the operator sees, and `retry` asks again with the same key (core.idempotency.action_key), so the gateway issues it
once. Each receipt has its own gateway payment id (`<order number>-CR<sequence>`), as PortOne keeps one receipt per
payment id."""

import logging

from django.db import transaction
from django.db.models import Sum

from core.idempotency import action_key
from core.state_machine import move, move_where

from .gateway import GatewayUnavailable, get_gateway
from .models import CashReceipt, CashReceiptStatus, Payment, PaymentCancelStatus, PaymentStatus
from .rules import cash_receipt_amount, cash_receipt_method, masked_identifier

log = logging.getLogger(__name__)


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


def request(*, payment: Payment, kind: str, identifier: str) -> CashReceipt | None:
    """The buyer's ask on the order form, kept as the payment's first receipt (발급요청) until the cash arrives:
    nothing is asked of the gateway yet. None when the buyer asked for none or the method takes none; call inside
    the transaction that records the payment, `identifier` already checked."""
    if not cash_receipt_method(payment.method) or kind not in ("personal", "corporate") or not identifier:
        return None
    amount = cash_receipt_amount(payable_won=payment.amount_won)
    if amount <= 0:
        return None
    return CashReceipt.objects.create(
        payment=payment, sequence=1, kind=kind, identifier=identifier, identifier_masked=masked_identifier(identifier),
        amount_won=amount, idempotency_key=action_key(payment.order.number, "cash-receipt", "1"))


def issue_requested(payment: Payment) -> CashReceipt | None:
    """The cash arrived (실시간계좌이체 captured, 무통장입금 입금확인): the requested receipt is asked of the gateway
    for the cash the payment keeps. Call outside the transaction that recorded the money: a refusal or a gateway
    that does not answer leaves the receipt failed with its reason (the order stands; 현금영수증 재발급 asks
    again). None when nothing was requested."""
    try:
        with transaction.atomic():
            requested = (CashReceipt.objects.select_for_update(of=("self",)).select_related("payment__order")
                         .filter(payment=payment, status=CashReceiptStatus.REQUESTED).order_by("sequence").first())
            if requested is None:
                return None
            amount = cash_receipt_amount(payable_won=requested.payment.amount_won,
                                         refunded_won=_refunded_won(requested.payment))
            if amount != requested.amount_won and amount > 0:
                requested.amount_won = amount
                requested.save(update_fields=["amount_won"])
            return _ask(requested)
    except Exception:  # the money is in: an unexpected answer must not fail the payment that carried it
        log.exception("cash receipt of payment %s: the gateway's answer could not be recorded", payment.pk)
        with transaction.atomic():
            receipt = CashReceipt.objects.select_for_update().filter(
                payment=payment, status=CashReceiptStatus.REQUESTED).first()
            if receipt is not None:
                receipt.failure_reason = "발급 중 오류"
                move(receipt, CashReceiptStatus.FAILED, fields=["failure_reason"])
            return receipt


def stale(payment: Payment) -> CashReceipt | None:
    """The issued receipt a refund left stating more cash than the payment keeps (its cancel was refused or not
    answered): the operator's 현금영수증 재발급 settles it."""
    current = payment.cash_receipts.filter(status=CashReceiptStatus.ISSUED).order_by("-sequence").first()
    if current is None:
        return None
    keeps = cash_receipt_amount(payable_won=payment.amount_won, refunded_won=_refunded_won(payment))
    return current if current.amount_won != keeps else None


def after_refund_recorded(payment: Payment) -> CashReceipt | None:
    """`after_refund` for the refund flow (환불완료), which must not be undone by the gateway: a cancel the gateway
    refuses or does not answer is recorded on the receipt (its reason shown on 주문상세정보, 현금영수증 재발급
    asks again) instead of raised. Nothing is asked while the issued receipt states the cash kept (a cancel not
    done, a card payment)."""
    if not cash_receipt_method(payment.method) or stale(payment) is None:
        return None
    try:
        return after_refund(payment)
    except GatewayUnavailable as exc:
        reason = f"환불 후 발급취소 실패 ({exc})"[:200]
    except Exception:
        log.exception("cash receipt of payment %s: cancelling after a refund failed", payment.pk)
        reason = "환불 후 발급취소 중 오류"
    current = stale(payment)
    if current is not None:
        CashReceipt.objects.filter(pk=current.pk, status=CashReceiptStatus.ISSUED).update(failure_reason=reason)
    return None


def settle(payment: Payment) -> CashReceipt | None:
    """현금영수증 재발급 (주문상세정보): a failed receipt asked again with its own key, the receipt of a deposit
    undone cancelled, or the receipt a refund left stale cancelled and reissued for what is left. None when there
    was nothing to do."""
    if payment.status == PaymentStatus.WAITING:
        return deposit_undone(payment) if payment.cash_receipts.filter(
            status=CashReceiptStatus.ISSUED).exists() else None
    failed = payment.cash_receipts.filter(status=CashReceiptStatus.FAILED).order_by("-sequence").first()
    if failed is not None:
        # asked again as first asked (its key, its amount: the gateway may have issued it unanswered); a refund
        # since then leaves it stating too much, so it is cancelled and reissued for what is left
        done = retry(failed)
        if done.status == CashReceiptStatus.ISSUED and stale(payment) is not None:
            return after_refund_recorded(payment) or done
        return done
    if stale(payment) is not None:
        return after_refund_recorded(payment)
    return None


def requested_void(payment: Payment) -> int:
    """The order was cancelled before its cash came (입금전 취소, 미입금 자동취소): the receipt the buyer asked for
    will never be issued. Inside the caller's transaction; how many changed (a card's payment asks nothing)."""
    if not cash_receipt_method(payment.method):
        return 0
    return move_where(CashReceipt.objects.filter(payment=payment, status=CashReceiptStatus.REQUESTED),
                      CashReceiptStatus.CANCELLED)


def erase_identifiers(*, order, marker: str) -> int:
    """The retention job (portal/retention): past the order's retention period a receipt's full 휴대폰번호 or
    사업자번호 becomes `marker`; the masked copy, amount, 승인번호 and status stay. Inside the caller's transaction;
    how many changed."""
    return (CashReceipt.objects.filter(payment__order=order).exclude(identifier=marker)
            .update(identifier=marker))


def retry(receipt: CashReceipt) -> CashReceipt:
    """Ask again for a failed receipt, with its own key: the gateway issues it at most once."""
    with transaction.atomic():
        locked = CashReceipt.objects.select_for_update(of=("self",)).select_related("payment__order").get(pk=receipt.pk)
        if locked.status != CashReceiptStatus.FAILED:
            return locked
        return _ask(locked)


def _cancel_issued(payment: Payment) -> CashReceipt | None:
    """The payment's issued receipt cancelled at the gateway (the cancelled row), None when none is issued. A
    gateway refusing leaves it issued and raises GatewayUnavailable."""
    current = payment.cash_receipts.filter(status=CashReceiptStatus.ISSUED).order_by("-sequence").first()
    if current is None:
        return None
    with transaction.atomic():
        locked = CashReceipt.objects.select_for_update(of=("self",)).select_related("payment__order").get(pk=current.pk)
        if locked.status != CashReceiptStatus.ISSUED:
            return None
        answer = get_gateway(payment.gateway).cancel_cash_receipt(
            payment_id=_gateway_payment_id(locked), approval_number=locked.approval_number,
            idempotency_key=action_key(locked.idempotency_key, "cancel"))
        if not answer.approved:
            raise GatewayUnavailable(answer.message)
        locked.failure_reason = ""
        move(locked, CashReceiptStatus.CANCELLED, fields=["failure_reason"])
    return locked


def after_refund(payment: Payment) -> CashReceipt | None:
    """A refund was paid out of `payment`: the issued receipt is cancelled at the gateway and, when cash is left,
    the next one issued for it (None after a whole refund). A gateway refusing the cancel leaves the receipt issued
    (nothing reissued) and raises GatewayUnavailable for the caller to retry."""
    cancelled = _cancel_issued(payment)
    if cancelled is None:
        return None
    return issue(payment=payment, kind=cancelled.kind, identifier=cancelled.identifier)


def deposit_undone(payment: Payment) -> CashReceipt | None:
    """미입금상태로 전환: the deposit was not there after all. The receipt issued for it is cancelled at the gateway
    (a failed one is dropped) and the buyer's ask kept as a new 발급요청 for the next 입금확인 (returned). Call after
    the transaction that moved the money back; a gateway refusing the cancel is recorded on the receipt (현금영수증
    재발급 asks again), nothing raised."""
    try:
        cancelled = _cancel_issued(payment)
    except GatewayUnavailable as exc:
        current = payment.cash_receipts.filter(status=CashReceiptStatus.ISSUED).order_by("-sequence").first()
        CashReceipt.objects.filter(pk=current.pk, status=CashReceiptStatus.ISSUED).update(
            failure_reason=f"미입금 전환 후 발급취소 실패 ({exc})"[:200])
        return None
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        failed = list(locked.cash_receipts.select_for_update().filter(status=CashReceiptStatus.FAILED))
        for receipt in failed:
            move(receipt, CashReceiptStatus.CANCELLED)
        dropped = cancelled or (failed[-1] if failed else None)
        if dropped is None or locked.cash_receipts.filter(status=CashReceiptStatus.REQUESTED).exists():
            return None
        sequence = locked.cash_receipts.order_by("-sequence").values_list("sequence", flat=True).first() + 1
        return CashReceipt.objects.create(
            payment=locked, sequence=sequence, kind=dropped.kind, identifier=dropped.identifier,
            identifier_masked=dropped.identifier_masked, amount_won=dropped.amount_won,
            idempotency_key=action_key(locked.order.number, "cash-receipt", str(sequence)))
