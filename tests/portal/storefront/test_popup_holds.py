"""docs/protocol.md §1 Hold: a provider holds the chosen use against its reqTxId until the approval consumes it, an
abort releases it or it expires — reopening the popup does not release it. A reqTxId the buyer's popups leave
behind (given up with 취소, replaced by a new one, or left when the order is placed without it) is given back at
the provider at once, never kept from the buyer for the hold's 30 minutes."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from mileage import wire
from portal.orders.models import Order

from .conftest import GUEST, choose_mileage, use_merchant

pytestmark = pytest.mark.sandbox


def aborts(paths: list[str]) -> list[str]:
    return [path for path in paths if path.endswith("/abort")]


def order_form() -> Client:
    browser = Client()
    browser.post("/shop/cart/add/", {"code": "4", "quantity": "1"})  # 20,000원
    browser.get("/shop/order/")
    return browser


def popup_req_tx_id(browser: Client) -> str:
    opened = browser.get("/mileage/popup/open/")
    assert opened.status_code == 302
    return parse_qs(urlsplit(opened["Location"]).query).get("reqTxId", [""])[0]


def extended_merchant(shop) -> None:
    """A provider that holds the chosen use (the extension `hold`), whatever profile the suite's sandbox plays."""
    use_merchant(*shop.new_merchant(rate="1", profile="extended"))


def test_a_choice_given_up_with_cancel_in_the_reopened_popup_is_released_at_the_provider(shop, sent):
    extended_merchant(shop)
    buyer = shop.new_buyer(15_500)
    browser = order_form()
    first = choose_mileage(browser, shop, buyer, 500)["reqTxId"]
    assert shop.balance(buyer)["held"] == 500 and not aborts(sent)
    # when the buyer opens the popup again (it is handed the same reqTxId) and presses 취소 there
    reopened = browser.get("/mileage/popup/open/")
    assert parse_qs(urlsplit(reopened["Location"]).query)["reqTxId"] == [first]
    cancelled = shop.choose_in_popup(reopened["Location"], buyer, 0, action="cancel")
    assert browser.get("/mileage/popup/done/", cancelled).status_code == 200
    # then the portal gives that reqTxId back, nothing stays held, and the next popup opens afresh
    assert aborts(sent) == [f"payment/{first}/abort"]
    assert shop.balance(buyer)["held"] == 0
    assert popup_req_tx_id(browser) == ""


def test_a_popup_left_without_a_choice_is_released_when_the_order_is_placed_without_mileage(shop, sent):
    extended_merchant(shop)
    buyer = shop.new_buyer(15_500)
    browser = order_form()
    first = choose_mileage(browser, shop, buyer, 500)["reqTxId"]
    # the buyer reopens the popup and closes its window without pressing anything, then pays without mileage
    assert popup_req_tx_id(browser) == first
    placed = browser.post("/shop/order/", GUEST)
    assert placed.status_code == 302, placed.content.decode()[-1500:]
    order = Order.objects.get()
    assert order.mileage_use_won == 0
    assert aborts(sent) == [f"payment/{first}/abort"]
    assert shop.balance(buyer)["held"] == 0


def test_a_new_reqtxid_for_an_edited_choice_releases_the_earlier_one(shop, sent):
    # a provider of the public protocol alone (no status call: the nonce binds the result) that answers an edited
    # choice with a new reqTxId
    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)
    buyer = shop.new_buyer(15_500)
    browser = order_form()
    first = choose_mileage(browser, shop, buyer, 500)["reqTxId"]
    reopened = browser.get("/mileage/popup/open/")
    done_url = parse_qs(urlsplit(reopened["Location"]).query)["doneUrl"][0]
    result = wire.DoneResult("OK", "NEWREQTXID0000000001", 10, 0, 1_000, 0, 1_000, 14_500)
    done = browser.get(urlsplit(done_url).path + "?" + urlsplit(done_url).query + "&"
                       + "&".join(f"{k}={v}" for k, v in wire.done_params(hash_key, result).items()))
    assert done.status_code == 200, done.content.decode()[-800:]
    assert aborts(sent) == [f"payment/{first}/abort"]
    # the new choice stands, and reopening hands the provider the new reqTxId
    assert popup_req_tx_id(browser) == "NEWREQTXID0000000001"


@pytest.mark.parametrize("then", ["place", "reload"])
def test_a_result_the_provider_could_not_confirm_leaves_no_hold_behind(shop, sent, then):
    """The provider's status call fails as the popup's result comes back: no choice is taken (503, the buyer is asked
    to press 적립/사용 again) and nothing is claimed; an order placed without mileage gives that reqTxId's hold back
    once the provider confirms it was opened for this session's popup, instead of keeping the buyer's mileage for the
    hold's 30 minutes. Reloaded once the provider answers, the same done page takes the choice."""
    api_id, hash_key = shop.new_merchant(rate="1", profile="extended")
    use_merchant(api_id, hash_key)
    buyer = shop.new_buyer(5_000)
    browser = order_form()
    opened = browser.get("/mileage/popup/open/")
    params = shop.choose_in_popup(opened["Location"], buyer, 1_000)
    shop.fault(api_id, "http500", count=1)  # the portal's next call: the status of that reqTxId
    done = browser.get("/mileage/popup/done/", params)
    assert done.status_code == 503 and "선택을 확인하지 못했습니다" in done.content.decode()
    assert shop.balance(buyer)["held"] == 1_000
    if then == "reload":
        assert browser.get("/mileage/popup/done/", params).status_code == 200
        placed = browser.post("/shop/order/", GUEST)
        assert placed.status_code == 302 and Order.objects.get().mileage_use_won == 1_000
        assert not aborts(sent)
        return
    placed = browser.post("/shop/order/", GUEST)
    assert placed.status_code == 302, placed.content.decode()[-1500:]
    assert Order.objects.get().mileage_use_won == 0
    assert aborts(sent) == [f"payment/{params['reqTxId']}/abort"]
    assert shop.balance(buyer)["held"] == 0
    # its done page, reloaded after the order, no longer makes a choice of the hold given back
    assert browser.get("/mileage/popup/done/", params).status_code != 200


