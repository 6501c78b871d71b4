"""Signatures, idempotent replays, injected faults, the rate calendar and bad input, over real HTTP."""

from datetime import date, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from mileage import wire
from mileage.policy.calendar import effective_month
from mileage.provider import ProviderError, ProviderUnavailable
from mileage.provider.client import ALREADY_DONE
from tests.conftest import STANDARD_SANDBOX
from tests.sandbox_process import PopupRefused

from .helpers import approved, client_for, order_no, payment, popup_choice

pytestmark = pytest.mark.sandbox


# --- popup signatures ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("done_url", [
    "http://127.0.0.1:8000/mileage/done?a=b c&d=~e&f=한글",
    "http://127.0.0.1:8000/done/~user/?x=1&y=%20z",
])
def test_done_url_with_spaces_tilde_ampersand_korean(sandbox, merchant, done_url):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    done = popup_choice(sandbox, client, buyer, 500, 5_000, done_url=done_url)
    assert done.mileage_use_won == 500 and done.balance_won == 15_000


def test_popup_refuses_a_bad_signature_or_an_old_timestamp(sandbox, merchant):
    client = client_for(sandbox, merchant)
    url = client.popup_url(done_url="http://127.0.0.1:8000/done", max_use_won=5_000)
    tampered = url.replace("maxUseAmount=5000", "maxUseAmount=5000").replace("doneUrl=http", "doneUrl=https")
    assert requests.get(tampered, timeout=5).status_code == 400
    old = client.popup_url(done_url="http://127.0.0.1:8000/done", max_use_won=5_000, timestamp=1_000_000_000)
    response = requests.get(old, timeout=5)
    assert response.status_code == 400 and "10" in response.text


