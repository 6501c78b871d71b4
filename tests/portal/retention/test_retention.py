"""Retention of personal data (portal/retention): with the clock moved past the law's periods the orders' personal
fields are erased, every figure and ledger stays, a second run changes nothing, the dry run changes nothing, and
what is still open (a refund waiting, a request open, an order not final) is kept."""

import io
from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from mileage.policy.constants import BUSINESS_TZ
from portal.accounts.models import Member
from portal.accounts.services import store_points_change
from portal.aftersales.buyer_requests import buyer_request_create, buyer_request_dismiss
from portal.aftersales.cancellations import order_cancel_after_payment
from portal.aftersales.common import RefundInput
from portal.aftersales.models import BuyerRequest, Refund, RefundStatus
from portal.aftersales.refunds import refund_complete
from portal.orders.models import Order, OrderStatus, PaymentCancel, PaymentMethod
from portal.retention import periods, tasks
from portal.retention.checks import retention_periods
from portal.retention.models import ERASED, Erasure, RetentionRun
from portal.retention.services import due, erase_expired
from tests.factories import MemberFactory, ProductFactory, paid_order_for

from .conftest import YEARS
from .helpers import figures

pytestmark = pytest.mark.django_db

PERSONAL = {"orderer_name": "홍길동", "orderer_phone": "010-1234-5678", "orderer_email": "hong@example.com",
            "recipient_name": "김수령", "recipient_phone": "010-8765-4321", "zipcode": "07000",
            "address": "서울 동작구 신대방2동 1-1", "address_detail": "101동 202호", "shipping_message": "문 앞에 놓아 주세요",
            "depositor_name": "홍길동"}
ERASED_ORDER = {"orderer_name": ERASED, "orderer_phone": ERASED, "orderer_email": "", "recipient_name": ERASED,
                "recipient_phone": ERASED, "zipcode": "", "address": ERASED, "address_detail": "",
                "shipping_message": "", "depositor_name": ERASED, "guest_password_hash": ""}


@pytest.fixture
def operator():
    return User.objects.create_user("op")


def _order(status: str, *, member: Member | None = None, method: str = PaymentMethod.CARD) -> Order:
    """A paid order in `status` carrying a buyer's personal data (a guest's with a password)."""
    order = paid_order_for([(ProductFactory(price_won=5_000), 1)], method=method, member=member)
    Order.objects.filter(pk=order.pk).update(status=status, **PERSONAL)
    order.refresh_from_db()
    if member is None:
        order.set_guest_password("abcd1234")
        order.save(update_fields=["guest_password_hash"])
    return order


def _personal(order: Order) -> dict:
    order.refresh_from_db()
    return {name: getattr(order, name) for name in ERASED_ORDER}


def _cancelled_with_cash_refund(operator, member=None) -> Order:
    order = _order(OrderStatus.PAID, member=member, method=PaymentMethod.BANK_TRANSFER)
    refund = order_cancel_after_payment(order=order, by=operator, data=RefundInput(
        cash_won=5_000, store_points_won=0, mileage_won=0, method="cash", bank="농협", account_no="302-1234-5678-91",
        holder="홍길동"))
    assert refund_complete(refund=refund, by=operator)
    return order


def _refused_request(operator) -> Order:
    order = _order(OrderStatus.DELIVERED)
    request = buyer_request_create(order=order, kind="return", reason="상자가 찢어져 왔어요. 010-9999-8888로 연락 주세요")
    buyer_request_dismiss(request=request, reason="홍길동님, 반품 기간이 지났습니다", by=operator)
    return order


