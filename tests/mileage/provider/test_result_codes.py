"""Result codes as real shops read them (docs/protocol.md §2): 1000/1001/1002 are success for an approval and
a re-approval; 3092 is success only with a txId in hand, else the status call is asked where the provider
offers it (the extended profile) and the same approval sent again where it does not (the standard profile); an
empty txId is never sent; every call of one authorisation keeps within one deadline."""

import time

import pytest
import responses

from mileage.provider import MileageClient, ProviderError, ProviderUnavailable
from mileage.services.transactions import _approve_at_provider
from tests.mileage.provider.helpers import payment, sample_items

BASE = "http://provider.test"
API = f"{BASE}/v2/partner/ABC123"


def client() -> MileageClient:
    return MileageClient(api_base=BASE, service_base=BASE, api_id="ABC123", hash_key="k" * 40)


def answer(code: str, **fields) -> str:
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in {"resultCode": code, "resultMessage": "m", **fields}.items())
    return f'<?xml version="1.0" encoding="UTF-8"?><response>{inner}</response>'


def deadline(seconds: float = 6.0) -> float:
    return time.monotonic() + seconds


def request():
    from mileage import wire

    done = wire.DoneResult("OK", "R1", 10, 0, 500, 0, 500, 0)
    return payment(done, order="O-1", order_amount=5_000, amount=4_500, confirmed=True, items=sample_items(5_000))


@pytest.mark.parametrize("code", ["1000", "1001", "1002"])
@responses.activate
def test_approval_success_codes(code):
    responses.post(f"{API}/payment", body=answer(code, txId="T1", baseAccumRate="1", baseAccumAmount="45"),
                   content_type="application/xml")
    result = _approve_at_provider(client(), request(), "key-1", deadline())
    assert (result.code, result.tx_id, result.earn_won) == (code, "T1", 45)


@responses.activate
def test_1001_is_not_success_for_a_cancel():
    responses.post(f"{API}/payment/T1/cancel", body=answer("1001"), content_type="application/xml")
    with pytest.raises(ProviderError) as caught:
        client().cancel("T1", idempotency_key="k")
    assert caught.value.code == "1001"


@responses.activate
def test_3092_without_a_tx_id_asks_the_status_call_where_the_provider_offers_it():
    responses.post(f"{API}/payment", body=answer("3092"), content_type="application/xml")
    responses.post(f"{API}/payment/R1/status", body=answer("1000", txId="T9", state="APPROVED", reqTxState="USED",
                                                              baseAccumRate="1", baseAccumAmount="45"),
                   content_type="application/xml")
    result = _approve_at_provider(client(), request(), "key-1", deadline(), use_status=True)
    assert result.tx_id == "T9"
    assert [c.request.url.split("/v2/partner/ABC123/")[1] for c in responses.calls] == ["payment", "payment/R1/status"]


@responses.activate
def test_a_lost_answer_then_a_held_status_retries_once_with_the_same_key():
    responses.post(f"{API}/payment", status=503)
    responses.post(f"{API}/payment/R1/status", body=answer("1000", reqTxState="HELD"), content_type="application/xml")
    with pytest.raises(ProviderUnavailable):
        _approve_at_provider(client(), request(), "key-7", deadline(), use_status=True)
    keys = [c.request.headers.get("Idempotency-Key") for c in responses.calls if c.request.url.endswith("/payment")]
    assert keys == ["key-7", "key-7"]


@pytest.mark.django_db
@responses.activate
def test_a_status_answer_naming_the_held_reqtxid_in_its_state_field_is_understood_and_the_call_stays_in_use():
    # a provider written from the protocol alone answers the reqTxId's state in `state` (§2 names no field for it)
    from mileage.models import ProviderExtensionNotice
    from mileage.provider import extensions

    responses.post(f"{API}/payment", status=503)
    responses.post(f"{API}/payment/R1/status", body=answer("1000", state="HELD"), content_type="application/xml")
    with pytest.raises(ProviderUnavailable):
        _approve_at_provider(client(), request(), "key-8", deadline(), use_status=True)
    keys = [c.request.headers.get("Idempotency-Key") for c in responses.calls if c.request.url.endswith("/payment")]
    assert keys == ["key-8", "key-8"]  # held, so the approval itself decides: sent once more with the same key
    # the status call is a POST too, and carries a key of its own as every POST of the extension does (§2)
    asked = [c.request.headers.get("Idempotency-Key") for c in responses.calls if c.request.url.endswith("/status")]
    assert asked and all(asked) and not set(asked) & {"key-8"}
    assert not ProviderExtensionNotice.objects.exists() and extensions.asks(extensions.STATUS)


