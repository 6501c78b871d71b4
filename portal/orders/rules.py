"""The shop's own order rules: shipping fee and the guest order password (manual §3 결제정보)."""

import re

from mileage.policy.constants import GUEST_PASSWORD_MAX_LENGTH, GUEST_PASSWORD_MIN_LENGTH

SHIPPING_FEE_WON = 2_500
FREE_SHIPPING_FROM_WON = 50_000

_GUEST_PASSWORD = re.compile(rf"^[A-Za-z0-9]{{{GUEST_PASSWORD_MIN_LENGTH},{GUEST_PASSWORD_MAX_LENGTH}}}$")


def shipping_fee(goods_won: int) -> int:
    """2,500원, free from 50,000원 of goods."""
    return 0 if goods_won >= FREE_SHIPPING_FROM_WON or goods_won == 0 else SHIPPING_FEE_WON


def guest_password_error(raw: str) -> str | None:
    """None when valid; else the message shown next to the field (Korean, then English)."""
    if _GUEST_PASSWORD.match(raw or ""):
        return None
    return (f"비회원결제비밀번호는 {GUEST_PASSWORD_MIN_LENGTH}자에서 {GUEST_PASSWORD_MAX_LENGTH}자 영문 또는 숫자입니다. "
            f"(The guest password is {GUEST_PASSWORD_MIN_LENGTH} to {GUEST_PASSWORD_MAX_LENGTH} letters or digits.)")
