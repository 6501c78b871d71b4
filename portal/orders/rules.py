"""The shop's own order rules: shipping fee and the guest order password (manual §3 결제정보)."""

import re

from django.conf import settings

from mileage.policy.constants import GUEST_PASSWORD_MAX_LENGTH, GUEST_PASSWORD_MIN_LENGTH

_GUEST_PASSWORD = re.compile(rf"^[A-Za-z0-9]{{{GUEST_PASSWORD_MIN_LENGTH},{GUEST_PASSWORD_MAX_LENGTH}}}$")


def shipping_fee(goods_won: int) -> int:
    """The shop's basic shipping fee (SHOP_SHIPPING_FEE_WON, 0 as in the manual's screens), free from
    SHOP_FREE_SHIPPING_FROM_WON of goods."""
    if goods_won == 0 or goods_won >= settings.SHOP_FREE_SHIPPING_FROM_WON:
        return 0
    return settings.SHOP_SHIPPING_FEE_WON


def guest_password_error(raw: str) -> str | None:
    """None when valid; else the message shown next to the field (Korean, then English)."""
    if _GUEST_PASSWORD.match(raw or ""):
        return None
    return (f"비회원결제비밀번호는 {GUEST_PASSWORD_MIN_LENGTH}자에서 {GUEST_PASSWORD_MAX_LENGTH}자 영문 또는 숫자입니다. "
            f"(The guest password is {GUEST_PASSWORD_MIN_LENGTH} to {GUEST_PASSWORD_MAX_LENGTH} letters or digits.)")