def test_past_five_years_the_personal_data_go_and_every_figure_stays(clock, operator):
    # given a guest's and a member's confirmed orders, and a member's order cancelled with a cash refund
    member = MemberFactory(name="이회원", phone="010-5555-6666", address="부산 해운대구")
    guest = _order(OrderStatus.CONFIRMED)
    members = _order(OrderStatus.CONFIRMED, member=member)
    cancelled = _cancelled_with_cash_refund(operator, member=member)
    store_points_change(member=member, delta_won=300, reason="구매확정 적립", idempotency_key="sp-1", order=members)
    before = figures()
    # when the clock is a day short of five years, nothing is due
    clock(5 * YEARS - 1)
    assert due() == [] and erase_expired().erased == []
    # when it is past five years
    clock(5 * YEARS + 5)
    report = erase_expired()
    # then the three orders' personal data are gone, the guest's password with them
    assert sorted(report.erased) == sorted([guest.number, members.number, cancelled.number])
    assert (report.guests, report.members) == (1, 2)
    for order in (guest, members, cancelled):
        assert _personal(order) == ERASED_ORDER
    assert not guest.check_guest_password("abcd1234")
    # and the cash refund's account (on the refund and on its payout record), the bank's name kept
    refund = Refund.objects.get(order=cancelled)
    assert (refund.bank, refund.account_no, refund.holder) == ("농협", ERASED, ERASED)
    assert PaymentCancel.objects.get(payment__order=cancelled).message == ERASED
    # and every amount, number, status, date and ledger row is as it was; the member's account too
    assert figures() == before
    member.refresh_from_db()
    assert (member.name, member.phone) == ("이회원", "010-5555-6666")
    # and the erasure is recorded per order
    erasures = {e.order_id: e for e in Erasure.objects.all()}
    assert erasures[guest.pk].guest and not erasures[members.pk].guest
    assert erasures[guest.pk].retention_months == 60


def test_a_second_run_changes_nothing(clock, operator):
    order = _order(OrderStatus.CONFIRMED)
    clock(5 * YEARS + 5)
    assert erase_expired().erased == [order.number]
    erased_at = Erasure.objects.get().erased_at
    after = figures(), _personal(order)
    clock(5 * YEARS + 6)
    assert erase_expired().erased == [] and due() == []
    assert (figures(), _personal(order)) == after
    assert Erasure.objects.get().erased_at == erased_at


def test_the_dry_run_lists_the_orders_and_changes_nothing(clock, operator):
    guest, members = _order(OrderStatus.CONFIRMED), _order(OrderStatus.CANCELLED, member=MemberFactory())
    clock(5 * YEARS + 5)
    recent = _order(OrderStatus.CONFIRMED)  # placed today
    before = figures(), _personal(guest), _personal(members)
    out = io.StringIO()
    call_command("anonymise_expired", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "would erase the personal data of 2 orders (1 guest, 1 member); nothing changed" in text
    assert guest.number in text and members.number in text and recent.number not in text
    assert (figures(), _personal(guest), _personal(members)) == before
    assert not Erasure.objects.exists()


@pytest.mark.django_db(transaction=True)  # the run holds its advisory lock outside any transaction (PostgreSQL)
def test_the_command_erases_and_says_what_it_did(clock):
    order = _order(OrderStatus.CONFIRMED)
    clock(5 * YEARS + 5)
    out = io.StringIO()
    call_command("anonymise_expired", stdout=out)
    assert f"erased the personal data of 1 orders (1 guest, 0 member)\n  {order.number}" in out.getvalue()
    assert _personal(order) == ERASED_ORDER


def test_what_is_still_open_is_kept(clock, operator):
    # given a refund waiting as 환불전, a buyer's open request, and orders not final yet
    waiting = _order(OrderStatus.PAID, method=PaymentMethod.BANK_TRANSFER)
    order_cancel_after_payment(order=waiting, by=operator, data=RefundInput(
        cash_won=5_000, store_points_won=0, mileage_won=0, method="cash", bank="농협", account_no="1", holder="홍"))
    assert Refund.objects.get(order=waiting).status == RefundStatus.BEFORE
    asked = _order(OrderStatus.DELIVERED)
    buyer_request_create(order=asked, kind="return", reason="파손")
    unfinished = [_order(status) for status in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.RETURN_REQUESTED)]
    # when ten years pass
    clock(10 * YEARS)
    # then none of them is erased
    assert erase_expired().erased == []
    for order in (waiting, asked, *unfinished):
        assert _personal(order)["orderer_name"] == "홍길동"


