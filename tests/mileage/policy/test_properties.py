"""Hypothesis properties of the policy: never negative, never above a cap, monotonic, exclusions win."""

from hypothesis import given
from hypothesis import strategies as st

from mileage.policy import (
    EarnBaseRule,
    OrderAmounts,
    PolicyError,
    earn_amount,
    earn_base,
    max_use_amount,
    refund_plan,
    validate_mileage_return,
)
from mileage.policy.constants import MAX_EARN_PER_ORDER_WON
from mileage.policy.refund import CANCEL

won = st.integers(min_value=0, max_value=50_000_000)
rates = st.integers(min_value=0, max_value=1000)
rules = st.builds(EarnBaseRule, st.booleans(), st.booleans(), st.booleans())


@st.composite
def orders(draw):
    goods = draw(won)
    excluded = draw(st.integers(min_value=0, max_value=goods))
    return OrderAmounts(goods_won=goods, excluded_goods_won=excluded, discount_won=draw(won),
                        store_points_won=draw(won), shipping_won=draw(won), mileage_use_won=draw(won))


@given(orders(), rules, rates)
def test_earn_never_negative_never_above_the_order_cap(amounts, rule, rate):
    earned = earn_amount(earn_base(amounts, rule), rate)
    assert 0 <= earned <= MAX_EARN_PER_ORDER_WON


@given(won, won, rates)
def test_earn_is_monotonic_in_the_base(a, b, rate):
    low, high = sorted((a, b))
    assert earn_amount(low, rate) <= earn_amount(high, rate)


@given(orders(), rules, rates, won)
def test_excluded_goods_never_earn(amounts, rule, rate, extra_excluded):
    more_excluded = OrderAmounts(
        goods_won=amounts.goods_won + extra_excluded, excluded_goods_won=amounts.excluded_goods_won + extra_excluded,
        discount_won=amounts.discount_won, store_points_won=amounts.store_points_won,
        shipping_won=amounts.shipping_won, mileage_use_won=amounts.mileage_use_won)
    assert earn_base(more_excluded, rule) == earn_base(amounts, rule)


@given(won, won)
def test_use_never_pays_for_excluded_goods(payable, excluded):
    assert 0 <= max_use_amount(payable, excluded) <= max(0, payable - excluded)


@given(st.integers(0, 100_000), st.lists(st.integers(0, 100_000), max_size=8))
def test_returns_never_exceed_use(used, attempts):
    returned = 0
    for amount in attempts:
        try:
            returned += validate_mileage_return(amount, used_won=used, already_returned_won=returned)
        except PolicyError:
            pass
    assert 0 <= returned <= used


@given(orders(), rules, rates, st.integers(0, 100_000))
def test_given_any_order_when_it_is_fully_refunded_then_nothing_remains_at_the_provider(amounts, rule, rate, earlier):
    # given an order that used mileage (part of it perhaps given back by an earlier partial refund)
    used = amounts.mileage_use_won
    returned_before = min(earlier, used)
    # when the last refund gives back the rest and nothing of the order remains
    plan = refund_plan(used_won=used, returned_before_won=returned_before, mileage_back_won=used - returned_before,
                       remaining=None, original_rate_x10=rate, rule=rule)
    # then the provider cancels the whole transaction: no use, no earn base, no earn left
    assert plan.call == CANCEL
    assert (plan.use_after_won, plan.earn_base_after_won, plan.order_amount_after_won, plan.earn_after_won) == \
        (0, 0, 0, 0)
    assert plan.returned_won == used - returned_before


@given(orders(), orders(), rules, rates, st.integers(0, 100_000), st.integers(0, 100_000))
def test_given_an_order_earning_the_shops_points_when_any_refund_is_planned_then_it_never_earns_naver_mileage(
        amounts, remaining, rule, rate, earlier, back):
    # given an order that earns the shop's 적립금 instead (E9), after any earlier partial refunds
    used = amounts.mileage_use_won
    returned_before = min(earlier, used)
    back = min(back, used - returned_before)
    # when any refund is planned, with any part of the order remaining
    for left in (remaining, None):
        plan = refund_plan(used_won=used, returned_before_won=returned_before, mileage_back_won=back,
                           remaining=left, original_rate_x10=rate, rule=rule, earns_mileage=False)
        # then the provider is never asked for an earn base: an order never earns both
        assert plan.earn_base_after_won == 0 and plan.earn_after_won == 0
    # and the same refund of an order earning Naver mileage keeps its earn on what remains
    naver = refund_plan(used_won=used, returned_before_won=returned_before, mileage_back_won=back,
                        remaining=remaining, original_rate_x10=rate, rule=rule)
    assert naver.earn_base_after_won >= 0
