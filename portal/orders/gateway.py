"""TEST payment gateway — approves card-like payments on this machine. NOT A REAL PAYMENT PROVIDER.

Every transaction id it issues starts with "TEST-", and the order screens show the gateway's name
"TEST-PG (테스트 결제)". A card number ending in "0002" is declined, so a failed payment can be tried by hand.
"""

import secrets
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .models import PaymentMethod

GATEWAY_NAME = "TEST-PG (테스트 결제)"
DECLINING_SUFFIX = "0002"


@dataclass(frozen=True)
class GatewayResult:
    approved: bool
    tid: str
    message: str


def charge(*, method: str, amount_won: int, card_number: str = "") -> GatewayResult:
    if method == PaymentMethod.BANK_TRANSFER:
        raise ValueError("bank transfers wait for the deposit; they do not go through the gateway")
    if amount_won < 0:
        raise ValueError("amount must not be negative")
    digits = "".join(ch for ch in card_number if ch.isdigit())
    if method == PaymentMethod.CARD and digits.endswith(DECLINING_SUFFIX):
        return GatewayResult(False, "", _("카드 승인이 거절되었습니다."))
    return GatewayResult(True, f"TEST-{secrets.token_hex(8).upper()}", "TEST-PG 승인")


class PaymentGateway:
    """What the shop needs of a Korean PG: charge, and cancel all or part of a charge. The TEST adapter below
    stands in for a real one (a KG이니시스/토스페이먼츠 adapter would implement the same two calls)."""

    name = GATEWAY_NAME

    def charge(self, *, method: str, amount_won: int, card_number: str = "") -> GatewayResult:
        return charge(method=method, amount_won=amount_won, card_number=card_number)

    def cancel(self, *, tid: str, amount_won: int, partial: bool, idempotency_key: str) -> GatewayResult:
        if not tid or amount_won <= 0:
            raise ValueError("a cancel needs the charge's tid and a positive amount")
        kind = "PART" if partial else "FULL"
        return GatewayResult(True, f"TEST-{kind}-{secrets.token_hex(6).upper()}", "TEST-PG 취소")


def get_gateway() -> PaymentGateway:
    return PaymentGateway()
