"""현금영수증: the buyer's identifier checked on the order form, the TEST gateway's issue and cancel."""

import pytest

from portal.orders.gateway import get_gateway
from portal.orders.rules import business_number_valid, cash_receipt_identifier, masked_identifier


@pytest.mark.parametrize(("digits", "ok"), [("2208162517", True), ("1248100998", True), ("2208162518", False),
                                           ("1248100990", False), ("220816251", False), ("22081625170", False),
                                           ("220816251a", False), ("２２０８１６２５１７", False)])
def test_business_number_checksum(digits, ok):
    assert business_number_valid(digits) is ok


@pytest.mark.parametrize(("kind", "raw", "digits"), [
    ("none", "", ""), ("none", "anything", ""),
    ("personal", "010-1234-5678", "01012345678"), ("personal", "011 123 4567", "0111234567"),
    ("corporate", "220-81-62517", "2208162517")])
def test_valid_identifiers(kind, raw, digits):
    assert cash_receipt_identifier(kind, raw) == (digits, None)


@pytest.mark.parametrize(("kind", "raw"), [
    ("personal", ""), ("personal", "02-123-4567"), ("personal", "010-1234-567"), ("personal", "010-12345-67890"),
    ("personal", "０１０１２３４５６７８"), ("corporate", "220-81-62518"), ("corporate", ""), ("corporate", "01012345678"),
    ("gift", "010-1234-5678"), ("", "")])
def test_bad_identifiers_have_a_message(kind, raw):
    digits, error = cash_receipt_identifier(kind, raw)
    assert digits == "" and error


def test_masked_identifier_shows_only_the_last_four():
    assert masked_identifier("01012345678") == "*******5678"
    assert masked_identifier("2208162517") == "******2517"
    assert masked_identifier("123") == "***"


@pytest.mark.django_db
def test_test_gateway_issues_once_per_key_and_cancels_once():
    gateway = get_gateway()
    issue = dict(payment_id="20261204-0000001", amount_won=12_500, kind="personal", identifier="01012345678",
                 idempotency_key="20261204-0000001:cash-receipt:1")
    first = gateway.issue_cash_receipt(**issue)
    assert first.approved and first.tid.startswith("TEST-CR-")
    assert gateway.issue_cash_receipt(**issue) == first  # asked again: the first 승인번호, nothing issued twice
    other = gateway.issue_cash_receipt(**{**issue, "amount_won": 9_000})  # same key, other amount: refused
    assert not other.approved
    cancel = gateway.cancel_cash_receipt(payment_id="20261204-0000001", approval_number=first.tid, idempotency_key="20261204-0000001:cash-receipt:1:cancel")
    assert cancel.approved
    again = gateway.cancel_cash_receipt(payment_id="20261204-0000001", approval_number=first.tid, idempotency_key="other-key:cancel")
    assert again == cancel  # cancelled once, whatever the key
    assert not gateway.cancel_cash_receipt(payment_id="20261204-0000001", approval_number="TEST-CR-NOPE", idempotency_key="x:cancel").approved
    with pytest.raises(ValueError):
        gateway.issue_cash_receipt(**{**issue, "amount_won": 0, "idempotency_key": "y:cash-receipt"})


def test_portone_issues_through_the_sdk_once_per_payment_and_cancels(portone):
    """The real SDK's CashReceiptClient over HTTP against the emulator."""
    import uuid

    gateway = get_gateway()
    assert gateway.name == "PortOne"
    payment_id = f"cr-{uuid.uuid4().hex[:12]}"
    issued = gateway.issue_cash_receipt(payment_id=payment_id, amount_won=12_500, kind="corporate",
                                        identifier="2208162517", idempotency_key=f"{payment_id}:cash-receipt")
    assert issued.approved and issued.tid.isdigit()
    again = gateway.issue_cash_receipt(payment_id=payment_id, amount_won=12_500, kind="corporate",
                                       identifier="2208162517", idempotency_key=f"{payment_id}:cash-receipt")
    assert not again.approved and again.message  # one receipt per payment at PortOne
    cancel = dict(payment_id=payment_id, approval_number=issued.tid, idempotency_key=f"{payment_id}:cash-receipt:cancel")
    assert gateway.cancel_cash_receipt(**cancel) == gateway.cancel_cash_receipt(**cancel)  # a repeat: the same answer
    assert gateway.cancel_cash_receipt(**cancel).approved
    # cancelled, the payment may be issued a receipt again (a partial refund's reissue uses a new payment id anyway)
    assert gateway.issue_cash_receipt(payment_id=payment_id, amount_won=8_000, kind="personal",
                                      identifier="01012345678", idempotency_key=f"{payment_id}:cash-receipt:2").approved


def test_the_receipt_states_the_cash_paid_shipping_in_mileage_and_store_points_out():
    from portal.orders.checkout import Quote
    from portal.orders.models import PaymentMethod
    from portal.orders.rules import cash_receipt_amount, cash_receipt_method

    priced = Quote(lines=[], goods_won=30_000, excluded_goods_won=0, shipping_won=3_000, store_points_won=2_000,
                   max_use_won=5_000, mileage_use_won=5_000)  # what the checkout records as Order.payable_won
    assert cash_receipt_amount(payable_won=priced.payable_won) == 26_000  # 30,000 + 3,000 − 2,000 − 5,000
    assert cash_receipt_amount(payable_won=priced.payable_won, refunded_won=6_000) == 20_000  # reissued for the rest
    assert cash_receipt_amount(payable_won=priced.payable_won, refunded_won=26_000) == 0  # a whole refund: none
    with pytest.raises(ValueError):
        cash_receipt_amount(payable_won=1_000, refunded_won=-1)
    assert cash_receipt_method(PaymentMethod.BANK_TRANSFER) and cash_receipt_method(PaymentMethod.REALTIME_TRANSFER)
    assert not cash_receipt_method(PaymentMethod.CARD) and not cash_receipt_method(PaymentMethod.PHONE)
