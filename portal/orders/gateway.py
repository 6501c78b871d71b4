"""The payment gateway interface, reached only through `get_gateway()`, and its TEST adapter.

`Gateway` is what the shop needs of a Korean PG: prepare (pre-register the amount the window may take), charge
(confirm — capture — an authorised payment for exactly the payable amount), verify (read a payment back and check
it is ours, in KRW, for the amount, in the expected status) and cancel all or part of a charge, idempotent by key,
never beyond what is left. Two adapters (docs/adr/0017-portone-gateway.md):
- `test` (default; `PaymentGateway` below) — approves card-like payments on this machine. NOT A REAL PAYMENT
  PROVIDER. Every transaction id it issues starts with "TEST-", and the order screens show the gateway's name
  "TEST-PG (테스트 결제)". A card number ending in "0002" is declined, so a failed payment can be tried by hand.
  It keeps its own books (`GatewayEntry`) the way a real PG does: a cancel repeated with the same idempotency key
  is answered with the first answer and applied once, and no cancel goes beyond what is left of the charge.
- `portone` (`portal.orders.portone`, chosen when PORTONE_API_SECRET is set) — PortOne V2 through
  `portone-server-sdk`.
Only portal.orders.money and the checkout call it (import-linter keeps it so).
"""

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, Sum
from django.utils.translation import gettext as _

from .gateway_interface import PORTONE_NAME, Gateway, GatewayResult, GatewayUnavailable, VirtualAccount
from .models import TEST_GATEWAY_NAME, GatewayEntry, PaymentMethod

__all__ = ["GATEWAY_NAME", "Gateway", "GatewayResult", "GatewayUnavailable", "PaymentGateway", "TestGateway",
           "VirtualAccount", "get_gateway"]

GATEWAY_NAME = TEST_GATEWAY_NAME
DECLINING_SUFFIX = "0002"
CASH_RECEIPT = "cashrcpt"  # GatewayEntry.kind of an issued 현금영수증 (tid: its 승인번호)
CASH_RECEIPT_CANCEL = "cashcncl"
VIRTUAL_ACCOUNT = "vbank"  # GatewayEntry.kind of an issued 가상계좌 (parent_tid: the payment id)
VIRTUAL_ACCOUNT_CLOSE = "vbclose"
TEST_BANK = "TEST은행"


