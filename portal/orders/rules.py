"""The shop's own order rules: shipping fee and the guest order password (manual §3 결제정보), the 현금영수증's
identifier and amount, and what a PG can cancel of each payment method (issue 23)."""

import re
from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext as _

from mileage.policy.constants import BUSINESS_TZ, GUEST_PASSWORD_MAX_LENGTH, GUEST_PASSWORD_MIN_LENGTH
from portal.privacy import masked_account

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
    if any(not (c.isascii() and c.isalnum()) for c in raw):
        return _("비회원결제비밀번호에는 영문과 숫자만 쓸 수 있습니다 (특수문자, 공백, 한글 제외). 영문과 숫자를 섞어 %(min)d자에서 "
                 "%(max)d자로 입력해 주세요.") % {"min": GUEST_PASSWORD_MIN_LENGTH, "max": GUEST_PASSWORD_MAX_LENGTH}
    return _("비회원결제비밀번호는 영문과 숫자를 모두 섞어 %(min)d자에서 %(max)d자로 입력해 주세요.") % {
        "min": GUEST_PASSWORD_MIN_LENGTH, "max": GUEST_PASSWORD_MAX_LENGTH}


# 현금영수증 (cash receipt): who asks for it and with what identifier
CASH_RECEIPT_NONE = "none"
CASH_RECEIPT_PERSONAL = "personal"  # 소득공제용: the buyer's mobile number
CASH_RECEIPT_CORPORATE = "corporate"  # 지출증빙용: the business registration number
CASH_RECEIPT_KINDS = (CASH_RECEIPT_NONE, CASH_RECEIPT_PERSONAL, CASH_RECEIPT_CORPORATE)

_MOBILE = re.compile(r"010\d{8}|01[16789]\d{7,8}", re.ASCII)  # 010: always 8 digits after
_BUSINESS_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def business_number_valid(digits: str) -> bool:
    """A 10-digit 사업자등록번호 whose last digit is its checksum (weights 1,3,7,1,3,7,1,3,5 plus the carry of the
    ninth digit's ×5)."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    numbers = [int(ch) for ch in digits]
    total = sum(n * w for n, w in zip(numbers, _BUSINESS_WEIGHTS, strict=False)) + numbers[8] * 5 // 10
    return (10 - total % 10) % 10 == numbers[9]


def cash_receipt_identifier(kind: str, raw: str) -> tuple[str, str | None]:
    """(the identifier as digits, None) when valid for `kind`, else ("", the message shown next to the field).
    Hyphens and spaces are allowed in what the buyer types; "none" needs nothing."""
    if kind not in CASH_RECEIPT_KINDS:
        return "", _("현금영수증 신청 방법을 골라 주세요.")
    if kind == CASH_RECEIPT_NONE:
        return "", None
    digits = "".join(ch for ch in (raw or "") if ch not in "- ")
    if kind == CASH_RECEIPT_PERSONAL:
        if _MOBILE.fullmatch(digits):
            return digits, None
        return "", _("현금영수증 휴대폰번호는 010-1234-5678처럼 입력해 주세요.")
    if business_number_valid(digits):
        return digits, None
    return "", _("사업자번호 10자리를 올바르게 입력해 주세요.")


def masked_identifier(digits: str) -> str:
    """What screens and receipts show of a cash-receipt identifier: only its last four digits (the refund account's
    masking, portal.privacy); one of four digits or fewer shows none."""
    return masked_account(digits) if len(digits) > 4 else "*" * len(digits)


def cash_receipt_method(method: str) -> bool:
    """현금영수증 is offered for cash-like payments only: 무통장입금, 실시간계좌이체 and 가상계좌 (a card or phone payment
    has its own slip)."""
    from .models import PaymentMethod

    return method in (PaymentMethod.BANK_TRANSFER, PaymentMethod.REALTIME_TRANSFER, PaymentMethod.VIRTUAL_ACCOUNT)


def cash_receipt_amount(*, payable_won: int, refunded_won: int = 0) -> int:
    """The cash a 현금영수증 states: what the buyer paid in money (`Order.payable_won` — shipping included, 네이버
    마일리지 and 적립금 already taken off) less what was refunded of it; 0 means no receipt (a whole refund)."""
    if payable_won < 0 or refunded_won < 0:
        raise ValueError("amounts must not be negative")
    return max(0, payable_won - refunded_won)


# What a PG takes back of a payment (issue 23, "card 부분취소, transfer whole only, mobile same-day only"; merchant
# manual §7 환불관리: "휴대폰결제 승인취소는 결제당일만 가능합니다. 결제일이 지난 결제건은 별도 환불 처리해야 합니다.")
PG_PHONE_PARTIAL = "phone-partial"  # 휴대폰결제: cancelled whole or not at all
PG_PHONE_PAST_DAY = "phone-past-day"  # 휴대폰결제: cancelled on its payment day (Asia/Seoul) only
PG_TRANSFER_PARTIAL = "transfer-partial"  # 실시간계좌이체: cancelled whole or not at all


def pg_cancel_refusal(*, method: str, amount_won: int, left_won: int, paid_at: datetime | None,
                      now: datetime) -> str | None:
    """Why the PG would refuse to cancel `amount_won` of a `method` payment of which `left_won` is still charged,
    paid at `paid_at` (None: today), asked at `now`: one of the PG_* codes above, or None when it can take it (a card
    is cancelled in parts, any day). Such a refund is paid to the buyer's account by the shop (현금환불) instead."""
    from .models import PaymentMethod

    if method == PaymentMethod.PHONE:
        if (paid_at or now).astimezone(BUSINESS_TZ).date() != now.astimezone(BUSINESS_TZ).date():
            return PG_PHONE_PAST_DAY
        if amount_won < left_won:
            return PG_PHONE_PARTIAL
    if method == PaymentMethod.REALTIME_TRANSFER and amount_won < left_won:
        return PG_TRANSFER_PARTIAL
    return None


def pg_cancel_refusal_message(code: str) -> str:
    """What the operator is told when asking the PG for a cancel it cannot take (the refund is to be 현금환불)."""
    return {PG_PHONE_PARTIAL: _("휴대폰결제는 부분취소할 수 없습니다. 현금환불로 처리해 주세요."),
            PG_PHONE_PAST_DAY: _("휴대폰결제는 결제한 당일에만 취소할 수 있습니다. 현금환불로 처리해 주세요."),
            PG_TRANSFER_PARTIAL: _("계좌이체는 전액만 취소할 수 있습니다. 현금환불로 처리해 주세요.")}[code]


def pg_cancel_refusal_clause(code: str) -> str:
    """Why the PG refuses, as the first clause of a sentence the caller ends ("…되지 않아 …")."""
    return {PG_PHONE_PARTIAL: _("휴대폰결제는 부분취소가 되지 않아"),
            PG_PHONE_PAST_DAY: _("휴대폰결제는 결제한 당일에만 취소되어"),
            PG_TRANSFER_PARTIAL: _("계좌이체는 전액만 취소되어")}[code]


def pg_cancel_refusal_reason(code: str) -> str:
    """The line 환불관리 shows beside a refund paid as 현금환불 because the PG could not take its cancel."""
    return {PG_PHONE_PARTIAL: _("휴대폰결제는 부분취소가 되지 않아 현금환불(계좌)로 돌려줍니다."),
            PG_PHONE_PAST_DAY: _("휴대폰결제는 결제한 당일에만 취소되어 현금환불(계좌)로 돌려줍니다."),
            PG_TRANSFER_PARTIAL: _("계좌이체는 전액만 취소되어 현금환불(계좌)로 돌려줍니다.")}[code]
