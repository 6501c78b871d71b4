"""The manual's worked examples and the boundaries of every number (docs/policy.md)."""

from datetime import datetime, timedelta

import pytest

from mileage.policy import (
    EarnBaseRule,
    OrderAmounts,
    PolicyError,
    earn_amount,
    earn_base,
    effective_month,
    exchange_earn_basis,
    exchange_outcome,
    inflow_is_valid,
    max_mileage_return,
    max_use_amount,
    referrer_ends_inflow,
    unpaid_deadline,
    validate_mileage_return,
    validate_use,
)
from mileage.policy.calendar import next_cutoff
from mileage.policy.constants import BUSINESS_TZ, INFLOW_TTL
from mileage.policy.inflow import InflowToken

KST = BUSINESS_TZ
ONE_PERCENT = 10


def kst(*args):
    return datetime(*args, tzinfo=KST)


class TestManualExample:
    def test_sample_product_1_with_500_used_earns_45(self):
        # given sample product 1 at 5,000원 and 500원 of mileage used
        amounts = OrderAmounts(goods_won=5_000, mileage_use_won=500)
        # when the earn base and the earn at 1% are computed
        base = earn_base(amounts)
        # then the buyer pays 4,500원 and earns 45원
        assert amounts.payable_won - amounts.mileage_use_won == 4_500
        assert base == 4_500
        assert earn_amount(base, ONE_PERCENT) == 45

    def test_exchange_up_to_sample_product_6(self):
        outcome = exchange_outcome(new_total_won=30_000, cash_paid_won=4_500, mileage_used_won=500,
                                   mileage_returned_won=500)
        assert outcome.additional_payment_won == 25_500
        assert outcome.refund_won == 0
        assert exchange_earn_basis(4_500, 30_000) == 4_500

    def test_exchange_down_earns_on_the_lower_amount(self):
        assert exchange_earn_basis(9_500, 5_000) == 5_000
        outcome = exchange_outcome(new_total_won=5_000, cash_paid_won=9_500, mileage_used_won=500,
                                   mileage_returned_won=500)
        assert outcome.refund_won == 4_500

    def test_refund_after_payment_returns_500_at_most(self):
        assert max_mileage_return(500, 0) == 500
        assert validate_mileage_return(500, used_won=500, already_returned_won=0) == 500
        with pytest.raises(PolicyError):
            validate_mileage_return(501, used_won=500, already_returned_won=0)

    def test_shirt_with_extra_rate(self):
        # 스탠다드 5부 셔츠 21,000원 at 5% + 추가 5%
        assert earn_amount(earn_base(OrderAmounts(goods_won=21_000)), 50 + 50) == 2_100


class TestEarnBase:
    def test_defaults_subtract_discounts_and_store_points_and_exclude_shipping(self):
        amounts = OrderAmounts(goods_won=30_000, discount_won=1_000, store_points_won=2_000, shipping_won=2_500,
                               mileage_use_won=500)
        assert earn_base(amounts) == 26_500

    def test_merchant_choices(self):
        amounts = OrderAmounts(goods_won=30_000, discount_won=1_000, store_points_won=2_000, shipping_won=2_500,
                               mileage_use_won=500)
        rule = EarnBaseRule(subtract_discounts=False, subtract_store_points=False, include_shipping=True)
        assert earn_base(amounts, rule) == 32_000

    def test_excluded_goods_never_in_the_base(self):
        amounts = OrderAmounts(goods_won=55_000, excluded_goods_won=50_000)
        assert earn_base(amounts) == 5_000
        assert max_use_amount(amounts.payable_won, amounts.excluded_goods_won) == 5_000

    def test_negative_amount_refused(self):
        with pytest.raises(ValueError):
            OrderAmounts(goods_won=-1)


class TestCaps:
    def test_per_order_cap_20000(self):
        assert earn_amount(2_000_000, ONE_PERCENT) == 20_000
        assert earn_amount(2_000_100, ONE_PERCENT) == 20_000
        assert earn_amount(1_999_900, ONE_PERCENT) == 19_999

    def test_below_one_won_not_granted(self):
        assert earn_amount(99, ONE_PERCENT) == 0
        assert earn_amount(100, ONE_PERCENT) == 1

    def test_one_decimal_rate(self):
        assert earn_amount(10_000, 15) == 150
        assert earn_amount(9_999, 15) == 149



