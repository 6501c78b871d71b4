"""A person opens the popup from the portal, logs in as the demo buyer, uses 500원 and lands on the done page."""

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.cache import cache

from mileage.models import MileageSettings
from mileage.views import CHOICE_KEY, set_offer
from tests.mileage.provider.helpers import client_for

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db]


@pytest.fixture
def shop(sandbox, settings):
    settings.MILEAGE_API_BASE = settings.MILEAGE_SERVICE_BASE = sandbox.base_url
    mileage_settings = MileageSettings.load()
    mileage_settings.api_id, mileage_settings.hash_key = "1TWXDZ", "aaf23a53f426561f62e71139c5f27adfd67da711"
    mileage_settings.save()
    cache.clear()
    return sandbox


def _with_offer(client, max_use):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = client.session
    set_offer(request, max_use_won=max_use)
    request.session.save()


def test_demo_buyer_uses_500_and_lands_on_the_done_page(client, shop):
    _with_offer(client, 5_000)
    opened = client.get("/mileage/popup/open/")
    assert opened.status_code == 302 and opened["Location"].startswith(shop.base_url)
    params = shop.choose_in_popup(opened["Location"], "naverbuyer", 500)
    done = client.get("/mileage/popup/done/", params)
    assert done.status_code == 200
    assert "네이버 마일리지 사용 500원" in done.content.decode()
    assert client.session[CHOICE_KEY]["use_won"] == 500


def _nonce(popup_url: str) -> str:
    done_url = dict(parse_qsl(urlsplit(popup_url).query))["doneUrl"]
    return dict(parse_qsl(urlsplit(done_url).query))["n"]


def test_tampered_done_page_is_refused(client, shop, merchant):
    _with_offer(client, 5_000)
    opened = client.get("/mileage/popup/open/")
    buyer = shop.new_buyer(15_500)
    # the popup of another merchant signs with another key (carried back with this session's own nonce)
    other = client_for(shop, merchant).popup_url(done_url="http://testserver/mileage/popup/done/", max_use_won=5_000)
    params = {**shop.choose_in_popup(other, buyer, 500), "n": _nonce(opened["Location"])}
    response = client.get("/mileage/popup/done/", params)
    assert response.status_code == 400 and "서명" in response.content.decode()
    assert CHOICE_KEY not in client.session
    assert urlsplit(opened["Location"]).path.startswith("/service/v2/accumulation/1TWXDZ")


def test_amount_above_the_offer_is_refused(client, shop):
    _with_offer(client, 5_000)
    opened = client.get("/mileage/popup/open/")
    buyer = shop.new_buyer(15_500)
    params = shop.choose_in_popup(opened["Location"], buyer, 3_000)
    _with_offer(client, 2_000)
    response = client.get("/mileage/popup/done/", params)
    assert response.status_code == 400 and "2,000원" in response.content.decode()


def test_done_without_an_order_in_progress(client, shop):
    response = client.get("/mileage/popup/done/", {"resultCode": "OK"})
    # the popup's own page says why and leads back to the order form, nothing is taken
    assert response.status_code == 400 and "주문 정보가 없습니다" in response.content.decode()
    assert 'id="back-to-order"' in response.content.decode() and "mileage_choice" not in client.session


def test_a_result_planted_into_another_session_is_refused(client, shop):
    from django.test import Client

    # given the attacker opens the popup in his own browser and signs a result with his own Naver account
    attacker = Client()
    _with_offer(attacker, 5_000)
    opened = attacker.get("/mileage/popup/open/")
    params = shop.choose_in_popup(opened["Location"], shop.new_buyer(15_500), 500)
    # when the victim's browser is made to GET that done URL
    _with_offer(client, 5_000)
    client.get("/mileage/popup/open/")
    response = client.get("/mileage/popup/done/", params)
    # then the victim's session takes nothing
    assert response.status_code == 400 and "이 브라우저" in response.content.decode()
    assert CHOICE_KEY not in client.session


def test_a_result_is_taken_once(client, shop):
    _with_offer(client, 5_000)
    opened = client.get("/mileage/popup/open/")
    params = shop.choose_in_popup(opened["Location"], shop.new_buyer(15_500), 500)
    assert client.get("/mileage/popup/done/", params).status_code == 200
    session = client.session
    session.pop(CHOICE_KEY)
    session.save()
    assert client.get("/mileage/popup/done/", params).status_code == 400
    assert CHOICE_KEY not in client.session


def test_cancel_is_signed_and_an_unsigned_cancel_is_refused(client, shop):
    _with_offer(client, 5_000)
    opened = client.get("/mileage/popup/open/")
    params = shop.choose_in_popup(opened["Location"], shop.new_buyer(15_500), 0, action="cancel")
    assert params["resultCode"] == "CANCEL" and len(params["sig"]) == 40
    forged = {**params, "sig": ""}
    assert client.get("/mileage/popup/done/", forged).status_code == 400  # spends the nonce: nothing acted on
    opened = client.get("/mileage/popup/open/")
    params = shop.choose_in_popup(opened["Location"], shop.new_buyer(15_500), 0, action="cancel")
    response = client.get("/mileage/popup/done/", params)
    assert response.status_code == 200 and "취소" in response.content.decode()


@pytest.mark.extended
def test_another_buyers_result_with_this_sessions_own_nonce_is_refused(client, shop):
    from django.test import Client

    # given buyer B completed a popup in B's browser (the choice is held for B's popup)
    victim = Client()
    _with_offer(victim, 5_000)
    opened_b = victim.get("/mileage/popup/open/")
    params_b = shop.choose_in_popup(opened_b["Location"], shop.new_buyer(3_000), 2_000)
    # when A opens a popup of A's own and brings B's signed result back under A's nonce
    _with_offer(client, 5_000)
    opened_a = client.get("/mileage/popup/open/")
    response = client.get("/mileage/popup/done/", {**params_b, "n": _nonce(opened_a["Location"])})
    # then the provider's record of the popup (its doneUrl) does not match A's: refused, nothing taken
    assert response.status_code == 400 and CHOICE_KEY not in client.session
    # and B can still use the choice in B's own browser
    assert victim.get("/mileage/popup/done/", params_b).status_code == 200


def test_a_result_above_the_offer_releases_its_hold(client, shop):
    _with_offer(client, 5_000)
    opened = client.get("/mileage/popup/open/")
    buyer = shop.new_buyer(15_500)
    params = shop.choose_in_popup(opened["Location"], buyer, 3_000)
    _with_offer(client, 2_000)
    assert client.get("/mileage/popup/done/", params).status_code == 400
    assert shop.balance(buyer)["held"] == 0


def test_reopening_the_popup_or_cancelling_drops_the_choice(client, shop):
    _with_offer(client, 5_000)
    buyer = shop.new_buyer(15_500)
    opened = client.get("/mileage/popup/open/")
    assert client.get("/mileage/popup/done/", shop.choose_in_popup(opened["Location"], buyer, 500)).status_code == 200
    assert CHOICE_KEY in client.session
    # pressing 적립/사용 again hands the provider the same reqTxId, which releases its hold: the choice is gone here too
    opened = client.get("/mileage/popup/open/")
    assert CHOICE_KEY not in client.session
    import requests

    assert requests.get(opened["Location"], timeout=10).status_code == 200  # the popup window opens
    assert shop.balance(buyer)["held"] == 0
    params = shop.choose_in_popup(opened["Location"], buyer, 0, action="cancel")
    assert client.get("/mileage/popup/done/", params).status_code == 200
    assert CHOICE_KEY not in client.session
