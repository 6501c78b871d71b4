"""refund_plan (L2–L5, R3): the manual's §6–§9 numbers and properties that hold for every input."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mileage.policy import OrderAmounts, PolicyError, earn_amount, refund_plan
from mileage.policy.refund import CANCEL, REPAYMENT


def test_cancel_after_payment_returns_the_whole_use():
    # §7: 5,000원 paid 4,500원 + 500원 mileage; 현금환불 4,500원 + 네이버 마일리지 반환액 500원
    plan = refund_plan(used_won=500, returned_before_won=0, mileage_back_won=500, remaining=None,
                       original_rate_x10=10)
    assert (plan.call, plan.use_after_won, plan.earn_after_won) == (CANCEL, 0, 0)


def test_partial_return_reapproves_on_what_remains_at_the_original_rate():
    # §8: three 5,000원 lines used 1,000원; two come back with 700원 → 5,000원 remain using 300원
    remaining = OrderAmounts(goods_won=5_000)
    plan = refund_plan(used_won=1_000, returned_before_won=0, mileage_back_won=700, remaining=remaining,
                       original_rate_x10=10)
    assert (plan.call, plan.use_after_won, plan.earn_base_after_won, plan.earn_after_won) == (REPAYMENT, 300,
                                                                                               4_700, 47)
    # a later return may give back at most the 300원 left
    with pytest.raises(PolicyError):
        refund_plan(used_won=1_000, returned_before_won=700, mileage_back_won=301, remaining=remaining,
                    original_rate_x10=10)


def test_cancelled_order_keeping_part_of_the_use_reapproves_without_earn():
    plan = refund_plan(used_won=500, returned_before_won=0, mileage_back_won=300, remaining=None,
                       original_rate_x10=10)
    assert (plan.call, plan.use_after_won, plan.earn_after_won) == (REPAYMENT, 200, 0)


amounts = st.integers(min_value=0, max_value=2_000_000)


@given(used=st.integers(0, 100_000), backs=st.lists(st.integers(0, 100_000), max_size=5),
       goods=amounts, rate=st.integers(0, 1000))
def test_never_returns_more_than_was_used_summed_over_partial_returns(used, backs, goods, rate):
    returned = 0
    for back in backs:
        remaining = OrderAmounts(goods_won=goods)
        try:
            plan = refund_plan(used_won=used, returned_before_won=returned, mileage_back_won=back,
                               remaining=remaining, original_rate_x10=rate)
        except PolicyError:
            assert returned + back > used
            continue
        returned += plan.returned_won
        assert 0 <= plan.use_after_won == used - returned
        assert returned <= used
        # R3: the earn follows the original rate, on a base that never exceeds what is left of the goods
        assert plan.earn_after_won == earn_amount(plan.earn_base_after_won, rate)
        assert plan.earn_base_after_won <= goods


@given(used=st.integers(0, 100_000), goods=amounts, rate=st.integers(0, 1000))
def test_a_full_refund_reverses_everything(used, goods, rate):
    plan = refund_plan(used_won=used, returned_before_won=0, mileage_back_won=used, remaining=None,
                       original_rate_x10=rate)
    assert (plan.call, plan.use_after_won, plan.earn_after_won, plan.returned_won) == (CANCEL, 0, 0, used)
