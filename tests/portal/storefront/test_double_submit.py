"""One cart, one order: 결제하기 pressed twice — a double click, two requests of one browser at once, or the order
form open in two tabs of one cart — places one order and charges once, with or without Naver Mileage (a choice or a
PG window makes an order unique by itself; an order without either is made unique by its cart's key)."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from portal.orders.models import GatewayEntry, Order, OrderStatus

from .conftest import GUEST

pytestmark = pytest.mark.sandbox
on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="two requests at once need PostgreSQL (make test runs it there)")
CARD = {**GUEST, "payment_method": "card", "card_number": "4111-1111-1111-1111"}


def form_shown(browser: Client) -> dict:
    """The order form as the browser got it: its hidden key and priced amounts."""
    browser.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    page = browser.get("/shop/order/").content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="(submission_key|priced)" value="([^"]*)"', page))
    assert re.fullmatch(r"[0-9a-f]{32}", hidden["submission_key"]), hidden
    return hidden


def key_on(page: str) -> str:
    return re.search(r'<input type="hidden" name="submission_key" value="([0-9a-f]{32})"', page).group(1)


def test_the_forms_of_one_cart_carry_one_key_and_a_changed_cart_a_new_one(shop):
    browser = Client()
    first = form_shown(browser)
    # the order form opened again (a second tab) for the same cart: the same key
    assert key_on(browser.get("/shop/order/").content.decode()) == first["submission_key"]
    # the cart changed: a new key
    assert form_shown(browser)["submission_key"] != first["submission_key"]


def test_two_tabs_keep_one_key_after_one_of_them_is_declined(shop):
    # given the order form of one cart in two tabs (one key), and a card declined in the first
    browser = Client()
    first = form_shown(browser)
    second = dict(re.findall(r'<input type="hidden" name="(submission_key|priced)" value="([^"]*)"',
                             browser.get("/shop/order/").content.decode()))
    assert second == first
    declined = browser.post("/shop/order/", {**CARD, "card_number": "4000-0000-0000-0002", **first})
    renewed = key_on(declined.content.decode())
    assert renewed != first["submission_key"]
    # when the second tab presses its page: told nothing was paid, shown the same new key (not yet another one)
    stale = browser.post("/shop/order/", {**CARD, **second})
    assert stale.status_code == 400 and "결제된 금액은 없습니다" in stale.content.decode()
    assert key_on(stale.content.decode()) == renewed
    # then both tabs press one key: the first places the order, the second is shown it
    placed = browser.post("/shop/order/", {**CARD, **second, "submission_key": renewed})
    assert placed.status_code == 302
    again = browser.post("/shop/order/", {**CARD, **first, "submission_key": renewed}, follow=True)
    assert again.redirect_chain[-1][0] == placed["Location"]
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 1
    assert GatewayEntry.objects.filter(kind="charge").count() == 1


def test_a_tab_whose_key_was_replaced_places_nothing_and_is_shown_the_current_one(shop):
    browser = Client()
    shown = form_shown(browser)
    # a failed edit of the cart keeps the key (nothing changed)
    browser.post("/shop/cart/", {"code": "1", "quantity": "0"})
    assert key_on(browser.get("/shop/order/").content.decode()) == shown["submission_key"]
    # given the cart's key replaced meanwhile with no order placed under the old one (another tab's press refused)
    session = browser.session
    session["cart_token"] = "f" * 32
    session.save()
    # when the tab still showing the old key presses: nothing is placed, and the page shows the current key
    response = browser.post("/shop/order/", {**CARD, **shown})
    page = response.content.decode()
    assert response.status_code == 400 and "이 주문서를 연 뒤에 다른 창에서 장바구니나 결제가 바뀌었습니다" in page
    assert key_on(page) == "f" * 32 and not Order.objects.exists()
    assert browser.post("/shop/order/", {**CARD, **shown, "submission_key": "f" * 32}).status_code == 302


def test_a_declined_card_does_not_block_the_next_press_of_the_form_shown_again(shop):
    browser = Client()
    hidden = form_shown(browser)
    declined = browser.post("/shop/order/", {**CARD, "card_number": "4000-0000-0000-0002", **hidden})
    assert declined.status_code == 400
    again = dict(re.findall(r'<input type="hidden" name="(submission_key|priced)" value="([^"]*)"',
                            declined.content.decode()))
    assert again["submission_key"] != hidden["submission_key"]
    # the declined form pressed once more (its double click's second request): told nothing was paid, not "ordered"
    twice = browser.post("/shop/order/", {**CARD, "card_number": "4000-0000-0000-0002", **hidden})
    assert twice.status_code == 400 and "결제된 금액은 없습니다" in twice.content.decode()
    assert "이미 주문하셨습니다" not in twice.content.decode()
    assert browser.post("/shop/order/", {**CARD, **again}).status_code == 302
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 1


def pressed_at_once(browser: Client, forms: list[dict]) -> list[tuple[int, str]]:
    """Each form posted from a tab of its own in `browser`'s session, the tabs released together: each answer's
    status and where it leads."""
    cookie = browser.cookies

    def submit(form):
        tab = Client()
        tab.cookies = cookie
        try:
            response = tab.post("/shop/order/", form)
            return response.status_code, response.get("Location", "")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(forms)) as pool:
        return list(pool.map(submit, forms))


@on_postgres
@pytest.mark.parametrize("data", [GUEST, CARD], ids=["bank", "card"])
def test_two_presses_of_one_form_at_once_place_one_order_and_charge_once(shop, data):
    for _round in range(3):
        browser = Client()
        hidden = form_shown(browser)
        before = Order.objects.count()
        answers = pressed_at_once(browser, [{**data, **hidden}] * 2)
        assert Order.objects.count() == before + 1
        order = Order.objects.order_by("-id").first()
        assert order.submission_key == hidden["submission_key"]
        # both presses lead to that one order (the second is shown it, never a second payment)
        assert [code for code, _where in answers] == [302, 302], answers
        assert {where for _code, where in answers} == {f"/shop/order/{order.number}/complete/"}
        if data is CARD:  # one charge at the gateway per order placed
            assert GatewayEntry.objects.filter(kind="charge").count() == Order.objects.filter(
                payment_method="card").count()


@on_postgres
def test_the_order_form_of_one_cart_in_two_tabs_pressed_at_once_places_one_order_and_charges_once(shop):
    for _round in range(3):
        browser = Client()
        first = form_shown(browser)
        # the same cart's order form opened in a second tab: its own page, posted on its own
        page = browser.get("/shop/order/").content.decode()
        second = dict(re.findall(r'<input type="hidden" name="(submission_key|priced)" value="([^"]*)"', page))
        before, charges = Order.objects.count(), GatewayEntry.objects.filter(kind="charge").count()
        answers = pressed_at_once(browser, [{**CARD, **first}, {**CARD, **second}])
        assert Order.objects.count() == before + 1
        order = Order.objects.order_by("-id").first()
        assert order.submission_key == first["submission_key"]
        # both presses lead to that one order (the second is shown it, never a second payment)
        assert [code for code, _where in answers] == [302, 302], answers
        assert {where for _code, where in answers} == {f"/shop/order/{order.number}/complete/"}
        assert GatewayEntry.objects.filter(kind="charge").count() == charges + 1


def test_no_payment_window_opens_for_a_tab_whose_key_is_not_the_carts(shop, portone):
    # given the order form of one cart in two tabs, paid by card through PortOne's window
    browser = Client()
    shown = form_shown(browser)
    form = {**CARD, "card_number": "", **shown}
    # when the cart's key is replaced meanwhile (another tab's press refused)
    session = browser.session
    session["cart_token"] = "e" * 32
    session.save()
    # then 결제하기 in the tab with the old key opens no window: the page posts the form, which says why
    answer = browser.post("/shop/order/payment-window/", form)
    assert answer.json() == {"ok": False, "submit": True} and "payment_window" not in browser.session
    page = browser.post("/shop/order/", form).content.decode()
    assert "이 주문서를 연 뒤에 다른 창에서 장바구니나 결제가 바뀌었습니다" in page and key_on(page) == "e" * 32
    # and with the page's current key the window opens
    assert browser.post("/shop/order/payment-window/", {**form, "submission_key": "e" * 32}).json()["ok"] is True


def test_a_tab_whose_cart_changed_in_another_is_told_the_amounts_changed(shop):
    browser = Client()
    shown = form_shown(browser)
    # when another tab adds to the cart (its key replaced with it) and the first tab presses 결제하기
    browser.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    page = browser.post("/shop/order/", {**CARD, **shown}).content.decode()
    # then it is told what happened — the amounts changed — and nothing is placed
    assert "결제금액이 바뀌었습니다" in page and "다른 창에서" not in page and not Order.objects.exists()