@responses.activate
def test_an_expired_hold_is_a_refusal():
    responses.post(f"{API}/payment", status=503)
    responses.post(f"{API}/payment/R1/status", body=answer("1000", reqTxState="EXPIRED"),
                   content_type="application/xml")
    with pytest.raises(ProviderError) as caught:
        _approve_at_provider(client(), request(), "key-1", deadline(), use_status=True)
    assert caught.value.code == "EXPIRED" and not isinstance(caught.value, ProviderUnavailable)


def paths() -> list[str]:
    return [c.request.url.split("/v2/partner/ABC123/")[1] for c in responses.calls]


@responses.activate
def test_standard_profile_a_lost_answer_is_settled_by_sending_the_same_approval_again():
    # given a provider without the status extension that applied the approval and lost the answer
    responses.post(f"{API}/payment", status=503)
    responses.post(f"{API}/payment", body=answer("3092", txId="T5", state="APPROVED", baseAccumRate="1",
                                                 baseAccumAmount="45"), content_type="application/xml")
    # when the portal approves
    result = _approve_at_provider(client(), request(), "key-3", deadline())
    # then the same request went twice (same key, same body) and the duplicate's txId is the answer; no status call
    assert result.tx_id == "T5" and paths() == ["payment", "payment"]
    first, second = (c.request for c in responses.calls)
    assert first.body == second.body and first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


@responses.activate
def test_standard_profile_3092_without_a_tx_id_twice_is_a_refusal_never_a_guess():
    responses.post(f"{API}/payment", body=answer("3092"), content_type="application/xml")
    with pytest.raises(ProviderError) as caught:
        _approve_at_provider(client(), request(), "key-1", deadline())
    assert caught.value.code == "NO_TX_ID" and not isinstance(caught.value, ProviderUnavailable)
    assert paths() == ["payment", "payment"]


@responses.activate
def test_standard_profile_two_lost_answers_are_unavailable():
    responses.post(f"{API}/payment", status=502)
    with pytest.raises(ProviderUnavailable):
        _approve_at_provider(client(), request(), "key-1", deadline())
    assert paths() == ["payment", "payment"]


@responses.activate
def test_a_passed_deadline_sends_nothing_more():
    responses.post(f"{API}/payment", status=503)
    with pytest.raises(ProviderUnavailable):
        _approve_at_provider(client(), request(), "key-1", time.monotonic() - 1)
    assert paths() == []


@pytest.mark.parametrize("body,content_type,status", [
    ("<html><body>Not Found</body></html>", "text/html", 404),
    ("", "text/plain", 200),
    ("not xml at all", "application/xml", 200),
    ('{"response": []}', "application/json", 200),
    ('[1, 2]', "application/json", 200),
])
@responses.activate
def test_garbage_answers_are_provider_errors_never_exceptions_of_a_library(body, content_type, status):
    responses.post(f"{API}/payment/T1/cancel", body=body, content_type=content_type, status=status)
    with pytest.raises(ProviderError) as caught:
        client().cancel("T1", idempotency_key="k")
    assert caught.value.code == (f"HTTP{status}" if status >= 400 else "BAD_ANSWER")
    assert "네이버 마일리지" in caught.value.message


@pytest.mark.parametrize("call", ["cancel", "stated", "cancel_stated", "confirmed", "abort"])
@responses.activate
def test_an_empty_id_is_never_sent(call):
    with pytest.raises(ProviderError) as caught:
        getattr(client(), call)("", idempotency_key="k")
    assert caught.value.code == "NO_TX_ID" and len(responses.calls) == 0
    with pytest.raises(ProviderError):
        client().status("")
    assert len(responses.calls) == 0


@responses.activate
def test_one_attempt_per_call():
    responses.post(f"{API}/payment/T1/stated", status=500)
    with pytest.raises(ProviderUnavailable):
        client().stated("T1", idempotency_key="k")
    assert len(responses.calls) == 1


