"""The sandbox plays the standard provider (docs/protocol.md §1–2 alone) for a merchant switched to it, over
raw HTTP: no hold, no extension routes (a web server's 404), getAccumRate with the rates alone and no
advertised extensions, and a repeated call recognised by the transaction's state (3092 with the txId), not by
an Idempotency-Key."""

import uuid

import pytest
import requests

from .test_provider_examples import Shop

pytestmark = pytest.mark.sandbox


@pytest.fixture
def standard(sandbox):
    return Shop(sandbox, sandbox.new_merchant(rate="1", profile="standard"))


@pytest.fixture
def extended(sandbox):
    return Shop(sandbox, sandbox.new_merchant(rate="1", profile="extended"))


def rates(shop: Shop) -> dict:
    response = requests.get(f"{shop.base}/v2/partner/{shop.api_id}/getAccumRate", params={"format": "json"},
                            timeout=10)
    return response.json()["response"]


def test_get_accum_rate_advertises_the_extensions_only_in_the_extended_profile(standard, extended):
    # the public protocol's answer (docs/protocol.md §2): the rates and the service status, no extension
    assert set(rates(standard)) == {"resultCode", "resultMessage", "baseAccumRate", "addAccumRate", "serviceStatus"}
    answer = rates(extended)
    assert answer["extensions"].split(",") == ["hold", "status", "serviceStatus", "settlement", "rateCalendar",
                                               "join", "idempotency"]
    assert answer["serviceStatus"] == "ACTIVE" and "nextMonthRate" in answer


@pytest.mark.parametrize("path", ["payment/R1/status", "settlement/2026-11"])
def test_extension_routes_answer_like_a_web_server_without_them(standard, extended, path):
    for shop, code in ((standard, 404), (extended, 200)):
        response = requests.post(f"{shop.base}/v2/partner/{shop.api_id}/{path}",
                                 data={"format": "json", "secret": shop.hash_key}, timeout=10)
        assert response.status_code == code, (shop.api_id, path)
    assert "text/html" in response.headers["Content-Type"] or code == 200


def test_the_popup_holds_nothing_so_the_approval_alone_checks_the_balance(sandbox, standard):
    buyer = sandbox.new_buyer(3_000)
    first = standard.choose(buyer, 2_000, max_use=20_000)
    assert sandbox.balance(buyer)["held"] == 0 and sandbox.balance(buyer)["available"] == 3_000
    second = standard.choose(buyer, 2_000, max_use=20_000)  # the whole balance is shown again
    assert standard.approve(first, order_amount=20_000, amount=18_000, confirmed=True)["resultCode"] == "1000"
    refused = standard.approve(second, order_amount=20_000, amount=18_000, confirmed=True)
    assert refused["resultCode"] == "3004"
    assert sandbox.balance(buyer)["available"] == 1_000


def test_a_repeated_approval_answers_3092_with_the_tx_id_whatever_the_key(sandbox, standard):
    buyer = sandbox.new_buyer(15_500)
    choice = standard.choose(buyer, 500, max_use=5_000)
    fields = {"reqTxId": choice["reqTxId"], "orderNo": f"O{uuid.uuid4().hex[:10]}", "isConfirmed": "Y",
              **Shop._order_fields(order_amount=5_000, amount=4_500, use=500)}
    first = standard.call("payment", **fields)  # Shop.call sends a new Idempotency-Key every time
    again = standard.call("payment", **fields)
    assert (first["resultCode"], again["resultCode"]) == ("1000", "3092")
    assert again["txId"] == first["txId"] and again["state"] == "APPROVED"
    assert sandbox.balance(buyer)["available"] == 15_000
