"""The payment gateway interface (its adapters: portal.orders.gateway's TEST gateway and portal.orders.portone;
reached through `portal.orders.gateway.get_gateway()`)."""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

PORTONE_NAME = "PortOne"  # the name a PortOne payment records (Payment.gateway)


@dataclass(frozen=True)
class GatewayResult:
    approved: bool
    tid: str
    message: str


@dataclass(frozen=True)
class VirtualAccount:
    """A 가상계좌 the PG issued for a payment (approved), or why not: the bank's name, the account number, the
    holder (예금주) and the deadline of the deposit, as the PG answers them."""

    approved: bool
    tid: str
    message: str
    bank: str = ""
    account_number: str = ""
    holder: str = ""
    due_at: datetime | None = None


class GatewayUnavailable(Exception):
    """The gateway did not answer (a timeout, a refused connection): whether it acted is unknown; ask again with the
    same idempotency key."""


class Gateway(ABC):
    """What the shop needs of a Korean PG. `payment_id` is the shop's id of the payment (the order number);
    `tid` is what `charge` answered and the payment keeps (`Payment.gateway_tid`)."""

    name: str
    opens_window = False  # the buyer authenticates in the PG's payment window first (PortOne's browser SDK)
    sees_deposits = False  # the PG is told of a 가상계좌's deposit itself (PortOne); else the operator confirms it

    def prepare(self, *, payment_id: str, amount_won: int) -> None:  # noqa: B027 — nothing to do for some PGs
        """Before the payment window opens: tell the PG the only amount the window may take."""

    def release(self, *, payment_id: str) -> bool:
        """A payment whose order was never recorded as paid (an abandoned window): whatever of it the PG charged is
        given back whole. True when something was cancelled, False when nothing was charged; GatewayUnavailable when
        the PG does not answer (ask again later). Nothing to do for a PG without a window."""
        return False

    @abstractmethod
    def charge(self, *, method: str, amount_won: int, card_number: str = "", payment_id: str = "",
               payment_token: str = "") -> GatewayResult:
        """Capture (confirm) the payment for exactly `amount_won`, after the mileage approval (ADR 0005)."""

    @abstractmethod
    def verify(self, *, tid: str, amount_won: int) -> GatewayResult:
        """Read the payment back: approved when it is ours, in KRW, for `amount_won` and paid."""

    @abstractmethod
    def cancel(self, *, tid: str, amount_won: int, partial: bool, idempotency_key: str) -> GatewayResult:
        """Cancel `amount_won` of the charge (partial or whole), never beyond what is left; a repeat with the same
        key answers the first answer and applies nothing twice."""

    def issue_cash_receipt(self, *, payment_id: str, amount_won: int, kind: str, identifier: str,
                           idempotency_key: str) -> GatewayResult:
        """Issue a 현금영수증 for `amount_won` of cash actually paid (`kind`: personal — a mobile number — or
        corporate — a business number); `tid` of the answer is the 승인번호. A repeat with the same key answers the
        first answer and issues nothing twice."""
        raise NotImplementedError(f"{self.name} does not issue cash receipts")

    def cancel_cash_receipt(self, *, payment_id: str, approval_number: str, idempotency_key: str) -> GatewayResult:
        """Cancel the 현금영수증 `approval_number`, issued for `payment_id`, as a whole (a partial refund cancels
        and issues anew under a new payment id). A repeat answers the first cancel."""
        raise NotImplementedError(f"{self.name} does not cancel cash receipts")

    def issue_virtual_account(self, *, payment_id: str, amount_won: int, due_at: datetime,
                              holder: str) -> VirtualAccount:
        """A 가상계좌 for `amount_won`, its deposit due by `due_at` (POLICY E8), in the name `holder` where the PG
        lets the shop name it. With a window, the buyer had it issued there and this reads it back (the PG's own
        bank, number, holder and deadline, never the browser's). Asked again for the same payment, the same
        account."""
        raise NotImplementedError(f"{self.name} does not issue virtual accounts")

    def close_virtual_account(self, *, payment_id: str) -> bool:
        """No deposit is taken on the payment's 가상계좌 any more (its deadline passed): True when it is closed (or
        was), False when the deposit arrived first (the payment is paid: confirm it instead). GatewayUnavailable
        when the PG does not answer (ask again later)."""
        raise NotImplementedError(f"{self.name} does not close virtual accounts")
