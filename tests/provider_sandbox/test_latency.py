"""The distance to the provider (SANDBOX_LATENCY_MS, SANDBOX_LATENCY_JITTER_MS): the sandbox answers every
server-to-server call that much later, names the delay in X-Provider-Latency-Ms, and leaves the pages a person
opens (the popup, the partner screens) alone. Off by default."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from provider_sandbox import middleware


@pytest.fixture
def waited(monkeypatch):
    delays: list[float] = []
    monkeypatch.setattr(middleware.time, "sleep", delays.append)
    return delays


def _answer(path: str) -> HttpResponse:
    return middleware.LatencyMiddleware(lambda request: HttpResponse("ok"))(RequestFactory().post(path))


@override_settings(SANDBOX_LATENCY_MS=80, SANDBOX_LATENCY_JITTER_MS=0, SANDBOX_API_PREFIX="/v2/partner/")
def test_a_server_call_waits_the_set_latency_and_says_so(waited):
    response = _answer("/v2/partner/1TWXDZ/payment")
    assert waited == [0.08] and response["X-Provider-Latency-Ms"] == "80"


@override_settings(SANDBOX_LATENCY_MS=50, SANDBOX_LATENCY_JITTER_MS=20, SANDBOX_API_PREFIX="/v2/partner/")
def test_jitter_adds_up_to_its_amount(waited):
    for _ in range(20):
        _answer("/v2/partner/1TWXDZ/getAccumRate")
    assert all(0.05 <= delay <= 0.07 for delay in waited) and len(set(waited)) > 1


@override_settings(SANDBOX_LATENCY_MS=80, SANDBOX_LATENCY_JITTER_MS=0, SANDBOX_API_PREFIX="/v2/partner/")
def test_pages_a_person_opens_are_not_delayed(waited):
    response = _answer("/service/v2/popup/abc/")
    assert waited == [] and "X-Provider-Latency-Ms" not in response


@override_settings(SANDBOX_LATENCY_MS=0, SANDBOX_LATENCY_JITTER_MS=0, SANDBOX_API_PREFIX="/v2/partner/")
def test_no_latency_by_default(waited):
    assert "X-Provider-Latency-Ms" not in _answer("/v2/partner/1TWXDZ/payment") and waited == []