def test_popup_refuses_use_below_500_above_balance_or_above_max(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(1_000)
    url = client.popup_url(done_url="http://127.0.0.1:8000/done", max_use_won=800)
    for amount, text in [(499, "500원부터"), (900, "최대 800원"), (-500, "0원 이상"), ("abc", "숫자")]:
        with pytest.raises(PopupRefused) as caught:
            sandbox.choose_in_popup(url, buyer, amount)
        assert text in caught.value.html
    big = client.popup_url(done_url="http://127.0.0.1:8000/done", max_use_won=50_000)
    with pytest.raises(PopupRefused) as caught:
        sandbox.choose_in_popup(big, buyer, 1_500)
    assert "잔액" in caught.value.html
    assert sandbox.balance(buyer)["available"] == 1_000


def test_done_result_tampering_is_detected(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    url = client.popup_url(done_url="http://127.0.0.1:8000/done", max_use_won=5_000)
    params = sandbox.choose_in_popup(url, buyer, 500)
    assert client.verify_done(params, max_use_won=5_000).mileage_use_won == 500
    with pytest.raises(ProviderError) as caught:
        client.verify_done({**params, "mileageUseAmount": "5000", "totalUseAmount": "5000"}, max_use_won=5_000)
    assert caught.value.code == "BAD_SIGNATURE"
    with pytest.raises(ProviderError) as caught:
        client.verify_done(params, max_use_won=400)
    assert caught.value.code == "ABOVE_OFFER"
    with pytest.raises(ProviderError):
        client.verify_done({**params, "mileageUseAmount": "-500"}, max_use_won=5_000)


def test_popup_cancel_returns_cancel(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    url = client.popup_url(done_url="http://127.0.0.1:8000/done", max_use_won=5_000)
    params = sandbox.choose_in_popup(url, buyer, 0, action="cancel")
    assert params["resultCode"] == "CANCEL"
    with pytest.raises(ProviderError) as caught:
        client.verify_done(params, max_use_won=5_000)
    assert caught.value.code == "CANCEL"


def test_extra_rate_only_with_a_valid_provider_token(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    landing = requests.get(f"{sandbox.base_url}/ad/{merchant[0]}/?to=http://shop.test/p/1&aa=5",
                           allow_redirects=False, timeout=5)
    token = dict(parse_qsl(urlsplit(landing.headers["Location"]).query))["NaPm"]
    assert wire.parse_napm(token).extra_rate_x10 == 50
    done = popup_choice(sandbox, client, buyer, 0, 21_000, ncisy=token)
    assert (done.base_rate_x10, done.add_rate_x10) == (10, 50)
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert popup_choice(sandbox, client, buyer, 0, 21_000, ncisy=forged).add_rate_x10 == 0


# --- idempotency and faults --------------------------------------------------------------------------------------

@pytest.mark.extended
def test_same_key_same_body_replays_and_another_body_is_refused(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    done = popup_choice(sandbox, client, buyer, 500, 5_000)
    order = order_no()
    request = payment(done, order=order, order_amount=5_000, amount=4_500, confirmed=True)
    first = client.approve(request, idempotency_key=f"{order}:approve")
    again = client.approve(request, idempotency_key=f"{order}:approve")
    assert again.tx_id == first.tx_id and again.code == "1000"
    other = request.__class__(**{**request.__dict__, "amount_won": 4_000})
    with pytest.raises(ProviderError) as caught:
        client.approve(other, idempotency_key=f"{order}:approve")
    assert caught.value.code == "2006"
    # a retry without the key (a provider that ignores the extension) answers "already done"
    assert client.approve(request, idempotency_key=f"{order}:other").code == ALREADY_DONE
    assert len(sandbox.balance(buyer)["transactions"]) == 1
    assert sandbox.balance(buyer)["available"] == 15_000


@pytest.mark.extended
def test_apply_then_drop_the_answer_is_retried_without_applying_twice(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    done = popup_choice(sandbox, client, buyer, 500, 5_000)
    order = order_no()
    request = payment(done, order=order, order_amount=5_000, amount=4_500, confirmed=True)
    # given the provider applies the approval and the answer is lost on the way back
    sandbox.fault(merchant[0], "drop", count=1)
    with pytest.raises(ProviderUnavailable):
        client.approve(request, idempotency_key=f"{order}:approve")
    # when the caller retries with the same key, it gets the approval, applied once
    result = client.approve(request, idempotency_key=f"{order}:approve")
    assert result.code == "1000"
    assert len(sandbox.balance(buyer)["transactions"]) == 1
    assert sandbox.balance(buyer)["available"] == 15_000


def test_timeout_then_success(sandbox, merchant):
    client = client_for(sandbox, merchant, read_timeout=2.0)
    buyer = sandbox.new_buyer(15_500)
    _done, order, result = approved(sandbox, client, buyer, confirmed=True)
    # one attempt per call: the timeout is the caller's to retry, with the same key
    sandbox.fault(merchant[0], "timeout", count=1, delay=3.0)
    with pytest.raises(ProviderUnavailable):
        client.stated(result.tx_id, idempotency_key=f"{order}:stated")
    assert client.stated(result.tx_id, idempotency_key=f"{order}:stated").code in ("1000", ALREADY_DONE)
    assert client.confirmed(result.tx_id, idempotency_key=f"{order}:confirmed").code == "1000"
    assert sandbox.balance(buyer)["transactions"][-1]["state"] == "CONFIRMED"


def test_http_500_is_unavailable_and_the_same_key_retried_later_applies_once(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    _done, order, result = approved(sandbox, client, buyer, confirmed=True)
    sandbox.fault(merchant[0], "http500", count=2)
    for _attempt in range(2):
        with pytest.raises(ProviderUnavailable):
            client.cancel(result.tx_id, idempotency_key=f"{order}:cancel")
    assert sandbox.balance(buyer)["available"] == 15_000
    assert client.cancel(result.tx_id, idempotency_key=f"{order}:cancel").code == "1000"
    assert sandbox.balance(buyer)["available"] == 15_500


@pytest.mark.extended
def test_signed_requests_when_the_merchant_requires_them(sandbox):
    merchant = sandbox.new_merchant(require_signed_requests=True)
    buyer = sandbox.new_buyer(15_500)
    _done, _order, result = approved(sandbox, client_for(sandbox, merchant), buyer, confirmed=True)
    assert result.code == "1000"
    unsigned = client_for(sandbox, merchant, send_extension_headers=False)
    with pytest.raises(ProviderError) as caught:
        unsigned.confirmed(result.tx_id, idempotency_key="x")
    assert caught.value.code == "2004"


# --- rates ------------------------------------------------------------------------------------------------------

@pytest.mark.extended
def test_rate_calendar_and_original_rates_on_reapproval(sandbox_clock):
    sandbox = sandbox_clock
    merchant = sandbox.new_merchant(rate="1")
    client = client_for(sandbox, merchant, rate_cache_seconds=0)
    buyer = sandbox.new_buyer(15_500)
    done, order, first = approved(sandbox, client, buyer, confirmed=True)
    # the merchant asks for 2.5% in the partner center
    browser = requests.Session()
    page = browser.get(f"{sandbox.base_url}/partner/{merchant[0]}/", timeout=5)
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    page = browser.post(page.url, data={"csrfmiddlewaretoken": token, "hash_key": merchant[1]}, timeout=5)
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    page = browser.post(page.url, data={"csrfmiddlewaretoken": token, "action": "rate", "rate": "2.5"}, timeout=5)
    rates = client.accum_rate(fresh=True)
    now = datetime.fromisoformat(rates.raw["serverTime"])
    year, month = effective_month(now)
    # then the partner center and getAccumRate say from which month it applies (R2)
    assert f"{year}년 {month:02d}월부터" in page.text
    assert rates.raw["history"] == [{"requestedAt": rates.raw["history"][0]["requestedAt"], "rate": "2.5",
                                     "effectiveFrom": date(year, month, 1).isoformat()}]
    assert rates.base_rate_x10 == 10
    # when the clock reaches the effective month
    target = datetime(year, month, 1, 0, 0, 1, tzinfo=now.tzinfo)
    sandbox.advance(int((target - now).total_seconds()) + 5)
    assert client.accum_rate(fresh=True).base_rate_x10 == 25
    buyer2 = sandbox.new_buyer(15_500)
    _d, _o, later = approved(sandbox, client, buyer2, confirmed=True)
    assert later.base_rate_x10 == 25 and later.earn_won == 112
    # a re-approval of the earlier order keeps its original 1%
    request = payment(done, order=order, order_amount=5_000, amount=4_500, confirmed=True)
    request = request.__class__(**{**request.__dict__, "req_tx_id": ""})
    again = client.repayment(first.tx_id, request, idempotency_key=f"{order}:repayment")
    assert again.base_rate_x10 == 10 and again.earn_won == 45


# --- bad input -----------------------------------------------------------------------------------------------------

def _post(sandbox, merchant, path, **fields):
    data = {"format": "json", "secret": merchant[1], **fields}
    response = requests.post(f"{sandbox.base_url}/v2/partner/{merchant[0]}/{path}", data=data, timeout=5)
    return response.json()["response"]


@pytest.mark.parametrize(("change", "code"), [
    ({"orderNo": ""}, "2001"),
    ({"orderAmount": "-5000"}, "2002"),
    ({"orderAmount": "abc"}, "2002"),
    ({"mileageUseAmount": "1.5"}, "2002"),
    ({"isMember": "X"}, "2002"),
    ({"orderProductName": "###"}, "2002"),
    ({"secret": "0" * 40}, "2003"),
    ({"reqTxId": "RNOPE"}, "3001"),
    ({"mileageUseAmount": "400"}, "3003"),
    ({"amount": "9000"}, "2002"),
])
def test_bad_payment_input_changes_nothing(sandbox, merchant, change, code):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    done = popup_choice(sandbox, client, buyer, 500, 5_000)
    fields = payment(done, order=order_no(), order_amount=5_000, amount=4_500, confirmed=True).fields()
    answer = _post(sandbox, merchant, "payment", **{**fields, **change})
    assert answer["resultCode"] == code
    assert answer["resultMessage"]
    assert sandbox.balance(buyer)["transactions"] == []
    # the popup's hold (an extension) stands until the shop aborts it or it expires; nothing was approved
    held = 0 if STANDARD_SANDBOX else 500
    assert (sandbox.balance(buyer)["available"], sandbox.balance(buyer)["held"]) == (15_500 - held, held)


@pytest.mark.parametrize("path", ["payment/TNOPE/stated", "payment/TNOPE/cancel", "payment/TNOPE/cancel/stated",
                                  "payment/TNOPE/confirmed", "repayment/TNOPE", "delivery/TNOPE/invoice",
                                  "payment/RNOPE/abort"])
def test_unknown_tx_id_on_every_call(sandbox, merchant, path):
    assert _post(sandbox, merchant, path)["resultCode"] in ("3001", "2001")


def test_wrong_secret_and_unknown_merchant_on_every_call(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    _done, _order, result = approved(sandbox, client, buyer, confirmed=True)
    for path in ["stated", "cancel", "confirmed"]:
        answer = _post(sandbox, (merchant[0], "f" * 40), f"payment/{result.tx_id}/{path}")
        assert answer["resultCode"] == "2003"
    assert _post(sandbox, ("ZZZZZZ", merchant[1]), f"payment/{result.tx_id}/cancel")["resultCode"] == "2005"
    assert sandbox.balance(buyer)["transactions"][0]["state"] == "APPROVED"
    assert sandbox.balance(buyer)["available"] == 15_000


def test_bad_invoice_and_repayment_input(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    _done, _order, result = approved(sandbox, client, buyer, confirmed=True)
    assert _post(sandbox, merchant, f"delivery/{result.tx_id}/invoice", shippedDate="2026-11-27",
                 invoiceNo="1")["resultCode"] == "2002"
    assert _post(sandbox, merchant, f"repayment/{result.tx_id}", orderNo="x")["resultCode"] == "2001"
    assert sandbox.balance(buyer)["transactions"][0]["state"] == "APPROVED"


def test_xml_is_the_default_format(sandbox, merchant):
    response = requests.post(f"{sandbox.base_url}/v2/partner/{merchant[0]}/payment/TNOPE/cancel",
                             data={"secret": merchant[1]}, timeout=5)
    assert response.headers["Content-Type"].startswith("application/xml")
    assert "<resultCode>3001</resultCode>" in response.text


def test_concurrent_retries_apply_once(sandbox, merchant):
    from concurrent.futures import ThreadPoolExecutor

    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    done = popup_choice(sandbox, client, buyer, 500, 5_000)
    order = order_no()
    request = payment(done, order=order, order_amount=5_000, amount=4_500, confirmed=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: client_for(sandbox, merchant).approve(
            request, idempotency_key=f"{order}:approve"), range(4)))
    assert len({r.tx_id for r in results}) == 1
    assert len(sandbox.balance(buyer)["transactions"]) == 1
    assert sandbox.balance(buyer)["available"] == 15_000


def test_a_signed_use_below_the_minimum_is_refused(sandbox, merchant):
    # U1 on the portal's side: a provider's signed answer of 300원 used is not taken as a use
    client = client_for(sandbox, merchant)
    result = wire.DoneResult("OK", "REQ-BELOW-MIN", 10, 0, 300, 0, 300, 15_200)
    with pytest.raises(ProviderError) as caught:
        client.verify_done(wire.done_params(merchant[1], result), max_use_won=5_000)
    assert caught.value.code == "BELOW_MINIMUM" and "500원부터" in caught.value.message
    fine = wire.DoneResult("OK", "REQ-AT-MIN", 10, 0, 500, 0, 500, 15_000)
    assert client.verify_done(wire.done_params(merchant[1], fine), max_use_won=5_000).total_use_won == 500
    none = wire.DoneResult("OK", "REQ-NONE", 10, 0, 0, 0, 0, 15_500)
    assert client.verify_done(wire.done_params(merchant[1], none), max_use_won=5_000).total_use_won == 0