def test_an_unconfirmed_result_of_a_second_popup_leaves_the_first_popups_choice_standing(shop, sent):
    """Two popups open; the first's result is confirmed (the choice), the second's comes back while the provider's
    status call fails: the order is placed with the first choice, and the second's hold is given back."""
    api_id, hash_key = shop.new_merchant(rate="1", profile="extended")
    use_merchant(api_id, hash_key)
    buyer = shop.new_buyer(5_000)
    browser = order_form()
    first_popup, second_popup = browser.get("/mileage/popup/open/"), browser.get("/mileage/popup/open/")
    first = shop.choose_in_popup(first_popup["Location"], buyer, 500)
    assert browser.get("/mileage/popup/done/", first).status_code == 200
    second = shop.choose_in_popup(second_popup["Location"], buyer, 1_000)
    assert second["reqTxId"] != first["reqTxId"]
    shop.fault(api_id, "http500", count=1)
    assert browser.get("/mileage/popup/done/", second).status_code == 503
    assert not aborts(sent)  # the choice the session has is not touched
    placed = browser.post("/shop/order/", GUEST)
    assert placed.status_code == 302, placed.content.decode()[-1500:]
    assert Order.objects.get().mileage_use_won == 500
    assert aborts(sent) == [f"payment/{second['reqTxId']}/abort"]
    balance = shop.balance(buyer)
    assert (balance["held"], balance["available"]) == (0, 4_500)


def test_a_hold_the_provider_cannot_confirm_yet_is_asked_about_again_later(shop, monkeypatch):
    """The provider still cannot answer when the worker asks whose the unconfirmed reqTxId is: nothing is aborted
    and the worker asks again a little later (until about the hold's 30 minutes), where the provider can answer."""
    from mileage import holds

    api_id, hash_key = shop.new_merchant(rate="1", profile="extended")
    use_merchant(api_id, hash_key)
    buyer = shop.new_buyer(5_000)
    browser = order_form()
    opened = browser.get("/mileage/popup/open/")
    done_url = parse_qs(urlsplit(opened["Location"]).query)["doneUrl"][0]
    params = shop.choose_in_popup(opened["Location"], buyer, 1_000)
    later = []

    class Deferred:
        def using(self, *, run_after):
            return type("Enqueue", (), {"enqueue": lambda _self, *args: later.append((run_after, args))})()

    release, real = holds.release_popup_hold, holds.release_popup_hold
    monkeypatch.setattr(holds, "release_popup_hold", Deferred())
    shop.fault(api_id, "http500", count=1)
    assert real.call(params["reqTxId"], done_url) == "asked again later"
    assert shop.balance(buyer)["held"] == 1_000
    [(run_after, args)] = later
    assert args == (params["reqTxId"], done_url, 2) and run_after > timezone.now()
    # asked again (the provider answering now): released, as it was this popup's
    assert release.call(*args) == "released"
    assert shop.balance(buyer)["held"] == 0
    # a doneUrl it was not opened for is never released
    other = shop.choose_in_popup(browser.get("/mileage/popup/open/")["Location"], buyer, 500)
    assert real.call(other["reqTxId"], "http://testserver/mileage/popup/done/?n=someone-else") == "not confirmed"
    assert shop.balance(buyer)["held"] == 500


def test_a_popup_opened_as_another_tabs_done_page_saved_the_session_is_still_the_buyers(shop, sent):
    """Two tabs of one browser: the first tab's popup answers (its done page saves the session) at the moment the
    second tab opens a popup. Django saves a session whole and the last save wins, so the second popup's nonce can be
    written over; its result is still this browser's (the nonce is kept beside the session too), taken, and the
    first choice it replaces given back — the buyer's mileage is never held for a choice the shop refused."""
    from mileage.views import NONCES_KEY

    extended_merchant(shop)
    buyer = shop.new_buyer(10_000)
    browser = order_form()
    first = choose_mileage(browser, shop, buyer, 1_000)["reqTxId"]
    # the second tab opens a popup afresh: it read the session before the first tab's done page saved the choice
    saved_by_first = dict(browser.session.items())
    session = browser.session
    session.pop("mileage_req_tx_id", None)
    session.pop("mileage_choice", None)
    session.save()
    opened = browser.get("/mileage/popup/open/")
    assert opened.status_code == 302
    # and the first tab's done page, saved last, wrote its session over the one that held the new nonce
    session = browser.session
    for key in list(session.keys()):
        del session[key]
    session.update(saved_by_first)
    session.save()
    assert not browser.session[NONCES_KEY]
    params = shop.choose_in_popup(opened["Location"], buyer, 2_000)
    assert params["reqTxId"] != first
    done = browser.get("/mileage/popup/done/", params)
    assert done.status_code == 200, done.content.decode()
    assert browser.session["mileage_choice"]["req_tx_id"] == params["reqTxId"]
    # the nonce is spent: the same result brought back again is refused
    assert browser.get("/mileage/popup/done/", params).status_code == 400
    # the order takes the second choice; nothing else stays held
    assert browser.post("/shop/order/", {**GUEST, "payment_method": "card",
                                         "card_number": "4111-1111-1111-1111"}).status_code == 302
    assert Order.objects.get().mileage_use_won == 2_000
    assert shop.balance(buyer)["held"] == 0 and shop.balance(buyer)["available"] == 8_000
