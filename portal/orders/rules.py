"""The shop's own order rules: shipping fee and the guest order password (manual §3 결제정보)."""

import re

from django.conf import settings
from django.utils.translation import gettext as _

from mileage.policy.constants import GUEST_PASSWORD_MAX_LENGTH, GUEST_PASSWORD_MIN_LENGTH

_GUEST_PASSWORD = re.compile(rf"[A-Za-z0-9]{{{GUEST_PASSWORD_MIN_LENGTH},{GUEST_PASSWORD_MAX_LENGTH}}}", re.ASCII)


def shipping_fee(goods_won: int) -> int:
    """The shop's basic shipping fee (SHOP_SHIPPING_FEE_WON, 0 as in the manual's screens), free from
    SHOP_FREE_SHIPPING_FROM_WON of goods."""
    if goods_won == 0 or goods_won >= settings.SHOP_FREE_SHIPPING_FROM_WON:
        return 0
    return settings.SHOP_SHIPPING_FEE_WON


def guest_password_error(raw: str) -> str | None:
    """None when valid: 6 to 12 ASCII letters and digits, with at least one of each (a guessable order number
    is the other half of the lookup). Else the message shown next to the field."""
    raw = raw or ""
    if _GUEST_PASSWORD.fullmatch(raw) and any(c.isalpha() for c in raw) and any(c.isdigit() for c in raw):
        return None
    return _("비회원결제비밀번호는 영문과 숫자를 모두 섞어 %(min)d자에서 %(max)d자로 입력해 주세요.") % {
        "min": GUEST_PASSWORD_MIN_LENGTH, "max": GUEST_PASSWORD_MAX_LENGTH}
