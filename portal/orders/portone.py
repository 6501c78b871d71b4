"""The PortOne V2 adapter of the gateway interface (docs/adr/0017-portone-gateway.md), through `portone-server-sdk`.

Manual confirm: the buyer authenticates in PortOne's window (nothing is charged), the checkout asks the provider's
approval for the mileage, and only then `charge` confirms (captures) the payment. The amount the browser reports
is never trusted: `prepare` pre-registers the payable amount, and `charge` reads the payment back and checks it is
ours, in KRW, for exactly that amount and still awaiting confirmation before confirming it (confirm repeats the
checks at PortOne), then reads it back once more (PAID, same amount). A paid payment that does not match is
cancelled and the buyer told why.

Cancels put the shop's idempotency key in the reason and pass `currentCancellableAmount`: asked again after a
timeout, the cancel already applied is found by its key and answered, never applied twice.
"""

import functools
import logging
from datetime import datetime

import httpx
from django.conf import settings
from django.utils.translation import gettext as _
from portone_server_sdk import PaymentClient
from portone_server_sdk import errors as portone_errors
from portone_server_sdk import payment as portone_payment
from portone_server_sdk.common import PaymentAmountInput
from portone_server_sdk.payment import (
    CancelledPayment,
    PaidPayment,
    PartialCancelledPayment,
    PaymentMethodVirtualAccount,
    ReadyPayment,
    VirtualAccountIssuedPayment,
)
from portone_server_sdk.payment import cash_receipt as portone_cash_receipt

from .banks import BANK_NAMES
from .gateway_interface import PORTONE_NAME, Gateway, GatewayResult, GatewayUnavailable, VirtualAccount
from .models import PaymentMethod

log = logging.getLogger(__name__)

CURRENCY = "KRW"
CANCEL_ATTEMPTS = 3  # asks of one cancel when other cancels of the payment keep landing first


def _when(stamp: str | None) -> datetime | None:
    """PortOne's RFC 3339 timestamp (`Z` or an offset) as an aware datetime; None when absent or unreadable."""
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
    except ValueError:
        return None


@functools.lru_cache(maxsize=4)
def _client(secret: str, base_url: str, store_id: str | None) -> PaymentClient:
    """One SDK client per set of credentials, shared by every request and thread of the process: building one
    opens a dozen HTTP clients (about 0.3 s), and a shared one keeps its connections to PortOne open."""
    return PaymentClient(secret=secret, base_url=base_url, store_id=store_id)


