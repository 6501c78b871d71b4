"""TEST payment gateway — approves card-like payments on this machine. NOT A REAL PAYMENT PROVIDER.

Every transaction id it issues starts with "TEST-", and the order screens show the gateway's name
"TEST-PG (테스트 결제)". A card number ending in "0002" is declined, so a failed payment can be tried by hand.
"""

import secrets
from dataclasses import dataclass

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
        return GatewayResult(False, "", "카드 승인이 거절되었습니다. (The card was declined by the TEST gateway.)")
    return GatewayResult(True, f"TEST-{secrets.token_hex(8).upper()}", "승인 (approved by the TEST gateway)")