def test_the_period_runs_from_the_last_event(clock):
    # given a member's order whose store points moved three years after it was placed
    member = MemberFactory()
    order = _order(OrderStatus.CONFIRMED, member=member)
    clock(3 * YEARS)
    store_points_change(member=member, delta_won=500, reason="구매확정 적립", idempotency_key="late", order=order)
    # then five years after the placement it is kept, five years after that event it is erased
    clock(5 * YEARS + 5)
    assert due() == []
    clock(8 * YEARS + 5)
    assert erase_expired().erased == [order.number]
    assert Erasure.objects.get().last_event_at.year == (Order.objects.get().placed_at.year + 3)


def test_a_refused_request_is_kept_for_the_dispute_period_when_that_is_longer(clock, operator, settings):
    # given a refused (반려) return request — a dispute record — and the dispute period set to seven years
    settings.PERSONAL_DATA_RETENTION_MONTHS = {"contract": 60, "payment": 60, "dispute": 84}
    disputed, plain = _refused_request(operator), _order(OrderStatus.CONFIRMED)
    # then at five years only the plain order is erased
    clock(5 * YEARS + 5)
    assert erase_expired().erased == [plain.number]
    # and at seven years the disputed one, its buyer's and operator's words with it
    clock(7 * YEARS + 5)
    assert erase_expired().erased == [disputed.number]
    request = BuyerRequest.objects.get(order=disputed)
    assert (request.reason, request.dismiss_reason) == (ERASED, ERASED)
    assert Erasure.objects.get(order=disputed).retention_months == 84


def test_the_dispute_period_of_the_law_is_within_the_contracts(clock, operator):
    disputed = _refused_request(operator)
    clock(5 * YEARS + 5)
    assert erase_expired().erased == [disputed.number]


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_claims_the_day_once_across_nodes(clock, settings):
    settings.RETENTION_HOUR = 0
    order = _order(OrderStatus.CONFIRMED)
    clock(5 * YEARS + 5)
    # when a node's scheduler ticks, it claims the day and the task erases (at once, with the test's task backend)
    assert tasks.retention_tick() is True
    run = RetentionRun.objects.get()
    assert run.finished_at is not None and run.erased == 1
    assert _personal(order) == ERASED_ORDER
    # and its next ticks that day cost nothing
    assert tasks.retention_tick() is False
    # and another node (a fresh process) finds the day taken
    tasks.DAILY.claimed = None
    assert tasks.retention_tick() is False
    assert RetentionRun.objects.count() == 1
    # and the next day is another run
    clock(5 * YEARS + 6)
    assert tasks.retention_tick() is True and RetentionRun.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_waits_for_the_nights_hour(settings):
    settings.RETENTION_HOUR = 24  # never reached
    assert tasks.retention_tick() is False and not RetentionRun.objects.exists()


def test_a_period_below_the_laws_is_refused_at_start(settings):
    settings.PERSONAL_DATA_RETENTION_MONTHS = {"contract": 12, "payment": 60, "dispute": 36, "ads": 6}
    assert sorted(error.id for error in retention_periods(None)) == ["retention.E001", "retention.E002"]
    settings.PERSONAL_DATA_RETENTION_MONTHS = {"contract": 60, "payment": 72, "dispute": 36}
    assert retention_periods(None) == []


@pytest.mark.parametrize(("moment", "months", "expected"), [
    ((2031, 3, 31, 10), 1, (2031, 2, 28, 10)),
    ((2032, 3, 31, 10), 1, (2032, 2, 29, 10)),
    ((2031, 1, 15, 0), 60, (2026, 1, 15, 0)),
    ((2031, 1, 15, 0), 13, (2029, 12, 15, 0)),
])
def test_months_are_calendar_months_in_seoul(moment, months, expected):
    earlier = periods.months_before(datetime(*moment, tzinfo=BUSINESS_TZ), months)
    assert (earlier.year, earlier.month, earlier.day, earlier.hour) == expected
