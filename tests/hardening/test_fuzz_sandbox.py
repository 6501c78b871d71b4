"""Finding 2 for the sandbox: no parameter of the popup, the server API, the partner center or the ad click answers
5xx or moves a buyer's mileage, whatever string it gets."""

import re

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.test_fuzz import BAD, NASTY
from tests.mileage.provider.helpers import client_for

pytestmark = pytest.mark.sandbox

PAYMENT = {"reqTxId": "R1", "orderNo": "X1", "orderProductName": "eA==", "qty": "1", "orderAmount": "5000",
           "amount": "4500", "mileageUseAmount": "0", "cashUseAmount": "0", "isMember": "Y", "isConfirmed": "Y",
           "items": "", "format": "json"}


@pytest.fixture
def stage(sandbox, merchant):
    api_id, hash_key = merchant
    buyer = sandbox.new_buyer(15_500)
    client = client_for(sandbox, merchant)
    popup_url = client.popup_url(done_url="http://127.0.0.1:8000/done", max_use_won=5_000)
    stage = {"sandbox": sandbox, "api_id": api_id, "key": hash_key, "buyer": buyer, "popup_url": popup_url}
    _open_popup(stage)
    return stage


def _open_popup(stage) -> None:
    """A new popup session, logged in (a blank use confirms 0원 and completes the previous one)."""
    browser = requests.Session()
    page = browser.get(stage["popup_url"], timeout=10)
    page = browser.post(page.url, data={"csrfmiddlewaretoken": _token(page.text), "action": "login",
                                        "login_id": stage["buyer"], "password": "demo1234!"}, timeout=10)
    stage["browser"], stage["popup_page"] = browser, page.url


def _token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _targets(stage) -> list[tuple[str, str, str]]:
    base = f"/v2/partner/{stage['api_id']}"
    targets = [("entry", "", name) for name in ("doneUrl", "maxUseAmount", "timestamp", "sig", "Ncisy", "reqTxId")]
    targets += [("popup", "", name) for name in ("use", "action", "login_id")]
    targets += [("api", f"{base}/payment", name) for name in PAYMENT]
    targets += [("api", f"{base}/repayment/TNOPE", name) for name in ("orderAmount", "qty", "items")]
    targets += [("api", f"{base}/delivery/TNOPE/invoice", name) for name in ("shippedDate", "address")]
    targets += [("api", f"{base}/settlement/2026-11", "format"), ("month", base, "month"),
                ("get", f"{base}/getAccumRate", "format")]
    targets += [("get", f"/ad/{stage['api_id']}/", name) for name in ("to", "aa", "ci", "tr")]
    targets += [("get", f"/partner/{stage['api_id']}/", "month"), ("form", f"/partner/{stage['api_id']}/", "hash_key")]
    return targets


def _send(stage, target, value) -> int:
    kind, path, name = target
    base = stage["sandbox"].base_url
    if kind == "entry":
        url = re.sub(rf"([?&]){name}=[^&]*", lambda m: f"{m.group(1)}{name}={requests.utils.quote(value)}",
                     stage["popup_url"])
        if f"{name}=" not in url:
            url += f"&{name}={requests.utils.quote(value)}"
        return requests.get(url, timeout=10).status_code
    if kind == "popup":
        page = stage["browser"].get(stage["popup_page"], timeout=10)
        if "csrfmiddlewaretoken" not in page.text:
            _open_popup(stage)
            page = stage["browser"].get(stage["popup_page"], timeout=10)
        data = {"csrfmiddlewaretoken": _token(page.text), "action": "confirm" if name == "use" else "none",
                name: value}
        return stage["browser"].post(stage["popup_page"], data=data, allow_redirects=False,
                                     timeout=10).status_code
    if kind == "api":
        data = {**PAYMENT, "secret": stage["key"], name: value}
        return requests.post(base + path, data=data, timeout=10).status_code
    if kind == "month":
        return requests.post(f"{base}{path}/settlement/{requests.utils.quote(value, safe='')}",
                             data={"secret": stage["key"], "format": "json"}, timeout=10).status_code
    if kind == "form":
        return requests.post(base + path, data={name: value}, timeout=10).status_code
    return requests.get(base + path, params={name: value}, allow_redirects=False, timeout=10).status_code


def test_no_sandbox_parameter_gets_a_5xx_or_moves_mileage(stage):
    sandbox = stage["sandbox"]
    targets = _targets(stage)

    def check(target, value):
        status = _send(stage, target, value)
        assert status < 500, (target, value[:60], status)

    for target in targets:
        for value in NASTY:
            if "\x00" in value and target[0] == "month":
                continue  # a NUL cannot be part of a URL path
            check(target, value)

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(target=st.sampled_from([t for t in targets if t[0] != "month"]), value=BAD)
    def explore(target, value):
        check(target, value)

    explore()
    balance = sandbox.balance(stage["buyer"])
    assert balance["available"] == 15_500 and balance["transactions"] == []