class TestUse:
    @pytest.mark.parametrize("amount", [499, 1, 100])
    def test_below_500_refused(self, amount):
        with pytest.raises(PolicyError) as caught:
            validate_use(amount, balance_won=15_500, max_use_won=5_000)
        assert caught.value.code == "use_below_minimum"
        assert "500원" in caught.value.message_ko

    def test_500_accepted_and_zero_means_no_use(self):
        assert validate_use(500, balance_won=15_500, max_use_won=5_000) == 500
        assert validate_use(0, balance_won=0, max_use_won=0) == 0

    def test_above_balance_and_above_max(self):
        with pytest.raises(PolicyError) as caught:
            validate_use(15_501, balance_won=15_500, max_use_won=50_000)
        assert caught.value.code == "use_above_balance"
        with pytest.raises(PolicyError) as caught:
            validate_use(5_001, balance_won=15_500, max_use_won=5_000)
        assert caught.value.code == "use_above_max"

    def test_negative_and_non_integer(self):
        with pytest.raises(PolicyError):
            validate_use(-500, balance_won=15_500, max_use_won=5_000)
        with pytest.raises(PolicyError):
            validate_use("500", balance_won=15_500, max_use_won=5_000)  # type: ignore[arg-type]


class TestRateCalendar:
    def test_asked_on_20_nov_applies_in_december(self):
        assert effective_month(kst(2026, 11, 20, 12)) == (2026, 12)

    def test_asked_on_27_nov_applies_from_january(self):
        assert effective_month(kst(2026, 11, 27, 9)) == (2027, 1)

    def test_cutoff_boundary(self):
        assert effective_month(kst(2026, 11, 25, 23, 59, 59)) == (2026, 12)
        assert effective_month(kst(2026, 11, 26, 0, 0, 0)) == (2027, 1)

    def test_cutoff_is_seoul_time(self):
        # 25 Nov 15:30 UTC is 26 Nov 00:30 in Seoul
        from datetime import UTC
        assert effective_month(datetime(2026, 11, 25, 15, 30, tzinfo=UTC)) == (2027, 1)

    def test_december_request_rolls_the_year(self):
        assert effective_month(kst(2026, 12, 26)) == (2027, 2)
        assert effective_month(kst(2026, 12, 1)) == (2027, 1)

    def test_next_cutoff(self):
        assert next_cutoff(kst(2026, 11, 27, 9)) == kst(2026, 12, 26)
        assert next_cutoff(kst(2026, 11, 25, 23, 59, 59)) == kst(2026, 11, 26)


class TestInflow:
    def token(self, visited_at, expires_at=None):
        return InflowToken(visited_at=visited_at, channel="c", traffic_type="sa", base_rate_x10=50,
                           extra_rate_x10=50, expires_at=expires_at or visited_at + INFLOW_TTL, signature="0" * 40)

    def test_six_hours_plus_minus_one_second(self):
        visit = kst(2026, 11, 27, 9)
        token = self.token(visit)
        assert inflow_is_valid(token, visit + timedelta(hours=6) - timedelta(seconds=1))
        assert not inflow_is_valid(token, visit + timedelta(hours=6))
        assert not inflow_is_valid(token, visit + timedelta(hours=6, seconds=1))

    def test_a_visit_dated_ahead_is_refused(self):
        now = kst(2026, 11, 27, 9)
        assert inflow_is_valid(self.token(now + timedelta(minutes=4)), now)  # clocks drift a little
        assert not inflow_is_valid(self.token(now + timedelta(days=30)), now)

    def test_a_longer_stated_expiry_does_not_extend_six_hours(self):
        visit = kst(2026, 11, 27, 9)
        token = self.token(visit, visit + timedelta(days=1))
        assert not inflow_is_valid(token, visit + timedelta(hours=7))

    def test_no_token(self):
        assert not inflow_is_valid(None, kst(2026, 11, 27))

    def test_foreign_referrer(self):
        own, provider = ["shop.example.com"], ["naver.com"]
        assert referrer_ends_inflow("www.daum.net", own, provider)
        assert not referrer_ends_inflow("search.naver.com", own, provider)
        assert not referrer_ends_inflow("shop.example.com", own, provider)
        assert not referrer_ends_inflow("", own, provider)
        assert referrer_ends_inflow("evilnaver.com", own, provider)


class TestDates:
    def test_unpaid_deadline(self):
        assert unpaid_deadline(kst(2026, 11, 27, 9)) == kst(2026, 12, 12, 9)

    def test_naive_refused(self):
        with pytest.raises(ValueError):
            unpaid_deadline(datetime(2026, 11, 1))


class TestReturns:
    def test_partial_returns_never_exceed_use(self):
        assert validate_mileage_return(300, used_won=500, already_returned_won=0) == 300
        assert validate_mileage_return(200, used_won=500, already_returned_won=300) == 200
        with pytest.raises(PolicyError) as caught:
            validate_mileage_return(201, used_won=500, already_returned_won=300)
        assert "200원" in caught.value.message_ko
