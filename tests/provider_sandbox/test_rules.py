"""The provider sandbox's own rules (provider_sandbox.rules) against docs/policy.md's worked examples and the
boundaries of its numbers. These never import mileage.policy: the shop's rules are checked against the
provider's in the end-to-end tests (tests/mileage/provider, tests/portal/storefront, tests/portal/console)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mileage.wire import InflowToken
from provider_sandbox import rules
from provider_sandbox.rules import RateRequestFact, RuleError

KST = ZoneInfo("Asia/Seoul")
ONE_PERCENT = 10
FIVE_PERCENT = 50


def kst(*args) -> datetime:
    return datetime(*args, tzinfo=KST)


# --- the manual's worked examples ----------------------------------------------------------------------------

def test_given_sample_product_1_with_500_won_used_when_earned_at_1_percent_then_45_won():
    # given sample product 1 (5,000원) with 500원 of mileage used: the shop sends amount 4,500원
    base = 5_000 - 500
    # when the provider computes the earning at the base rate of 1%
    earned = rules.order_earning(base, ONE_PERCENT)
    # then the buyer earns 45원
    assert earned == 45


def test_given_a_balance_of_15500_when_the_buyer_uses_500_on_a_5000_order_then_the_use_is_accepted():
    # given the demo buyer's 15,500원 and the shop's maxUseAmount of 5,000원
    # when the buyer types 500 in the popup
    use = rules.check_use(rules.parse_use("500"), balance_won=15_500, max_use_won=5_000)
    # then 500원 is held for the order
    assert use == 500


def test_given_the_exchange_for_sample_product_6_when_re_approved_on_the_4500_basis_then_the_earn_stays_45():
    # given the 5,000원 order exchanged for sample product 6 (30,000원): the earn basis stays 4,500원 (L5)
    # when the provider recomputes the earning at the original 1% (R3)
    earned = rules.order_earning(4_500, ONE_PERCENT)
    # then it is still 45원, not 300원
    assert earned == 45
    assert rules.order_earning(30_000, ONE_PERCENT) == 300


def test_given_the_standard_shirt_at_21000_through_an_ad_when_earned_at_5_plus_5_percent_then_2100_won():
    # given "스탠다드 5부 셔츠" 21,000원, a base rate of 5% and a valid inflow token with an extra 5%
    visit = kst(2026, 11, 20, 10, 0)
    token = InflowToken(visit, "ad", "sa", FIVE_PERCENT, FIVE_PERCENT, visit + timedelta(hours=6), "0" * 40)
    extra = rules.extra_rate_of(token, visit + timedelta(hours=1))
    # when the provider computes the earning at base + extra
    earned = rules.order_earning(21_000, FIVE_PERCENT + extra)
    # then the buyer earns 10% of 21,000원
    assert extra == FIVE_PERCENT
    assert earned == 2_100


def test_given_a_request_on_20_november_when_the_calendar_is_read_then_it_applies_from_1_december():
    # given the merchant asks for 2% on 20 Nov (before the 26th's cut-off), standing at 1% before
    requests = [RateRequestFact(kst(2026, 11, 20, 14, 0), 20)]
    # when the calendar is read
    # then December is at 2% and November stays at 1%
    assert rules.first_month_of(requests[0].requested_at) == (2026, 12)
    assert rules.rate_of_month(requests, ONE_PERCENT, 2026, 11) == ONE_PERCENT
    assert rules.rate_of_month(requests, ONE_PERCENT, 2026, 12) == 20
    assert rules.rate_at(requests, ONE_PERCENT, kst(2026, 12, 1, 0, 0)) == 20


def test_given_a_request_on_27_november_when_the_calendar_is_read_then_december_is_fixed_and_it_applies_from_1_january():
    # given the merchant asks for 2% on 27 Nov, after December was fixed on the 26th
    requests = [RateRequestFact(kst(2026, 11, 27, 9, 0), 20)]
    # when the calendar is read
    # then December keeps 1% and the new rate starts on 1 January
    assert rules.next_month_is_fixed(kst(2026, 11, 27, 9, 0))
    assert rules.first_month_of(requests[0].requested_at) == (2027, 1)
    assert rules.rate_of_month(requests, ONE_PERCENT, 2026, 12) == ONE_PERCENT
    assert rules.rate_of_month(requests, ONE_PERCENT, 2027, 1) == 20


# --- use (U1, U2) --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("use", [0, 500, 15_500])
def test_given_a_use_of_0_or_from_500_to_the_balance_when_checked_then_it_is_accepted(use):
    assert rules.check_use(use, balance_won=15_500, max_use_won=20_000) == use


@pytest.mark.parametrize(("use", "code", "text"), [
    (499, "use_below_minimum", "500원부터"),
    (1, "use_below_minimum", "500원부터"),
    (-500, "use_negative", "0원 이상"),
    (15_501, "use_above_balance", "15,500원"),
])
def test_given_a_use_outside_the_rules_when_checked_then_the_buyer_is_told_why(use, code, text):
    with pytest.raises(RuleError) as refused:
        rules.check_use(use, balance_won=15_500, max_use_won=20_000)
    assert refused.value.code == code
    assert text in str(refused.value)


def test_given_a_use_above_the_shops_max_use_amount_when_checked_then_it_is_refused_with_the_maximum():
    # given an order whose payable amount without gift certificates is 3,000원 (U2: maxUseAmount)
    with pytest.raises(RuleError) as refused:
        rules.check_use(3_500, balance_won=15_500, max_use_won=3_000)
    assert refused.value.code == "use_above_max"
    assert "3,000원" in refused.value.message


@pytest.mark.parametrize(("typed", "won"), [("", 0), ("  ", 0), ("1,500", 1_500), (" 500 ", 500), ("-5", -5)])
def test_given_what_a_buyer_types_when_parsed_then_commas_and_spaces_are_read_as_people_mean_them(typed, won):
    assert rules.parse_use(typed) == won


def test_given_a_number_of_more_digits_than_any_balance_when_checked_then_it_is_said_to_be_above_the_balance():
    typed = rules.parse_use("9" * 20)
    with pytest.raises(RuleError) as refused:
        rules.check_use(typed, balance_won=15_500, max_use_won=5_000)
    assert refused.value.code == "use_above_balance" and "15,500원" in refused.value.message


@pytest.mark.parametrize("typed", ["abc", "5.5", "²", "١٢", "1" * 41, "--5", "-", "5e3"])
def test_given_something_that_is_not_an_amount_when_parsed_then_the_buyer_is_asked_for_a_number(typed):
    with pytest.raises(RuleError) as refused:
        rules.parse_use(typed)
    assert refused.value.code == "use_not_integer"
    assert "숫자" in refused.value.message


def test_given_a_bool_or_a_float_when_checked_as_a_use_then_it_is_refused():
    for value in (True, 500.0):
        with pytest.raises(RuleError):
            rules.check_use(value, balance_won=15_500, max_use_won=20_000)


# --- earn (E2, E3) -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("base", "rate", "earned"), [
    (4_599, ONE_PERCENT, 45),  # rounded down to the won
    (99, ONE_PERCENT, 0),  # 0.99원: below 1원 nothing is granted
    (100, ONE_PERCENT, 1),
    (1_000, 15, 15),  # 1.5%
    (333, 15, 4),  # 4.995 → 4
    (0, ONE_PERCENT, 0),
    (4_500, 0, 0),
])
def test_given_a_base_and_a_rate_when_earned_then_the_won_is_rounded_down(base, rate, earned):
    assert rules.order_earning(base, rate) == earned


@pytest.mark.parametrize(("base", "earned"), [(2_000_000, 20_000), (2_000_099, 20_000), (1_999_900, 19_999),
                                              (50_000_000, 20_000)])
def test_given_a_large_order_when_earned_at_1_percent_then_at_most_20000_won(base, earned):
    assert rules.order_earning(base, ONE_PERCENT) == earned


def test_given_a_negative_base_when_earned_then_it_is_a_programming_error():
    with pytest.raises(ValueError):
        rules.order_earning(-1, ONE_PERCENT)


# --- the holding cap (E4) ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("available", "pending", "earning", "granted"), [
    (0, 0, 45, 45),
    (499_000, 900, 45, 45),  # 499,900 + 45 fits
    (499_960, 0, 45, 40),  # cut to what fits under 500,000원
    (400_000, 99_999, 20_000, 1),
    (500_000, 0, 45, 0),  # at the cap: use only
    (300_000, 200_000, 45, 0),  # available + pending counts
    (600_000, 0, 45, 0),
])
def test_given_what_a_buyer_holds_when_an_earning_is_granted_then_the_holding_stays_under_500000(
        available, pending, earning, granted):
    assert rules.within_holding_cap(earning, available_won=available, pending_won=pending) == granted


def test_given_a_buyer_at_500000_with_a_use_held_when_the_popup_opens_then_the_buyer_can_only_use():
    assert rules.can_only_use(available_won=499_500, pending_won=0, held_won=500)
    assert not rules.can_only_use(available_won=499_000, pending_won=500, held_won=0)


# --- pending → available (E7) and the unpaid bank transfer (E8) ----------------------------------------------

def test_given_a_payment_when_15_days_pass_then_the_earning_becomes_available_at_that_moment():
    paid = kst(2026, 11, 20, 15, 30)
    assert rules.available_from(paid) == kst(2026, 12, 5, 15, 30)


def test_given_an_unpaid_bank_transfer_when_15_days_pass_then_it_lapses_and_not_a_second_before():
    approved = kst(2026, 11, 20, 15, 30)
    deadline = kst(2026, 12, 5, 15, 30)
    assert rules.unpaid_lapses_at(approved) == deadline
    assert not rules.unpaid_has_lapsed(approved, deadline - timedelta(seconds=1))
    assert rules.unpaid_has_lapsed(approved, deadline)


def test_given_a_naive_datetime_when_a_period_is_counted_then_it_is_refused():
    with pytest.raises(ValueError):
        rules.available_from(datetime(2026, 11, 20))


# --- the rate calendar (R2) boundaries -----------------------------------------------------------------------

@pytest.mark.parametrize(("requested", "first"), [
    (kst(2026, 11, 25, 23, 59, 59), (2026, 12)),
    (kst(2026, 11, 26, 0, 0), (2027, 1)),  # 00:00 on the 26th: December is already fixed
    (kst(2026, 12, 25, 12, 0), (2027, 1)),
    (kst(2026, 12, 26, 12, 0), (2027, 2)),  # across the year's end
    (datetime(2026, 11, 25, 15, 0, tzinfo=ZoneInfo("UTC")), (2027, 1)),  # 26 Nov 00:00 in Seoul
    (datetime(2026, 11, 25, 14, 59, tzinfo=ZoneInfo("UTC")), (2026, 12)),
])
def test_given_a_request_near_the_cutoff_when_its_first_month_is_asked_then_seoul_time_decides(requested, first):
    assert rules.first_month_of(requested) == first


def test_given_several_requests_when_a_month_is_read_then_the_last_one_before_its_cutoff_stands():
    requests = [RateRequestFact(kst(2026, 10, 3), 20), RateRequestFact(kst(2026, 10, 20), 30),
                RateRequestFact(kst(2026, 10, 27), 40), RateRequestFact(kst(2026, 11, 2), 50)]
    assert rules.rate_of_month(requests, ONE_PERCENT, 2026, 10) == ONE_PERCENT
    assert rules.rate_of_month(requests, ONE_PERCENT, 2026, 11) == 30
    assert rules.rate_of_month(requests, ONE_PERCENT, 2026, 12) == 50


def test_given_two_requests_at_the_same_moment_when_read_then_the_later_recorded_one_stands():
    moment = kst(2026, 11, 2, 9, 0)
    requests = [RateRequestFact(moment, 20), RateRequestFact(moment, 30)]
    assert rules.rate_of_month(requests, ONE_PERCENT, 2026, 12) == 30


def test_given_a_moment_when_the_next_cutoff_is_asked_then_it_is_the_coming_26th_at_midnight_in_seoul():
    assert rules.next_cutoff_after(kst(2026, 11, 20, 12, 0)) == kst(2026, 11, 26)
    assert rules.next_cutoff_after(kst(2026, 11, 26)) == kst(2026, 12, 26)
    assert rules.next_cutoff_after(kst(2026, 12, 30)) == kst(2027, 1, 26)
    assert not rules.next_month_is_fixed(kst(2026, 11, 25, 23, 59))
    assert rules.next_month_is_fixed(kst(2026, 11, 26))


# --- the inflow's extra rate (I3) ----------------------------------------------------------------------------

def _token(visit: datetime, expires: datetime) -> InflowToken:
    return InflowToken(visit, "ad", "sa", ONE_PERCENT, FIVE_PERCENT, expires, "0" * 40)


def test_given_an_ad_visit_when_paid_within_6_hours_then_the_extra_rate_is_granted_and_not_at_6_hours():
    visit = kst(2026, 11, 20, 10, 0)
    token = _token(visit, visit + timedelta(hours=6))
    assert rules.extra_rate_of(token, visit + timedelta(hours=5, minutes=59)) == FIVE_PERCENT
    assert rules.extra_rate_of(token, visit + timedelta(hours=6)) == 0


def test_given_a_token_claiming_a_longer_life_when_paid_after_6_hours_then_no_extra_rate():
    visit = kst(2026, 11, 20, 10, 0)
    token = _token(visit, visit + timedelta(days=3))
    assert rules.extra_rate_of(token, visit + timedelta(hours=7)) == 0


def test_given_a_token_with_an_earlier_expiry_when_paid_after_it_then_no_extra_rate():
    visit = kst(2026, 11, 20, 10, 0)
    token = _token(visit, visit + timedelta(hours=2))
    assert rules.extra_rate_of(token, visit + timedelta(hours=3)) == 0
    assert rules.extra_rate_of(None, visit) == 0


# --- what the sandbox may import -----------------------------------------------------------------------------

def test_given_the_sandbox_sources_when_their_imports_are_read_then_only_the_wire_protocol_comes_from_the_shop():
    import ast
    from pathlib import Path

    root = Path(rules.__file__).resolve().parent
    shop = {"mileage", "portal", "cms_pages"}
    found = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] in shop:
                    found |= {f"{node.module}.{a.name}" if node.module == "mileage" else node.module
                              for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.split(".")[0] in shop}
    assert found == {"mileage.wire"}


def test_given_the_shop_sources_when_their_imports_are_read_then_none_imports_the_sandbox():
    import ast
    from pathlib import Path

    root = Path(rules.__file__).resolve().parents[1]
    offenders = []
    for top in ("mileage", "portal", "cms_pages"):
        for path in (root / top).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
                offenders += [f"{path.relative_to(root)}: {n}" for n in names if n.split(".")[0] == "provider_sandbox"]
    assert offenders == []


def test_given_a_request_at_00_00_on_the_26th_when_next_month_is_read_then_it_does_not_stand_yet():
    requests = [RateRequestFact(kst(2026, 11, 26, 0, 0), 20)]
    assert rules.rate_of_month(requests, ONE_PERCENT, 2026, 12) == ONE_PERCENT
    assert rules.rate_of_month(requests, ONE_PERCENT, 2027, 1) == 20
    one_second_before = [RateRequestFact(kst(2026, 11, 25, 23, 59, 59), 20)]
    assert rules.rate_of_month(one_second_before, ONE_PERCENT, 2026, 12) == 20
