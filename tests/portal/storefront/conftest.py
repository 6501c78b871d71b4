import pytest
from django.core.cache import cache
from django.test import Client

from mileage.models import MileageSettings
from mileage.provider import MileageClient
from tests.support.db_state import load_demo


@pytest.fixture
def shop(sandbox, settings, transactional_db):
    """The demo shop pointed at the running sandbox, with the TEST merchant's credentials."""
    settings.MILEAGE_API_BASE = settings.MILEAGE_SERVICE_BASE = sandbox.base_url
    cache.clear()
    load_demo()
    return sandbox


@pytest.fixture
def sent(monkeypatch):
    """The paths of every server-to-server call the portal sends."""
    paths: list[str] = []
    original = MileageClient._send

    def record(self, method, path, *args, **kwargs):
        paths.append(path)
        return original(self, method, path, *args, **kwargs)

    monkeypatch.setattr(MileageClient, "_send", record)
    return paths


def use_merchant(api_id: str, hash_key: str) -> None:
    mileage_settings = MileageSettings.load()
    mileage_settings.api_id, mileage_settings.hash_key = api_id, hash_key
    mileage_settings.save()
    cache.clear()


def choose_mileage(client, sandbox, buyer: str, use: int) -> dict:
    """Press 적립/사용 on the order form, log in at the provider, use `use` won; returns the done params."""
    opened = client.get("/mileage/popup/open/")
    assert opened.status_code == 302, opened.content
    params = sandbox.choose_in_popup(opened["Location"], buyer, use)
    done = client.get("/mileage/popup/done/", params)
    assert done.status_code == 200, done.content.decode()
    return params


def buyer_with_choice(shop, buyer: str, use: int, product: str = "4") -> Client:
    """A browser with `product` (sample 4: 20,000원) in the cart and a `use` won choice from the popup."""
    browser = Client()
    browser.post("/shop/cart/add/", {"code": product, "quantity": "1"})
    browser.get("/shop/order/")
    choose_mileage(browser, shop, buyer, use)
    return browser


GUEST = {"orderer_name": "홍길동", "orderer_phone": "010-1234-5678", "orderer_email": "hong@example.com",
         "same_as_orderer": "on", "address": "서울 동작구 신대방2동", "payment_method": "bank",
         "depositor_name": "홍길동", "guest_password": "abcd1234", "privacy_agreed": "on"}
# the same form as a logged-in member fills it (no guest password, no guest privacy consent)
MEMBER = {k: v for k, v in GUEST.items() if k not in ("guest_password", "privacy_agreed")}
