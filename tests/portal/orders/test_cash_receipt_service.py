"""The 현금영수증 record (portal.orders.cash_receipts): issued for the cash a payment keeps, cancelled and reissued
for the rest after a partial refund, cancelled after a whole one; a gateway refusal leaves it failed with the
reason, and a retry with the same key issues it."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from portal.orders import cash_receipts
from portal.orders.gateway import GatewayResult, PaymentGateway, get_gateway
from portal.orders.models import CashReceipt, CashReceiptStatus, GatewayEntry, PaymentMethod
from portal.orders.money import (
    payment_charged,
    payment_deposit_confirmed,
    payment_deposit_undone,
    payment_open,
    payment_void,
    refund_payout_prepare,
)
from tests.factories import ProductFactory, order_for

pytestmark = pytest.mark.django_db


def realtime_payment(amount_each=10_000, quantity=3, mileage=5_000):
    order = order_for([(ProductFactory(price_won=amount_each), quantity)], method=PaymentMethod.REALTIME_TRANSFER,
                      mileage_use_won=mileage)
    payment = payment_open(order=order, method=PaymentMethod.REALTIME_TRANSFER, amount_won=order.payable_won)
    charged = get_gateway().charge(method=PaymentMethod.REALTIME_TRANSFER, amount_won=order.payable_won)
    return payment_charged(order=order, tid=charged.tid, payment=payment)


def test_issued_for_the_cash_paid_then_reissued_after_a_partial_refund_and_cancelled_after_a_whole_one():
    payment = realtime_payment()  # 30,000 of goods, 5,000 of mileage: 25,000 of cash
    first = cash_receipts.issue(payment=payment, kind="personal", identifier="01012345678")
    assert first.status == CashReceiptStatus.ISSUED and first.amount_won == 25_000
    assert first.approval_number.startswith("TEST-CR-") and first.identifier_masked == "*******5678"

    with transaction.atomic():  # a partial refund of a transfer is paid by the shop (현금환불)
        refund_payout_prepare(order=payment.order, refund_number="C20261204-0000001", method="cash",
                              method_label="현금환불", amount_won=10_000, account="국민 123-45-6789 홍길동")
    second = cash_receipts.after_refund(payment)
    first.refresh_from_db()
    assert first.status == CashReceiptStatus.CANCELLED
    assert second.status == CashReceiptStatus.ISSUED and second.amount_won == 15_000 and second.sequence == 2
    assert GatewayEntry.objects.filter(kind="cashcncl", parent_tid=first.approval_number).count() == 1

    with transaction.atomic():  # the rest refunded too
        refund_payout_prepare(order=payment.order, refund_number="C20261204-0000002", method="cash",
                              method_label="현금환불", amount_won=15_000, account="국민 123-45-6789 홍길동")
    assert cash_receipts.after_refund(payment) is None
    assert set(CashReceipt.objects.values_list("status", flat=True)) == {CashReceiptStatus.CANCELLED}
    assert cash_receipts.after_refund(payment) is None  # asked again: nothing more


def test_no_receipt_for_a_card_payment():
    order = order_for([(ProductFactory(price_won=10_000), 1)], method=PaymentMethod.CARD)
    payment = payment_open(order=order, method=PaymentMethod.CARD, amount_won=order.payable_won)
    assert cash_receipts.issue(payment=payment, kind="personal", identifier="01012345678") is None
    assert not CashReceipt.objects.exists()


def test_a_refusal_is_kept_with_its_reason_and_a_retry_issues_it_once(portone):
    """PortOne (the emulator over HTTP) refuses: a receipt was already issued for that payment id elsewhere."""
    order = order_for([(ProductFactory(price_won=12_000), 1)], method=PaymentMethod.BANK_TRANSFER)
    payment = payment_open(order=order, method=PaymentMethod.BANK_TRANSFER, amount_won=order.payable_won)
    gateway = get_gateway()
    taken = gateway.issue_cash_receipt(payment_id=f"{order.number}-CR1", amount_won=1_000, kind="personal",
                                       identifier="01099998888", idempotency_key="elsewhere")
    assert taken.approved
    receipt = cash_receipts.issue(payment=payment, kind="corporate", identifier="2208162517")
    assert receipt.status == CashReceiptStatus.FAILED and "이미 발급" in receipt.failure_reason
    assert order.status  # the order stands

    out = StringIO()
    call_command("retry_cash_receipts", order=order.number, stdout=out)  # refused again: kept failed
    assert "still failed" in out.getvalue()
    gateway.client.cash_receipt.cancel_cash_receipt_by_payment_id(payment_id=f"{order.number}-CR1")
    call_command("retry_cash_receipts", stdout=out)
    assert "issued" in out.getvalue().splitlines()[-1]
    retried = CashReceipt.objects.get(pk=receipt.pk)
    assert retried.status == CashReceiptStatus.ISSUED and retried.approval_number and not retried.failure_reason
    assert retried.idempotency_key == receipt.idempotency_key
    assert cash_receipts.retry(retried).approval_number == retried.approval_number  # issued: asked nothing again


def bank_payment_asking(kind="personal", identifier="01098765432", amount=12_000):
    order = order_for([(ProductFactory(price_won=amount), 1)], method=PaymentMethod.BANK_TRANSFER)
    payment = payment_open(order=order, method=PaymentMethod.BANK_TRANSFER, amount_won=order.payable_won)
    with transaction.atomic():
        cash_receipts.request(payment=payment, kind=kind, identifier=identifier)
    return payment


def test_a_request_waits_for_the_cash_and_is_issued_once_it_is_in():
    payment = bank_payment_asking()
    [asked] = CashReceipt.objects.all()
    assert asked.status == CashReceiptStatus.REQUESTED and asked.sequence == 1 and asked.amount_won == 12_000
    assert not GatewayEntry.objects.filter(kind="cashrcpt").exists()
    issued = cash_receipts.issue_requested(payment)
    assert issued.pk == asked.pk and issued.status == CashReceiptStatus.ISSUED and issued.approval_number
    assert cash_receipts.issue_requested(payment) is None  # a second 입금확인 asks nothing
    assert GatewayEntry.objects.filter(kind="cashrcpt").count() == 1


def test_a_card_payment_or_none_asked_records_nothing():
    order = order_for([(ProductFactory(price_won=10_000), 1)], method=PaymentMethod.CARD)
    card = payment_open(order=order, method=PaymentMethod.CARD, amount_won=order.payable_won)
    assert cash_receipts.request(payment=card, kind="personal", identifier="01012345678") is None
    bank_payment_asking(kind="none", identifier="")
    assert not CashReceipt.objects.exists()


def test_an_unexpected_gateway_error_marks_the_receipt_failed_and_raises_nothing(monkeypatch):
    payment = bank_payment_asking()

    def broken(self, **kwargs):
        raise RuntimeError("connection reset")

    monkeypatch.setattr(PaymentGateway, "issue_cash_receipt", broken)
    failed = cash_receipts.issue_requested(payment)
    assert failed.status == CashReceiptStatus.FAILED and failed.failure_reason


def test_a_voided_payment_cancels_the_request_without_asking_the_gateway():
    payment = bank_payment_asking()
    with transaction.atomic():
        payment_void(order=payment.order, note="입금전 취소")
    assert CashReceipt.objects.get().status == CashReceiptStatus.CANCELLED
    assert cash_receipts.issue_requested(payment) is None
    assert not GatewayEntry.objects.filter(kind="cashrcpt").exists()


def test_a_refused_cancel_after_a_refund_is_recorded_and_settle_finishes_it(monkeypatch):
    payment = realtime_payment()  # 25,000 of cash
    first = cash_receipts.issue(payment=payment, kind="personal", identifier="01012345678")
    with transaction.atomic():
        refund_payout_prepare(order=payment.order, refund_number="C20261204-0000009", method="cash",
                              method_label="현금환불", amount_won=10_000, account="국민 123-45-6789 홍길동")
    monkeypatch.setattr(PaymentGateway, "cancel_cash_receipt",
                        lambda self, **kwargs: GatewayResult(False, "", "취소 거절"))
    assert cash_receipts.after_refund_recorded(payment) is None  # raises nothing: the refund stands
    first.refresh_from_db()
    assert first.status == CashReceiptStatus.ISSUED and "취소 거절" in first.failure_reason and first.awaits_settling
    assert cash_receipts.stale(payment) == first
    monkeypatch.undo()
    second = cash_receipts.settle(payment)
    first.refresh_from_db()
    assert first.status == CashReceiptStatus.CANCELLED and not first.failure_reason
    assert second.status == CashReceiptStatus.ISSUED and second.amount_won == 15_000
    assert cash_receipts.stale(payment) is None and cash_receipts.settle(payment) is None


def test_a_deposit_undone_whose_cancel_is_refused_is_recorded_and_settle_finishes_it(monkeypatch):
    payment = bank_payment_asking()
    with transaction.atomic():
        payment_deposit_confirmed(order=payment.order)
    issued = cash_receipts.issue_requested(payment)
    with transaction.atomic():
        payment_deposit_undone(order=payment.order)
    payment.refresh_from_db()
    monkeypatch.setattr(PaymentGateway, "cancel_cash_receipt",
                        lambda self, **kwargs: GatewayResult(False, "", "취소 거절"))
    assert cash_receipts.deposit_undone(payment) is None
    issued.refresh_from_db()
    assert issued.status == CashReceiptStatus.ISSUED and "취소 거절" in issued.failure_reason and issued.awaits_settling
    monkeypatch.undo()
    waiting = cash_receipts.settle(payment)
    issued.refresh_from_db()
    assert issued.status == CashReceiptStatus.CANCELLED
    assert waiting.status == CashReceiptStatus.REQUESTED and waiting.sequence == 2
    assert cash_receipts.settle(payment) is None
