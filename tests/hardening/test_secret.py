"""Finding 1: the hash key never leaves the server (URL, log line, page, error message, export)."""

import io
import logging
import zipfile

import pytest
import requests
from django.core.cache import cache

from core.log_redaction import MASK, RedactSecretsFilter
from mileage.provider.client import MileageClient, ProviderUnavailable
from tests.portal.console.downloads import download
from tests.sandbox_process import free_port

pytestmark = pytest.mark.sandbox

KEY = "aaf23a53f426561f62e71139c5f27adfd67da711"  # the TEST merchant's (load_demo)
API = "/v2/partner/1TWXDZ"


def _text(response) -> str:
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):
        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            return "".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
    return response.content.decode("utf-8", "replace")


def test_unreachable_provider_shows_and_logs_no_key(shop, operator, settings, caplog):  # noqa: F811
    # given an order, then the provider out of reach
    from tests.portal.console.conftest import place as place_order

    order, _buyer = place_order(shop)
    settings.MILEAGE_API_BASE = f"http://127.0.0.1:{free_port()}"
    cache.clear()
    caplog.set_level(logging.INFO)
    # when the operator opens every console screen, its exports and the connection check
    urls = ["/console/", "/console/orders/", f"/console/orders/{order.number}/", f"/console/orders/{order.number}/cancel/",
            f"/console/orders/{order.number}/return/", f"/console/orders/{order.number}/exchange/",
            "/console/refunds/", "/console/outbox/", "/console/mileage/settings/", "/console/mileage/exclusions/",
            "/console/mileage/rates/", "/console/mileage/settlement/", "/shop/", "/shop/p/1/"]
    exports = [("/console/orders/", {"export": "csv"}), ("/console/orders/", {"export": "xlsx"}),
               ("/console/mileage/settlement/", {"export": "csv"}),
               ("/console/mileage/settlement/", {"export": "xlsx"})]
    seen = []
    for url in urls:
        # a form the order cannot take (반품 of an order not delivered yet) leads back to the order's page
        response = operator.get(url, follow=True)
        assert response.status_code in (200, 502), url  # 502: the rate screen says the provider is down
        seen.append((url, _text(response)))
    for url, params in exports:
        response = download(operator, url, params)
        assert response.status_code == 200, (url, params)
        seen.append((f"{url} {params}", _text(response)))
    check = operator.post("/console/mileage/settings/", {"api_id": "1TWXDZ", "hash_key": "", "action": "check"})
    seen.append(("check", _text(check)))
    # then the key is nowhere, and the operator sees the code and a Korean message
    for where, text in seen:
        assert KEY not in text, where
        assert "secret=" not in text, where
    rates = dict(seen)["/console/mileage/rates/"]
    assert "[UNAVAILABLE]" in rates and "네이버 마일리지 서버에 연결할 수 없습니다" in rates
    assert "Max retries" not in rates and "getAccumRate" not in rates
    assert "연결 실패 [UNAVAILABLE]" in dict(seen)["check"]
    assert KEY not in caplog.text and "secret=" not in caplog.text


def test_unavailable_error_carries_no_library_text():
    client = MileageClient(api_base=f"http://127.0.0.1:{free_port()}", service_base="http://x", api_id="1TWXDZ",
                           hash_key=KEY)
    with pytest.raises(ProviderUnavailable) as caught:
        client.accum_rate(fresh=True)
    assert KEY not in str(caught.value) and "http" not in str(caught.value)
    assert caught.value.code == "UNAVAILABLE"


@pytest.mark.extended
def test_get_accum_rate_carries_no_secret_and_settlement_posts_it(sandbox, merchant):
    api_id, hash_key = merchant
    sent = []
    session = requests.Session()
    session.hooks["response"].append(lambda r, *a, **k: sent.append(r.request))
    client = MileageClient(api_base=sandbox.base_url, service_base=sandbox.base_url, api_id=api_id,
                           hash_key=hash_key, session=session)
    assert client.accum_rate(fresh=True).base_rate_x10 == 10
    report = client.settlement("2026-11")
    assert report["resultCode"] == "1000" and report["month"] == "2026-11"
    assert [r.method for r in sent] == ["GET", "POST"]
    assert all(hash_key not in r.url and "secret" not in r.url for r in sent)
    assert hash_key not in (sent[0].body or "") and f"secret={hash_key}".encode() in sent[1].body


@pytest.mark.extended
def test_sandbox_answers_rates_without_secret_and_refuses_settlement_without_it(sandbox, merchant):
    api_id, hash_key = merchant
    base = f"{sandbox.base_url}/v2/partner/{api_id}"
    rates = requests.get(f"{base}/getAccumRate", params={"format": "json"}, timeout=5).json()["response"]
    assert rates["resultCode"] == "1000" and rates["baseAccumRate"] == "1"
    assert requests.get(f"{base}/settlement/2026-11", params={"format": "json", "secret": hash_key},
                        timeout=5).status_code == 405
    refused = requests.post(f"{base}/settlement/2026-11", data={"format": "json"}, timeout=5).json()["response"]
    assert refused["resultCode"] == "2003"
    for month in ("2026-13", "2026-1", "abcd-ef", "２０２６-11", "2026-11x"):
        bad = requests.post(f"{base}/settlement/{month}", data={"format": "json", "secret": hash_key},
                            timeout=5).json()["response"]
        assert bad["resultCode"].startswith("2"), month


def test_log_filter_masks_the_key_and_any_secret(settings):
    settings.MILEAGE_HASH_KEY = KEY
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    configured = settings.LOGGING["handlers"]["console"]["filters"]
    assert configured == ["redact_secrets"]
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("GET /x?format=xml&secret=%s failed", "0123456789abcdef")
        logger.warning("key %s in text", KEY)
        try:
            raise ValueError(f"url ...&secret={KEY}")
        except ValueError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert KEY not in out and "0123456789abcdef" not in out
    assert out.count(MASK) >= 3


def test_the_project_handler_masks_keys_of_the_settings_screen():
    from core.log_redaction import redact
    from mileage.models import MileageSettings

    other = "b" * 40
    MileageSettings(hash_key=other)  # loading a row registers its key
    assert redact(f"a line with {other} in it") == f"a line with {MASK} in it"
    root_filters = [f for h in logging.getLogger().handlers for f in h.filters]
    assert any(isinstance(f, RedactSecretsFilter) for f in root_filters)