class PaymentGateway(Gateway):
    """The TEST adapter: charges and cancels in its own books on this machine."""

    name = GATEWAY_NAME

    def charge(self, *, method: str, amount_won: int, card_number: str = "", payment_id: str = "",
               payment_token: str = "") -> GatewayResult:
        if method in (PaymentMethod.BANK_TRANSFER, PaymentMethod.VIRTUAL_ACCOUNT):
            raise ValueError("transfers to an account wait for the deposit; they are not charged")
        if amount_won < 0:
            raise ValueError("amount must not be negative")
        digits = "".join(ch for ch in card_number if ch.isdigit())
        if method == PaymentMethod.CARD and digits.endswith(DECLINING_SUFFIX):
            return GatewayResult(False, "", _("카드 승인이 거절되었습니다."))
        tid = f"TEST-{secrets.token_hex(8).upper()}"
        if amount_won:
            GatewayEntry.objects.create(tid=tid, kind="charge", amount_won=amount_won)
        return GatewayResult(True, tid, "TEST-PG 승인")

    def verify(self, *, tid: str, amount_won: int) -> GatewayResult:
        charge = GatewayEntry.objects.filter(tid=tid, kind="charge").first()
        if charge is None or charge.amount_won != amount_won:
            return GatewayResult(False, tid, _("결제대행사의 결제 금액이 주문 금액과 다릅니다."))
        return GatewayResult(True, tid, "TEST-PG 확인")

    def cancel(self, *, tid: str, amount_won: int, partial: bool, idempotency_key: str) -> GatewayResult:
        if not tid or amount_won <= 0 or not idempotency_key:
            raise ValueError("a cancel needs the charge's tid, a positive amount and an idempotency key")
        try:
            with transaction.atomic():
                # the charge locked first: its cancels, read after the lock, are all the ones committed before
                charge = GatewayEntry.objects.select_for_update().filter(tid=tid, kind="charge").first()
                # one read: this key's cancel (if asked before) and what the charge's cancels sum to
                seen = GatewayEntry.objects.filter(Q(idempotency_key=idempotency_key) | Q(parent_tid=tid, kind="cancel"))
                book = seen.aggregate(
                    cancelled=Sum("amount_won", filter=Q(parent_tid=tid, kind="cancel")),
                    done_tid=Max("tid", filter=Q(idempotency_key=idempotency_key)),
                    done_parent=Max("parent_tid", filter=Q(idempotency_key=idempotency_key)),
                    done_amount=Max("amount_won", filter=Q(idempotency_key=idempotency_key)))
                if book["done_tid"] is not None:  # the same cancel asked again: the first answer, nothing applied twice
                    return GatewayResult(book["done_parent"] == tid and book["done_amount"] == amount_won,
                                         book["done_tid"], "TEST-PG 취소")
                if charge is None:
                    return GatewayResult(False, "", _("결제대행사에 없는 거래입니다."))
                cancelled = book["cancelled"] or 0
                if amount_won > charge.amount_won - cancelled:
                    return GatewayResult(False, "", _("결제대행사: 취소 가능 금액(%(left)s원)을 넘습니다.")
                                         % {"left": f"{charge.amount_won - cancelled:,}"})
                kind = "PART" if partial else "FULL"
                entry = GatewayEntry.objects.create(tid=f"TEST-{kind}-{secrets.token_hex(6).upper()}", kind="cancel",
                                                    parent_tid=tid, amount_won=amount_won,
                                                    idempotency_key=idempotency_key)
        except IntegrityError:  # the same key at the same moment: the other one applied it
            entry = GatewayEntry.objects.get(idempotency_key=idempotency_key)
        return GatewayResult(True, entry.tid, "TEST-PG 취소")

    def issue_cash_receipt(self, *, payment_id: str, amount_won: int, kind: str, identifier: str,
                           idempotency_key: str) -> GatewayResult:
        if amount_won <= 0 or not idempotency_key or not identifier or kind not in ("personal", "corporate"):
            raise ValueError("a cash receipt needs a positive amount, a kind, an identifier and an idempotency key")
        # the first answer to this key (asked again, or by two at the same moment: get_or_create reads the other's)
        done, _created = GatewayEntry.objects.get_or_create(idempotency_key=idempotency_key, defaults={
            "tid": f"TEST-CR-{secrets.token_hex(5).upper()}", "kind": CASH_RECEIPT, "parent_tid": payment_id,
            "amount_won": amount_won})
        if done.kind != CASH_RECEIPT or done.amount_won != amount_won or done.parent_tid != payment_id:
            return GatewayResult(False, "", _("결제대행사: 같은 요청 번호로 다른 현금영수증이 요청되었습니다."))
        return GatewayResult(True, done.tid, "TEST-PG 현금영수증 발급")

    def cancel_cash_receipt(self, *, payment_id: str, approval_number: str, idempotency_key: str) -> GatewayResult:
        if not approval_number or not idempotency_key:
            raise ValueError("a cash receipt cancel needs the 승인번호 and an idempotency key")
        try:
            with transaction.atomic():
                receipt = GatewayEntry.objects.select_for_update().filter(tid=approval_number,
                                                                          kind=CASH_RECEIPT).first()
                if receipt is None:
                    return GatewayResult(False, "", _("결제대행사에 없는 현금영수증입니다."))
                done = GatewayEntry.objects.filter(parent_tid=approval_number, kind=CASH_RECEIPT_CANCEL).first()
                if done is None:
                    done = GatewayEntry.objects.create(tid=f"TEST-CRX-{secrets.token_hex(5).upper()}",
                                                       kind=CASH_RECEIPT_CANCEL, parent_tid=approval_number,
                                                       amount_won=receipt.amount_won, idempotency_key=idempotency_key)
        except IntegrityError:  # the same key at the same moment: the other one cancelled it
            done = GatewayEntry.objects.get(idempotency_key=idempotency_key)
        return GatewayResult(True, done.tid, "TEST-PG 현금영수증 취소")

    def issue_virtual_account(self, *, payment_id: str, amount_won: int, due_at: datetime,
                              holder: str) -> VirtualAccount:
        """A fake 가상계좌 of "TEST은행", its number derived from the payment id (the same payment, the same account),
        in the shop's name; the deposit is confirmed by the operator's 입금확인, as for 무통장입금."""
        if not payment_id or amount_won <= 0:
            raise ValueError("a virtual account needs the payment id and a positive amount")
        digits = str(int(hashlib.sha256(payment_id.encode()).hexdigest(), 16))[:11]
        entry, _created = GatewayEntry.objects.get_or_create(idempotency_key=f"vbank:{payment_id}", defaults={
            "tid": f"TEST-VA-{digits}", "kind": VIRTUAL_ACCOUNT, "parent_tid": payment_id, "amount_won": amount_won})
        if entry.amount_won != amount_won:
            return VirtualAccount(False, "", _("결제대행사: 같은 결제에 다른 금액의 가상계좌가 발급되어 있습니다."))
        return VirtualAccount(True, entry.tid, "TEST-PG 가상계좌 발급", bank=TEST_BANK,
                              account_number=f"990-{digits[:6]}-{digits[6:11]}", holder=holder, due_at=due_at)

    def close_virtual_account(self, *, payment_id: str) -> bool:
        """The TEST gateway takes no deposits of its own (the operator confirms them): closing always succeeds."""
        issued = GatewayEntry.objects.filter(tid=payment_id, kind=VIRTUAL_ACCOUNT).first()
        if issued is not None:  # its close, once (the amount the account was issued for)
            GatewayEntry.objects.get_or_create(idempotency_key=f"vbclose:{payment_id}", defaults={
                "tid": f"TEST-VAX-{secrets.token_hex(5).upper()}", "kind": VIRTUAL_ACCOUNT_CLOSE,
                "parent_tid": payment_id, "amount_won": issued.amount_won})
        return True


TestGateway = PaymentGateway


def get_gateway(name: str = "") -> Gateway:
    """The gateway the settings choose (PortOne when PORTONE_API_SECRET is set, else the TEST gateway), or, given a
    payment's recorded gateway `name`, the one that charged it: a charge is cancelled where it was made."""
    portone = name == PORTONE_NAME or (not name and getattr(settings, "PAYMENT_GATEWAY", "test") == "portone")
    if portone:
        from .portone import PortOneGateway  # only with PortOne configured: the SDK is imported on demand

        return PortOneGateway.from_settings()
    return PaymentGateway()
