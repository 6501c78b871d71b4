"""E9: the shop's own 적립금 and the buyer's per-order choice (worked examples and properties)."""

from hypothesis import given
from hypothesis import strategies as st

from mileage.policy import earn_plan, store_points_earn
from mileage.policy.earn_choice import BOTH, NAVER, STORE


def test_the_manual_order_with_2_percent_store_points():
    # 5,000원 order, 500원 mileage used → earn base 4,500원
    assert earn_plan(buyer_chooses=False, chosen="", is_member=True, base_won=4_500, store_rate_x10=20) == \
        earn_plan(buyer_chooses=False, chosen=STORE, is_member=True, base_won=4_500, store_rate_x10=20)
    both = earn_plan(buyer_chooses=False, chosen="", is_member=True, base_won=4_500, store_rate_x10=20)
    assert (both.choice, both.naver_base_won, both.store_points_won) == (BOTH, 4_500, 90)
    store = earn_plan(buyer_chooses=True, chosen=STORE, is_member=True, base_won=4_500, store_rate_x10=20)
    assert (store.choice, store.naver_base_won, store.store_points_won) == (STORE, 0, 90)
    naver = earn_plan(buyer_chooses=True, chosen=NAVER, is_member=True, base_won=4_500, store_rate_x10=20)
    assert (naver.choice, naver.naver_base_won, naver.store_points_won) == (NAVER, 4_500, 0)


def test_the_manual_product_page_store_points():
    assert store_points_earn(20_000, 20) == 400  # "적립금 : 400원"
    assert store_points_earn(49, 20) == 0  # below 1원 nothing


def test_a_guest_earns_naver_mileage_only():
    guest = earn_plan(buyer_chooses=True, chosen=STORE, is_member=False, base_won=4_500, store_rate_x10=20)
    assert (guest.choice, guest.naver_base_won, guest.store_points_won) == (NAVER, 4_500, 0)


@given(base=st.integers(0, 10_000_000), rate=st.integers(0, 1000), chooses=st.booleans(),
       chosen=st.sampled_from([NAVER, STORE, ""]), member=st.booleans())
def test_an_order_never_earns_more_than_both_and_choosing_gives_one(base, rate, chooses, chosen, member):
    plan = earn_plan(buyer_chooses=chooses, chosen=chosen, is_member=member, base_won=base, store_rate_x10=rate)
    assert 0 <= plan.naver_base_won <= base and 0 <= plan.store_points_won <= base
    if chooses and member:
        assert plan.naver_base_won == 0 or plan.store_points_won == 0
