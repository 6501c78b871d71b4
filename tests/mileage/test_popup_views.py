"""A person opens the popup from the portal, logs in as the demo buyer, uses 500원 and lands on the done page."""

from urllib.parse import urlsplit

import pytest

from mileage.models import MileageSettings
from mileage.views import CHOICE_KEY, set_offer
from tests.provider.helpers import client_for

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db]


@pytest.fixture
def shop(sandbox, settings):
    settings.MILEAGE_API_BASE = settings.MILEAGE_SERVICE_BASE = sandbox.base_url
    mileage_settings = MileageSettings.load()
    mileage_settings.api_id, mileage_settings.hash_key = "1TWXDZ", "aaf23a53f426561f62e71139c5f27adfd67da711"
    mileage_settings.save()
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


def test_tampered_done_page_is_refused(client, shop, merchant):
    _with_offer(client, 5_000)
    opened = client.get("/mileage/popup/open/")
    buyer = shop.new_buyer(15_500)
    # the popup of another merchant signs with another key
    other = client_for(shop, merchant).popup_url(done_url="http://testserver/mileage/popup/done/", max_use_won=5_000)
    params = shop.choose_in_popup(other, buyer, 500)
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
    assert client.get("/mileage/popup/done/", {"resultCode": "OK"}).status_code == 400
