"""What a PG takes back of each payment method (issue 23: "card 부분취소, transfer whole only, mobile same-day only"),
one pure rule in portal.orders.rules; the Asia/Seoul calendar day decides a mobile payment's day."""

from datetime import UTC, datetime

import pytest

from portal.orders.rules import (
    PG_PHONE_PARTIAL,
    PG_PHONE_PAST_DAY,
    PG_TRANSFER_PARTIAL,
    pg_cancel_refusal,
    pg_cancel_refusal_message,
    pg_cancel_refusal_reason,
)

NOON_KST = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 12:00 in Seoul


@pytest.mark.parametrize(("method", "amount", "left", "expected"), [
    ("card", 1_000, 19_500, None),  # a card is cancelled in parts
    ("card", 19_500, 19_500, None),
    ("realtime", 1_000, 19_500, PG_TRANSFER_PARTIAL),
    ("realtime", 19_500, 19_500, None),  # a transfer whole
    ("phone", 1_000, 19_500, PG_PHONE_PARTIAL),
    ("phone", 19_500, 19_500, None),  # a mobile payment whole, on its day
    ("bank", 1_000, 19_500, None),  # 무통장입금 never goes to a PG
])
def test_what_a_pg_takes_back_of_each_method(method, amount, left, expected):
    assert pg_cancel_refusal(method=method, amount_won=amount, left_won=left, paid_at=NOON_KST,
                             now=NOON_KST) == expected


@pytest.mark.parametrize(("paid_at", "now", "expected"), [
    # 23:59 in Seoul, asked at 00:01 the next Seoul day (both the same UTC day): past its day
    (datetime(2026, 12, 3, 14, 59, tzinfo=UTC), datetime(2026, 12, 3, 15, 1, tzinfo=UTC), PG_PHONE_PAST_DAY),
    # 00:30 in Seoul (the previous UTC day), asked at 23:00 in Seoul: the same day
    (datetime(2026, 12, 3, 15, 30, tzinfo=UTC), datetime(2026, 12, 4, 14, 0, tzinfo=UTC), None),
    (None, NOON_KST, None),  # not paid yet: today
])
def test_a_mobile_payment_is_cancelled_on_its_seoul_day_only(paid_at, now, expected):
    assert pg_cancel_refusal(method="phone", amount_won=5_000, left_won=5_000, paid_at=paid_at, now=now) == expected
    # a card knows no such day
    assert pg_cancel_refusal(method="card", amount_won=5_000, left_won=5_000, paid_at=paid_at, now=now) is None


def test_a_mobile_payment_past_its_day_is_refused_whatever_the_amount():
    yesterday = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    assert pg_cancel_refusal(method="phone", amount_won=1_000, left_won=5_000, paid_at=yesterday,
                             now=NOON_KST) == PG_PHONE_PAST_DAY


@pytest.mark.parametrize("code", [PG_PHONE_PARTIAL, PG_PHONE_PAST_DAY, PG_TRANSFER_PARTIAL])
def test_each_refusal_says_why_and_what_instead(code):
    assert "현금환불" in pg_cancel_refusal_message(code) and "현금환불(계좌)" in pg_cancel_refusal_reason(code)
