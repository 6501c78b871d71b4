"""E4 as the order form tells it (mileage.policy.earn_within_holding_cap): the most of the expected earn that fits
under 500,000원 over the balance the popup reported, and nothing said when the whole earn fits."""

from hypothesis import given
from hypothesis import strategies as st

from mileage.policy import MAX_BALANCE_PER_BUYER_WON, earn_within_holding_cap


def test_the_helpers_buyer_at_499800_ordering_40000_won_earns_at_most_200():
    assert earn_within_holding_cap(400, balance_won=499_800, use_won=0) == 200


def test_a_use_counts_as_held_until_the_order_took_it():
    # the popup's balance is what is left after this use: the holding before it was 1,000원 more
    assert earn_within_holding_cap(45, balance_won=499_000, use_won=990) == 10


def test_at_or_over_the_cap_nothing_fits_and_far_below_it_the_earn_stands():
    assert earn_within_holding_cap(45, balance_won=500_000, use_won=0) == 0
    assert earn_within_holding_cap(45, balance_won=600_000, use_won=500) == 0
    assert earn_within_holding_cap(45, balance_won=15_000, use_won=500) is None
    assert earn_within_holding_cap(0, balance_won=500_000, use_won=0) is None  # nothing to cut


@given(expected=st.integers(0, 20_000), balance=st.integers(0, 1_000_000), use=st.integers(0, 500_000))
def test_what_is_said_never_exceeds_the_earn_nor_the_room_and_is_said_only_when_it_cuts(expected, balance, use):
    capped = earn_within_holding_cap(expected, balance_won=balance, use_won=use)
    room = max(0, MAX_BALANCE_PER_BUYER_WON - balance - use)
    if capped is None:
        assert expected <= room
    else:
        assert 0 <= capped == room < expected
