"""Authorisation before capture (docs/policy.md L1, docs/protocol.md §1 hold and §2 status): a mileage
discount exists only once the provider approved it; a refused, expired, spent or unanswered approval places
nothing and charges nothing."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from mileage.models import MileageTransaction, OutboxMessage, SettlementLine, TransactionState
from mileage.services.transactions import outbox_deliver
from portal.orders.models import Order, OrderStatus, PaymentStatus
from tests.sandbox_process import PopupRefused

from .conftest import GUEST, buyer_with_choice, choose_mileage, use_merchant

pytestmark = pytest.mark.sandbox

CARD = {**GUEST, "payment_method": "card", "card_number": "4111-1111-1111-1111"}
on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="concurrent writers need PostgreSQL row locks (make test runs it there)")


def non_holding_merchant(shop) -> tuple[str, str]:
    """A merchant whose provider ignores the hold extension: only the approval stands between two orders."""
    api_id, hash_key = shop.new_merchant(rate="1")
    shop.control("merchant", api_id=api_id, hash_key=hash_key, rate="1", holds_popup_use=False)
    use_merchant(api_id, hash_key)
    return api_id, hash_key


def assert_not_placed(order: Order) -> None:
    assert order.status == OrderStatus.PAYMENT_FAILED
    payment = order.payments.get()
    assert payment.status == PaymentStatus.FAILED and not payment.gateway_tid  # the card was never charged
    assert order.mileage.state in (TransactionState.FAILED, TransactionState.ABORTED)


@pytest.mark.extended
def test_the_popup_holds_the_use_so_a_second_popup_cannot_spend_it(shop):
    # given a buyer with 3,000원 who chose 2,000원 in one session
    buyer = shop.new_buyer(3_000)
    buyer_with_choice(shop, buyer, 2_000)
    assert (shop.balance(buyer)["available"], shop.balance(buyer)["held"]) == (1_000, 2_000)
    # when a second session offers the popup again
    with pytest.raises(PopupRefused) as refused:
        buyer_with_choice(shop, buyer, 2_000)
    # then the popup shows the balance without the hold and refuses 2,000원
    assert "잔액" in refused.value.html and "1,000원" in refused.value.html


def test_spent_balance_refuses_the_approval_and_nothing_is_charged(shop):
    non_holding_merchant(shop)
    buyer = shop.new_buyer(3_000)
    first, second = buyer_with_choice(shop, buyer, 2_000), buyer_with_choice(shop, buyer, 2_000)
    assert first.post("/shop/order/", CARD).status_code == 302
    # when the second order is placed after the first spent the balance
    response = second.post("/shop/order/", CARD)
    # then it is not placed, the buyer reads why and can press 적립/사용 again or pay without mileage
    page = response.content.decode()
    assert response.status_code == 400 and "승인되지 않아" in page and "잔액이 부족" in page
    assert "Insufficient" not in page  # the portal's own words, not the provider's raw message
    assert "mileage-button" in page and "네이버 마일리지 사용 -2,000원" not in page
    refused = Order.objects.exclude(status=OrderStatus.PAID).get()
    assert_not_placed(refused)
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 1
    assert shop.balance(buyer)["available"] == 1_000 and shop.balance(buyer)["held"] == 0
    # and paying without mileage works at once
    placed = second.post("/shop/order/", CARD)
    assert placed.status_code == 302
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 2
    assert Order.objects.order_by("-id").first().mileage_use_won == 0


@pytest.mark.extended
def test_an_expired_hold_is_refused(shop, sandbox_clock):
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500)
    shop.advance(31 * 60)
    response = browser.post("/shop/order/", GUEST)
    assert response.status_code == 400 and "유효시간" in response.content.decode()
    assert_not_placed(Order.objects.get())
    assert shop.balance(buyer)["available"] == 15_500


# a lost approval answer, in both provider profiles: test_provider_profiles.py


def test_an_unreachable_provider_places_nothing_and_releases_the_hold(shop, settings):
    settings.MILEAGE_APPROVAL_READ_TIMEOUT = 0.5
    api_id, _key = non_holding_merchant(shop)
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500)
    # given the provider answers neither the approval nor the status call in time, however often asked (the status
    # call is asked after each unanswered approval, §2; a late approval it found would place the order)
    shop.fault(api_id, "timeout", count=6, delay=1.5)
    response = browser.post("/shop/order/", CARD)
    assert response.status_code == 400 and "연결되지 않았습니다" in response.content.decode()
    order = Order.objects.get()
    assert_not_placed(order)
    # then the reqTxId is aborted through the outbox, so whatever reached the provider late is undone
    abort, again = OutboxMessage.objects.filter(order=order).order_by("id")  # at once, and once more later
    assert (abort.kind, again.kind) == ("abort", "abort")
    shop.fault(api_id, "", count=0)
    if abort.status != "sent":
        outbox_deliver(abort.pk, force=True)
    for _ in range(40):  # the late approval may still be asleep in the provider
        if all(t["state"] == "ABORTED" for t in shop.balance(buyer)["transactions"]):
            break
        time.sleep(0.1)
    assert shop.balance(buyer)["available"] == 15_500
    assert all(t["state"] == "ABORTED" for t in shop.balance(buyer)["transactions"])


def test_a_second_tab_with_the_same_choice_is_refused(shop):
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, product="1")
    form = browser.get("/shop/order/").content.decode()
    req_tx_id = browser.session["mileage_choice"]["req_tx_id"]
    assert f'value="{req_tx_id}"' in form
    # given tab 1 placed the order with the choice
    assert browser.post("/shop/order/", {**GUEST, "mileage_choice": req_tx_id}).status_code == 302
    # when tab 2 submits the same page (priced with that choice)
    browser.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    response = browser.post("/shop/order/", {**GUEST, "mileage_choice": req_tx_id})
    # then nothing is placed and the buyer sees the new amounts first
    assert response.status_code == 400 and "바뀌었습니다" in response.content.decode()
    assert Order.objects.count() == 1 and MileageTransaction.objects.count() == 1


def test_the_same_choice_cannot_pay_for_two_orders(shop):
    from django.db import IntegrityError, transaction

    from mileage import wire
    from mileage.services.transactions import mileage_hold_record
    from tests.factories import ProductFactory, order_for

    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, product="1")
    assert browser.post("/shop/order/", GUEST).status_code == 302
    req_tx_id = MileageTransaction.objects.get().req_tx_id
    # the reqTxId is unique in the database, whatever path reaches the service
    with pytest.raises(IntegrityError), transaction.atomic():
        other = order_for([(ProductFactory(price_won=5_000), 1)], mileage_use_won=500)
        mileage_hold_record(order=other, done=wire.DoneResult("OK", req_tx_id, 10, 0, 500, 0, 500, 0))
    assert MileageTransaction.objects.count() == 1


@on_postgres
def test_two_tabs_of_one_session_submitting_at_once_place_one_order(shop):
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, product="1")
    cookie = browser.cookies

    def submit(_):
        tab = Client()
        tab.cookies = cookie
        try:
            return tab.post("/shop/order/", GUEST).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = sorted(pool.map(submit, range(2)))
    placed = Order.objects.exclude(status=OrderStatus.PAYMENT_FAILED).filter(uses_mileage=True)
    assert placed.count() == 1 and MileageTransaction.objects.filter(state=TransactionState.APPROVED).count() == 1
    assert codes[0] == 302 and codes[1] in (302, 400)  # the loser is refused, or found the cart empty and paid none
    assert shop.balance(buyer)["available"] == 15_000
    # the loser did not write its stale session over the winner's: the paid order stays visible, the cart empty
    tab = Client()
    tab.cookies = cookie
    assert tab.get(f"/shop/order/{placed.get().number}/complete/").status_code == 200
    assert tab.get("/shop/order/").status_code == 302


@on_postgres
@pytest.mark.parametrize("buyers_orders", [4])
def test_oversubscribed_placements_never_approve_more_than_the_balance(shop, buyers_orders):
    # given a provider that ignores holds and a buyer with 3,000원 who chose 2,000원 in four sessions
    non_holding_merchant(shop)
    buyer = shop.new_buyer(3_000)
    browsers = [buyer_with_choice(shop, buyer, 2_000) for _ in range(buyers_orders)]

    def place(browser):
        try:
            return browser.post("/shop/order/", CARD).status_code
        finally:
            connection.close()

    # when the four card orders are placed at the same moment
    with ThreadPoolExecutor(max_workers=buyers_orders) as pool:
        codes = list(pool.map(place, browsers))
    # then exactly one is approved and paid; the others are unpaid, unplaced, and hold nothing
    assert sorted(codes) == [302] + [400] * (buyers_orders - 1)
    paid = Order.objects.filter(status=OrderStatus.PAID)
    assert paid.count() == 1 and paid.get().payments.get().status == PaymentStatus.APPROVED
    for order in Order.objects.exclude(status=OrderStatus.PAID):
        assert_not_placed(order)
    approved = [t for t in shop.balance(buyer)["transactions"] if t["state"] == "APPROVED"]
    assert sum(t["use"] for t in approved) == 2_000 <= 3_000
    assert shop.balance(buyer)["available"] == 1_000 and shop.balance(buyer)["held"] == 0


@pytest.mark.extended
def test_an_order_left_half_placed_by_a_dead_process_is_abandoned_and_its_hold_released(shop):
    from datetime import timedelta

    from django.utils import timezone

    from portal.orders import checkout

    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, product="1")
    # given the process recorded the order with its held choice and died before asking for the approval
    lines = checkout.cart_lines({"1": 1})
    choice = browser.session["mileage_choice"]
    done = checkout.verified_choice(choice, max_use_won=5_000)
    priced = checkout.quote(lines, mileage_use_won=500, rate_x10=10)
    data = {k: "" for k in checkout.Buyer.__dataclass_fields__} | {"payment_method": "card"}
    order, _lines, _mileage = checkout._record(lines, checkout.Buyer(**data), None, priced, done, "", timezone.now(),
                                               True)
    assert order.status == OrderStatus.PLACING and shop.balance(buyer)["held"] == 500
    assert checkout.orders_abandon_stuck() == 0  # not yet: it may still be under way
    # when the scheduler sweeps after the cut-off
    assert checkout.orders_abandon_stuck(now=timezone.now() + timedelta(minutes=16)) == 1
    # then it is not placed and the provider released the hold
    assert_not_placed(Order.objects.get(pk=order.pk))
    assert (shop.balance(buyer)["available"], shop.balance(buyer)["held"]) == (15_500, 0)


def test_an_approval_whose_answer_a_dead_process_never_recorded_is_undone_at_the_provider(shop):
    from datetime import timedelta

    from django.utils import timezone

    from mileage.services.transactions import mileage_approval_ask
    from portal.orders import checkout

    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, product="1")
    # given the provider approved the use and the process died before the card charge and its record
    lines = checkout.cart_lines({"1": 1})
    done = checkout.verified_choice(browser.session["mileage_choice"], max_use_won=5_000)
    priced = checkout.quote(lines, mileage_use_won=500, rate_x10=10)
    data = {k: "" for k in checkout.Buyer.__dataclass_fields__} | {"payment_method": "card"}
    order, order_lines, mileage = checkout._record(lines, checkout.Buyer(**data), None, priced, done, "",
                                                   timezone.now(), True)
    assert mileage_approval_ask(order=order, mileage=mileage, lines=order_lines).result.tx_id
    assert shop.balance(buyer)["available"] == 15_000
    # when the scheduler sweeps after the cut-off
    assert checkout.orders_abandon_stuck(now=timezone.now() + timedelta(minutes=16)) == 1
    # then the order is not placed, carries no mileage line, and the approval is undone at the provider
    assert_not_placed(Order.objects.get(pk=order.pk))
    assert not SettlementLine.objects.filter(order=order).exists()
    assert (shop.balance(buyer)["available"], shop.balance(buyer)["held"]) == (15_500, 0)


def test_a_declined_card_drops_the_spent_choice_and_paying_again_works(shop):
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, product="1")
    declined = browser.post("/shop/order/", {**CARD, "card_number": "4000000000000002"})
    assert declined.status_code == 400 and "mileage_choice" not in browser.session
    assert 'id="mileage-choice"' not in declined.content.decode()
    choose_mileage(browser, shop, buyer, 500)
    assert browser.post("/shop/order/", CARD).status_code == 302
    assert Order.objects.filter(status=OrderStatus.PAID).get().mileage_use_won == 500
    assert shop.balance(buyer)["available"] == 15_000 and shop.balance(buyer)["held"] == 0


def test_a_form_still_showing_a_choice_that_reopening_released_is_refused(shop):
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, product="1")
    req_tx_id = browser.session["mileage_choice"]["req_tx_id"]
    browser.get("/mileage/popup/open/")  # 적립/사용 pressed again, then the popup closed without a choice
    response = browser.post("/shop/order/", {**GUEST, "mileage_choice": req_tx_id})
    assert response.status_code == 400 and "바뀌었습니다" in response.content.decode()
    assert not Order.objects.exists()