class PortOneGateway(Gateway):
    name = PORTONE_NAME
    opens_window = True
    sees_deposits = True

    def __init__(self, client: PaymentClient):
        self.client = client

    @classmethod
    def from_settings(cls) -> "PortOneGateway":
        return cls(_client(settings.PORTONE_API_SECRET, settings.PORTONE_API_BASE, settings.PORTONE_STORE_ID or None))

    def _call(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except httpx.HTTPError as exc:  # a timeout, a refused connection: whether PortOne acted is unknown
            raise GatewayUnavailable(type(exc).__name__) from exc
        except ValueError as exc:  # an answer that is not PortOne's (a proxy's error page): unknown as well
            raise GatewayUnavailable(type(exc).__name__) from exc

    def prepare(self, *, payment_id: str, amount_won: int) -> None:
        try:
            self._call(self.client.pre_register_payment, payment_id=payment_id, total_amount=amount_won,
                       currency=CURRENCY)
        except portone_payment.PreRegisterPaymentError as exc:  # the window cannot open on it: as if PortOne were down
            log.warning("portone pre-register %s refused: %s", payment_id, type(exc).__name__)
            raise GatewayUnavailable(type(exc).__name__) from exc

    def _read(self, payment_id: str):
        try:
            return self._call(self.client.get_payment, payment_id=payment_id)
        except portone_payment.GetPaymentError as exc:
            log.warning("portone payment %s not readable: %s", payment_id, type(exc).__name__)
            return None

    @staticmethod
    def _matches(payment, payment_id: str, amount_won: int) -> bool:
        return (payment.id == payment_id and payment.currency == CURRENCY and payment.amount.total == amount_won
                and payment.store_id == (settings.PORTONE_STORE_ID or payment.store_id))

    def charge(self, *, method: str, amount_won: int, card_number: str = "", payment_id: str = "",
               payment_token: str = "") -> GatewayResult:
        if method in (PaymentMethod.BANK_TRANSFER, PaymentMethod.VIRTUAL_ACCOUNT):
            raise ValueError("transfers to an account wait for the deposit; they are not charged")
        if amount_won < 0:
            raise ValueError("amount must not be negative")
        if amount_won == 0:  # the mileage and the 적립금 paid it all: no window opened, nothing asked of PortOne
            return GatewayResult(True, "", "결제할 금액 없음")
        if not payment_id or not payment_token:
            return GatewayResult(False, "", _("결제창에서 결제 인증을 마치지 않았습니다. 다시 결제해 주세요."))
        try:
            return self._confirm(payment_id, payment_token, amount_won)
        except GatewayUnavailable as exc:
            log.warning("portone payment %s: no answer (%s)", payment_id, exc)
        # whether PortOne confirmed is unknown: a payment it did confirm is given back, so the order is not placed
        # and nothing stays charged for it
        try:
            self._cancel_whole(payment_id, reason="결제 응답 없음")
        except GatewayUnavailable:
            log.error("portone payment %s: to check and cancel by hand", payment_id)
        return GatewayResult(False, "", _("결제대행사가 응답하지 않습니다. 잠시 후 다시 결제해 주세요."))

    def _confirm(self, payment_id: str, payment_token: str, amount_won: int) -> GatewayResult:
        before = self._read(payment_id)
        if before is None:
            return GatewayResult(False, "", _("결제대행사에 없는 결제입니다."))
        if not isinstance(before, ReadyPayment) or not self._matches(before, payment_id, amount_won):
            log.warning("portone payment %s refused before confirm: status %s", payment_id,
                        type(before).__name__)
            return GatewayResult(False, "", _("결제 정보(금액·상태)가 주문과 다릅니다. 결제하지 않았습니다."))
        try:
            confirmed = self._call(self.client.confirm_payment, payment_id=payment_id, payment_token=payment_token,
                                   currency=CURRENCY, total_amount=amount_won)
        except portone_payment.ConfirmPaymentError as exc:
            log.info("portone confirm %s refused: %s", payment_id, type(exc).__name__)
            return GatewayResult(False, "", _("결제 승인이 거절되었습니다: %(reason)s")
                                 % {"reason": getattr(exc, "message", None) or type(exc).__name__})
        result = self.verify(tid=payment_id, amount_won=amount_won)
        if not result.approved:  # paid, but not what the order says: give it back, say so
            self._cancel_whole(payment_id, reason="결제 검증 불일치")
            return GatewayResult(False, "", _("결제 금액이 주문 금액과 달라 결제를 취소했습니다."))
        return GatewayResult(True, payment_id, f"PortOne 승인 {confirmed.pg_tx_id}")

    def verify(self, *, tid: str, amount_won: int) -> GatewayResult:
        payment = self._read(tid)
        if payment is None:
            return GatewayResult(False, tid, _("결제대행사에 없는 결제입니다."))
        if not isinstance(payment, PaidPayment) or not self._matches(payment, tid, amount_won):
            log.warning("portone payment %s does not match the order (%s)", tid, type(payment).__name__)
            return GatewayResult(False, tid, _("결제대행사의 결제 금액이 주문 금액과 다릅니다."))
        return GatewayResult(True, tid, "PortOne 확인")

    def release(self, *, payment_id: str) -> bool:
        try:
            payment = self._call(self.client.get_payment, payment_id=payment_id)
        except portone_errors.PaymentNotFoundError:
            return False  # the window never reached PortOne: nothing charged
        except portone_payment.GetPaymentError as exc:
            raise GatewayUnavailable(type(exc).__name__) from exc
        if isinstance(payment, VirtualAccountIssuedPayment):  # issued, not paid: no deposit is taken on it any more
            self.close_virtual_account(payment_id=payment_id)
            return False
        if not isinstance(payment, PaidPayment | PartialCancelledPayment):
            return False  # READY (authenticated, never confirmed: it lapses), FAILED or CANCELLED: nothing to give back
        try:
            self._call(self.client.cancel_payment, payment_id=payment_id, reason="결제창 미완료 주문 정리",
                       current_cancellable_amount=payment.amount.total - payment.amount.cancelled)
        except (portone_errors.PaymentAlreadyCancelledError, portone_errors.PaymentNotPaidError):
            return False
        except portone_payment.CancelPaymentError as exc:
            raise GatewayUnavailable(type(exc).__name__) from exc
        log.warning("portone payment %s paid but never recorded: cancelled whole", payment_id)
        return True

    def _cancel_whole(self, payment_id: str, *, reason: str) -> None:
        """Give back whatever of the payment was charged (nothing to do for one never confirmed)."""
        try:
            self._call(self.client.cancel_payment, payment_id=payment_id, reason=reason)
        except portone_payment.CancelPaymentError as exc:
            if not isinstance(exc, portone_errors.PaymentNotPaidError | portone_errors.PaymentNotFoundError):
                log.error("portone payment %s to cancel by hand: %s", payment_id, type(exc).__name__)

    @staticmethod
    def _done_by_key(payment, key: str) -> GatewayResult | None:
        for cancellation in getattr(payment, "cancellations", None) or []:
            if key in (getattr(cancellation, "reason", "") or ""):
                return GatewayResult(True, cancellation.id, "PortOne 취소")
        return None

    def cancel(self, *, tid: str, amount_won: int, partial: bool, idempotency_key: str) -> GatewayResult:
        if not tid or amount_won <= 0 or not idempotency_key:
            raise ValueError("a cancel needs the charge's tid, a positive amount and an idempotency key")
        # PortOne checks the cancellable amount the shop believes in: another cancel of the same payment landing
        # first (a second refund of the order completed at that moment — the portal reserved both under the
        # payment's lock, so both fit) makes it refuse; read again and asked again, a few times, with this cancel's
        # own key (a cancel that did land answers as done)
        for _attempt in range(CANCEL_ATTEMPTS):
            payment = self._read(tid)
            if payment is None:
                return GatewayResult(False, "", _("결제대행사에 없는 거래입니다."))
            if (done := self._done_by_key(payment, idempotency_key)) is not None:
                return done  # the same cancel asked again: the first answer, nothing applied twice
            if not isinstance(payment, PaidPayment | PartialCancelledPayment | CancelledPayment):
                return GatewayResult(False, "", _("결제대행사에서 취소할 수 없는 상태의 결제입니다."))
            left = payment.amount.total - payment.amount.cancelled
            if amount_won > left:
                return GatewayResult(False, "", _("결제대행사: 취소 가능 금액(%(left)s원)을 넘습니다.")
                                     % {"left": f"{left:,}"})
            try:
                answer = self._call(self.client.cancel_payment, payment_id=tid, amount=amount_won,
                                    reason=f"{'부분취소' if partial else '전체취소'} {idempotency_key}",
                                    current_cancellable_amount=left)
            except portone_errors.CancellableAmountConsistencyBrokenError:
                continue  # someone cancelled meanwhile (perhaps this very cancel, asked before a timeout): read again
            except portone_payment.CancelPaymentError as exc:
                # refused — perhaps because this very cancel, asked at the same moment by another press, took what
                # was left (PAYMENT_ALREADY_CANCELLED): then its answer is this one's
                again = self._read(tid)
                if again is not None and (done := self._done_by_key(again, idempotency_key)) is not None:
                    return done
                return GatewayResult(False, "", _("결제대행사가 취소를 거절했습니다: %(reason)s")
                                     % {"reason": getattr(exc, "message", None) or type(exc).__name__})
            return GatewayResult(True, answer.cancellation.id, "PortOne 취소")
        again = self._read(tid)
        done = self._done_by_key(again, idempotency_key) if again is not None else None
        return done or GatewayResult(False, "", _("결제대행사의 취소 가능 금액이 바뀌었습니다. 다시 시도해 주세요."))

    def issue_cash_receipt(self, *, payment_id: str, amount_won: int, kind: str, identifier: str,
                           idempotency_key: str) -> GatewayResult:
        """PortOne keeps one 현금영수증 per payment id: asked again for the same id it answers
        CASH_RECEIPT_ALREADY_ISSUED, which is reported as not approved (the first 승인번호 stays the shop's)."""
        if amount_won <= 0 or not identifier or kind not in ("personal", "corporate") or not idempotency_key:
            raise ValueError("a cash receipt needs a positive amount, a kind, an identifier and an idempotency key")
        customer = portone_cash_receipt.IssueCashReceiptCustomerInput(
            identity_number=identifier, identity_number_type="PHONE" if kind == "personal" else "BUSINESS")
        try:
            answer = self._call(self.client.cash_receipt.issue_cash_receipt, payment_id=payment_id,
                                channel_key=settings.PORTONE_CHANNEL_KEY or "channel-key-emulator",
                                type="PERSONAL" if kind == "personal" else "CORPORATE",
                                order_name=f"주문 {payment_id}", currency=CURRENCY,
                                amount=PaymentAmountInput(total=amount_won), customer=customer)
        except portone_errors.CashReceiptAlreadyIssuedError:
            return GatewayResult(False, "", _("결제대행사: 이 결제에는 현금영수증이 이미 발급되어 있습니다."))
        except portone_errors.PortOneError as exc:
            log.warning("PortOne cash receipt for %s refused: %s", payment_id, type(exc).__name__)
            return GatewayResult(False, "", _("결제대행사가 현금영수증 발급을 거절했습니다."))
        return GatewayResult(True, answer.cash_receipt.issue_number, "PortOne 현금영수증 발급")

    def cancel_cash_receipt(self, *, payment_id: str, approval_number: str, idempotency_key: str) -> GatewayResult:
        if not payment_id or not idempotency_key:
            raise ValueError("a cash receipt cancel needs the payment id and an idempotency key")
        try:
            self._call(self.client.cash_receipt.cancel_cash_receipt_by_payment_id, payment_id=payment_id)
        except portone_errors.CashReceiptNotIssuedError:  # cancelled before (a repeat): nothing is left to cancel
            return GatewayResult(True, approval_number, "PortOne 현금영수증 취소")
        except portone_errors.PortOneError as exc:
            log.warning("PortOne cash receipt cancel for %s refused: %s", payment_id, type(exc).__name__)
            return GatewayResult(False, "", _("결제대행사가 현금영수증 취소를 거절했습니다."))
        return GatewayResult(True, approval_number, "PortOne 현금영수증 취소")

    def issue_virtual_account(self, *, payment_id: str, amount_won: int, due_at: datetime,
                              holder: str) -> VirtualAccount:
        """The 가상계좌 the buyer had issued in PortOne's window, read back: ours, in KRW, for exactly `amount_won`,
        VIRTUAL_ACCOUNT_ISSUED, with an account number. The bank, number, holder and deadline are PortOne's (the
        deadline never later than `due_at`, POLICY E8's). One that does not match is closed and refused."""
        if not payment_id:
            return VirtualAccount(False, "", _("결제창에서 가상계좌를 발급받지 않았습니다. 다시 결제해 주세요."))
        try:
            payment = self._read(payment_id)
        except GatewayUnavailable as exc:
            log.warning("portone virtual account %s: no answer (%s)", payment_id, exc)
            self._close_quietly(payment_id)
            return VirtualAccount(False, "", _("결제대행사가 응답하지 않습니다. 잠시 후 다시 결제해 주세요."))
        if payment is None:
            return VirtualAccount(False, "", _("결제대행사에 없는 결제입니다."))
        method = getattr(payment, "method", None)
        if (not isinstance(payment, VirtualAccountIssuedPayment) or not self._matches(payment, payment_id, amount_won)
                or not isinstance(method, PaymentMethodVirtualAccount) or not method.account_number):
            log.warning("portone virtual account %s refused: status %s", payment_id, type(payment).__name__)
            if isinstance(payment, VirtualAccountIssuedPayment):
                self._close_quietly(payment_id)
            return VirtualAccount(False, "", _("결제 정보(금액·상태)가 주문과 다릅니다. 가상계좌를 발급하지 않았습니다."))
        expires = _when(method.expired_at)
        bank = str(method.bank or "")
        return VirtualAccount(True, payment_id, "PortOne 가상계좌 발급", bank=BANK_NAMES.get(bank, bank),
                              account_number=method.account_number, holder=method.remittee_name or holder,
                              due_at=min(expires, due_at) if expires else due_at)

    def _close_quietly(self, payment_id: str) -> None:
        try:
            self.close_virtual_account(payment_id=payment_id)
        except GatewayUnavailable:
            log.error("portone virtual account %s to close by hand", payment_id)

    def close_virtual_account(self, *, payment_id: str) -> bool:
        try:
            self._call(self.client.close_virtual_account, payment_id=payment_id)
        except portone_errors.PaymentNotWaitingForDepositError:
            # closed before, never issued, or paid: only a payment paid meanwhile is not closed
            payment = self._read(payment_id)
            return not isinstance(payment, PaidPayment | PartialCancelledPayment)
        except portone_errors.PaymentNotFoundError:
            return True  # never issued: nothing can be deposited on it
        except portone_payment.CloseVirtualAccountError as exc:
            raise GatewayUnavailable(type(exc).__name__) from exc
        log.info("portone virtual account %s closed", payment_id)
        return True