@responses.activate
def test_given_one_shared_client_when_a_json_call_and_xml_calls_run_at_once_then_each_asks_its_own_format():
    # the client is cached per configuration and shared by threads: a call's format is its own, not the client's
    import threading
    from urllib.parse import parse_qs, urlsplit

    formats = []

    def sent_format(request) -> str | None:
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        fields = {**parse_qs(urlsplit(request.url).query), **parse_qs(body)}
        return (fields.get("format") or [None])[0]

    def settle(request):
        formats.append(("settlement", sent_format(request)))
        return 200, {"Content-Type": "application/json"}, '{"response": {"resultCode": "1000", "resultMessage": "ok"}}'

    def rate(request):
        formats.append(("rate", sent_format(request)))
        return 200, {"Content-Type": "application/xml"}, answer("1000", baseAccumRate="1")

    responses.add_callback(responses.POST, f"{API}/settlement/2026-11", callback=settle)
    responses.add_callback(responses.GET, f"{API}/getAccumRate", callback=rate)
    shared, failures = client(), []

    def run(call):
        try:
            call()
        except Exception as exc:  # collected: a thread's exception must fail the test
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(lambda: shared.settlement("2026-11"),)) for _ in range(4)] + \
        [threading.Thread(target=run, args=(lambda: shared.accum_rate(fresh=True),)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(formats) == [("rate", "xml")] * 4 + [("settlement", "json")] * 4
    assert shared.fmt == "xml"


def test_a_refusal_under_a_code_of_the_providers_own_shows_its_reason_not_a_bare_number():
    from mileage.services.transactions import refusal_message

    # a provider written from the protocol numbers its state errors its own way (§2: "3xxx for state errors")
    assert refusal_message("3105", "보유 마일리지보다 많이 사용할 수 없습니다.") == (
        "보유 마일리지보다 많이 사용할 수 없습니다 (네이버 마일리지 코드 3105).")
    # the codes the portal knows keep its own words; a refusal it concluded itself is not quoted twice
    assert refusal_message("3004", "whatever") == "네이버 마일리지 잔액이 부족합니다."
    assert refusal_message("USED", "네이버 마일리지 승인을 받지 못했습니다.") == "네이버 마일리지 승인을 받지 못했습니다 (코드 USED)."
    assert refusal_message("3105", "") == "네이버 마일리지 승인을 받지 못했습니다 (코드 3105)."
    # numbered outside the sandbox's 1xxx–3xxx altogether
    assert refusal_message("5001", "잔액 부족") == "잔액 부족 (네이버 마일리지 코드 5001)."
    # the portal's own conclusion (no txId could be learnt) reads without an internal code
    assert refusal_message("NO_TX_ID", "네이버 마일리지 승인을 받지 못했습니다.") == "네이버 마일리지 승인을 받지 못했습니다."


@responses.activate
def test_an_indented_answer_reads_as_its_values():
    # an XML answer pretty-printed, its values padded and its unknown fields first
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<response>\n  <extra> x </extra>\n  <txId>\n    T1\n  </txId>\n'
            '  <baseAccumRate> 1.0 </baseAccumRate>\n  <baseAccumAmount> 45 </baseAccumAmount>\n'
            '  <resultMessage> 성공 </resultMessage>\n  <resultCode> 1002 </resultCode>\n</response>\n')
    responses.post(f"{API}/payment", body=body, content_type="application/xml")
    result = _approve_at_provider(client(), request(), "key-1", deadline())
    assert (result.code, result.tx_id, result.earn_won, result.base_rate_x10) == ("1002", "T1", 45, 10)


@responses.activate
def test_3092_then_a_status_answering_the_reqtxid_used_with_its_txid_is_the_approval():
    # a provider that answers one `state` for the reqTxId: USED by the approval whose txId it names
    responses.post(f"{API}/payment", body=answer("3092"), content_type="application/xml")
    responses.post(f"{API}/payment/R1/status", body=answer("1000", txId="T7", state="USED", baseAccumRate="1",
                                                              baseAccumAmount="45"), content_type="application/xml")
    result = _approve_at_provider(client(), request(), "key-9", deadline(), use_status=True)
    assert result.tx_id == "T7"
    assert len([c for c in responses.calls if c.request.url.endswith("/payment")]) == 1  # never approved twice
