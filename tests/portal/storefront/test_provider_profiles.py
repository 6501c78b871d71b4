"""Two provider profiles (docs/adr/0011-provider-profiles.md, docs/protocol.md §6): the portal uses an
extension only when the provider advertises it and the shop's 연동 방식 allows it. Against a provider of the
public protocol alone (the sandbox's standard profile) a buyer orders with mileage and the operator cancels
and refunds it with the same results as against the extended sandbox; a lost answer, a hanging provider and an
extension that answers nonsense never charge anyone, never refuse a buyer for the portal's own assumptions,
and never lose a call."""

import re
import time

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from mileage.models import MileageSettings, OutboxMessage, ProviderExtensionNotice, TransactionState
from mileage.models.settings import ProviderProfile
from mileage.provider import MileageClient, extensions
from mileage.services.transactions import outbox_deliver
from portal.aftersales.models import Refund, RefundStatus
from portal.orders.models import Order, OrderStatus, PaymentStatus
from tests.provider_proxy import NOT_FOUND, ProviderProxy

from .conftest import GUEST, buyer_with_choice, use_merchant

pytestmark = pytest.mark.sandbox

CARD = {**GUEST, "payment_method": "card", "card_number": "4111-1111-1111-1111"}
ALL = {"hold", "status", "serviceStatus", "settlement", "rateCalendar", "join", "idempotency"}


@pytest.fixture(params=["extended", "standard"])
def profiled(request, shop):
    """A merchant of each profile, the shop pointed at it."""
    api_id, hash_key = shop.new_merchant(rate="1", profile=request.param)
    use_merchant(api_id, hash_key)
    return request.param, api_id


@pytest.fixture
def operator(shop):
    client = Client()
    client.force_login(User.objects.get(username="operator"))
    return client


def test_the_extensions_in_use_are_the_advertised_ones_narrowed_by_the_setting(profiled):
    profile, _api_id = profiled
    assert extensions.in_use() == (ALL if profile == "extended" else set())
    # the shop's setting can only narrow what the provider says
    MileageSettings.objects.filter(pk=1).update(provider_profile=ProviderProfile.STANDARD)
    cache.clear()
    assert extensions.in_use() == set()


def test_an_order_with_mileage_is_placed_cancelled_and_refunded_alike(profiled, shop, operator, sent):
    profile, _api_id = profiled
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, "1")
    # the popup holds the use only where the provider offers the hold
    assert shop.balance(buyer)["held"] == (500 if profile == "extended" else 0)
    response = browser.post("/shop/order/", CARD)
    assert response.status_code == 302, response.content.decode()[-1500:]
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID and order.payments.get().status == PaymentStatus.APPROVED
    assert (order.mileage_use_won, order.payable_won) == (500, 4_500)
    assert shop.balance(buyer)["available"] == 15_000
    # 배송전 취소, then 환불완료: the mileage comes back at the provider
    response = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "4500", "store_points_won": "0", "mileage_won": "500", "shipping_deduction_won": "0",
        "method": "card"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    refund = Refund.objects.get(order=order)
    operator.post("/console/refunds/?status=before", {"selection": [refund.pk], "confirm": "1"})
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    assert shop.balance(buyer)["available"] == 15_500 and shop.balance(buyer)["pending"] == 0
    # the standard profile never made an extension call
    if profile == "standard":
        assert not [path for path in sent if path.endswith("/status") or path.startswith("settlement/")]
    assert not ProviderExtensionNotice.objects.exists()


def test_a_lost_approval_answer_places_the_order_once(profiled, shop, sent, operator):
    profile, api_id = profiled
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, "1")
    # given the provider applies the approval and the answer is lost on the way back
    shop.fault(api_id, "drop", count=1)
    response = browser.post("/shop/order/", CARD)
    # then the order is placed once, with the txId the provider has
    assert response.status_code == 302, response.content.decode()[-2000:]
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID
    transactions = shop.balance(buyer)["transactions"]
    assert [t["state"] for t in transactions] == ["APPROVED"]
    assert order.mileage.tx_id == transactions[0]["txId"] and order.mileage.state == TransactionState.APPROVED
    assert shop.balance(buyer)["available"] == 15_000
    # learnt by the status call where offered, by the same approval sent again where not
    # learnt by the status call where offered; where not, the call answers an unknown path (asked once, §2 says
    # to ask it) and the same approval sent again gives the txId
    # (the extended provider's status call is also asked by the done page, which uses it only when advertised)
    approvals = [path for path in sent if path == "payment"]
    statuses = len([p for p in sent if p.endswith("/status")])
    if profile == "standard":
        assert approvals == ["payment", "payment"] and statuses == 1
        assert ProviderExtensionNotice.objects.get().extension == "status"
        # the dashboard says so in a plain sentence (no error code, one full stop)
        dashboard = operator.get("/console/").content.decode()
        sentence = re.search(r"네이버 마일리지에 ‘결제 상태 조회’ 기능이 없습니다[^<]*", dashboard).group(0)
        assert "[" not in sentence and ".)." not in sentence
    else:
        assert approvals == ["payment"] and statuses == 2 and not ProviderExtensionNotice.objects.exists()


def test_a_hanging_provider_refuses_within_one_deadline_and_charges_nothing(profiled, shop, settings, monkeypatch):
    settings.MILEAGE_APPROVAL_DEADLINE_SECONDS = 2.0
    # the worker sends the outbox after the buyer's answer (the tests' immediate task backend would send it inside)
    monkeypatch.setattr("mileage.provider.outbox._schedule", lambda message_id: None)
    _profile, api_id = profiled
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, "1")
    # given the provider answers nothing for 5 s
    shop.fault(api_id, "timeout", count=5, delay=5.0)
    started = time.monotonic()
    response = browser.post("/shop/order/", CARD)
    waited = time.monotonic() - started
    # then the buyer reads why at the deadline, long before the provider would answer (the portal's own time after
    # the provider's silence included: a second of margin for a loaded machine, far from the 5 s of a call waited out)
    page = response.content.decode()
    assert response.status_code == 400 and "연결되지 않았습니다" in page and waited < 3.0, waited
    assert page.count("주문하지 못했습니다") == 1 and page.count("마일리지 없이 결제해 주세요") == 1
    order = Order.objects.get()
    assert order.status == OrderStatus.PAYMENT_FAILED and not order.payments.get().gateway_tid
    # and the reqTxId is aborted through the outbox once the provider answers again, whatever landed late
    shop.fault(api_id, "", count=0)
    # (the first at once; a second, later, for an attempt applied after it: test_an_approval_applied_after_…)
    abort, again = OutboxMessage.objects.filter(order=order, kind="abort").order_by("id")
    assert again.idempotency_key.endswith("after-unanswered") and again.status == "pending"
    for _ in range(60):
        abort.refresh_from_db()
        if abort.status != "sent":
            outbox_deliver(abort.pk, force=True)
            abort.refresh_from_db()
        if abort.status == "sent" and all(t["state"] == "ABORTED" for t in shop.balance(buyer)["transactions"]):
            break
        time.sleep(0.1)
    assert abort.status == "sent", abort.last_error
    assert shop.balance(buyer)["available"] == 15_500 and shop.balance(buyer)["held"] == 0


def test_without_the_hold_two_orders_cannot_spend_the_same_won(shop):
    # given a provider of the public protocol: the popup holds nothing and shows the whole balance twice
    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)
    buyer = shop.new_buyer(3_000)
    first, second = buyer_with_choice(shop, buyer, 2_000, "4"), buyer_with_choice(shop, buyer, 2_000, "4")
    assert first.post("/shop/order/", CARD).status_code == 302
    # when the second order is placed: the provider refuses the approval
    response = second.post("/shop/order/", CARD)
    page = response.content.decode()
    assert response.status_code == 400 and "잔액이 부족" in page
    refused = Order.objects.exclude(status=OrderStatus.PAID).get()
    assert refused.status == OrderStatus.PAYMENT_FAILED and not refused.payments.get().gateway_tid
    assert shop.balance(buyer)["available"] == 1_000
    # the abort of the refused reqTxId (nothing to undo at that provider) does not wait in the operator's queue
    abort = OutboxMessage.objects.get(order=refused, kind="abort")
    if abort.status != "sent":
        outbox_deliver(abort.pk, force=True)
        abort.refresh_from_db()
    assert abort.status == "sent", abort.last_error


def test_settlement_shows_no_provider_report_in_the_standard_profile(profiled, shop, operator):
    profile, _api_id = profiled
    page = operator.get("/console/mileage/settlement/").content.decode()
    if profile == "standard":
        assert "제공자 보고서 없음" in page and 'id="mismatches"' not in page and 'id="reconciled"' not in page
    else:
        assert "제공자 보고서 없음" not in page and 'id="reconciled"' in page


def test_the_key_check_works_without_extensions(profiled, shop, operator):
    _profile, api_id = profiled
    settings_row = MileageSettings.load()
    ok = operator.post("/console/mileage/settings/", {
        "action": "check", "api_id": api_id, "hash_key": settings_row.hash_key, "subtract_discounts": "on",
        "subtract_store_points": "on", "provider_profile": "auto", "store_points_rate": "0"}).content.decode()
    assert "연결 성공" in ok
    wrong = operator.post("/console/mileage/settings/", {
        "action": "check", "api_id": api_id, "hash_key": "0" * 40, "subtract_discounts": "on",
        "provider_profile": "auto", "store_points_rate": "0"}).content.decode()
    assert "연결 실패" in wrong


STATE_ERROR = re.compile(rb"<resultCode>3[0-9]{3}</resultCode>")


def state_errors_renumbered(suffix: str, code: bytes):
    """A ProviderProxy rewrite: the sandbox's state errors (3xxx) on the paths ending in `suffix` answered under
    `code`, as a provider numbering its errors its own way answers them (§2 promises no numbering)."""
    def rewrite(path: str, answer):
        status, content_type, body = answer
        if path.endswith(suffix) and STATE_ERROR.search(body):
            return status, content_type, STATE_ERROR.sub(b"<resultCode>" + code + b"</resultCode>", body)
        return None
    return rewrite


def test_the_key_check_works_with_a_provider_numbering_its_errors_its_own_way(shop, settings, operator):
    """docs/protocol.md §2 promises 3xxx for state errors in the sandbox only: a provider answering the key check's
    unknown reqTxId with a parameter error (2005) still proves the right key (it refuses wrong keys otherwise, and the
    service can be turned on with it), and refuses a wrong one (answered as keys that cannot be right are)."""
    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")

    with ProviderProxy(shop.base_url, lambda path: None, state_errors_renumbered("/abort", b"2005")) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        form = {"action": "check", "api_id": api_id, "subtract_discounts": "on", "provider_profile": "auto",
                "store_points_rate": "0"}
        ok = operator.post("/console/mileage/settings/", {**form, "hash_key": hash_key}).content.decode()
        assert "연결 성공" in ok and "연결 실패" not in ok, ok[-2000:]
        wrong = operator.post("/console/mileage/settings/", {**form, "hash_key": "0" * 40}).content.decode()
        assert "연결 실패" in wrong and "연결 성공" not in wrong
        # the right key, saved, turns the service on
        use_merchant(api_id, hash_key)
        MileageSettings.objects.filter(pk=1).update(service_enabled=False)
        operator.post("/console/mileage/settings/", {"action": "enable"})
        assert MileageSettings.load().service_enabled


@pytest.mark.parametrize("forced", [NOT_FOUND, (200, "text/html", b"<p>maintenance</p>"), (200, "text/plain", b""),
                                    (200, "application/xml", b"<response><resultCode>9999</resultCode></response>")])
def test_an_advertised_status_call_answering_nonsense_never_refuses_the_buyer(shop, settings, operator, forced):
    # given a provider that advertises the status extension but answers it like a web server without it
    api_id, hash_key = shop.new_merchant(rate="1", profile="extended")
    use_merchant(api_id, hash_key)
    with ProviderProxy(shop.base_url, lambda path: forced if path.endswith("/status") else None) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        buyer = shop.new_buyer(15_500)
        # when the buyer chooses 500원 and orders
        browser = buyer_with_choice(shop, buyer, 500, "1")
        response = browser.post("/shop/order/", CARD)
        # then the order is placed, the extension is treated as absent from then on, once
        assert response.status_code == 302, response.content.decode()[-1500:]
        assert Order.objects.get().status == OrderStatus.PAID
        notice = ProviderExtensionNotice.objects.get()
        assert (notice.api_id, notice.extension) == (api_id, "status")
        calls = len([p for p in proxy.paths if p.endswith("/status")])
        assert calls == 1
        buyer_with_choice(shop, shop.new_buyer(15_500), 500, "1")
        assert len([p for p in proxy.paths if p.endswith("/status")]) == calls
        # and the dashboard says so in a plain sentence
        dashboard = operator.get("/console/").content.decode()
        assert "결제 상태 조회" in dashboard and "예상하지 못한 응답" in dashboard


@pytest.mark.parametrize("forced", [NOT_FOUND, (200, "text/html", b"<html>oops</html>"), (200, "text/plain", b""),
                                    (502, "text/html", b"<h1>Bad Gateway</h1>")])
def test_a_provider_answering_garbage_to_the_approval_charges_nothing(profiled, shop, settings, forced):
    _profile, _api_id = profiled
    with ProviderProxy(shop.base_url, lambda path: forced if path.endswith("/payment") else None) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        buyer = shop.new_buyer(15_500)
        browser = buyer_with_choice(shop, buyer, 500, "1")
        response = browser.post("/shop/order/", CARD)
        page = response.content.decode()
        assert response.status_code == 400 and "주문하지 못했습니다" in page and "결제된 금액은 없습니다" in page
        order = Order.objects.get()
        assert order.status == OrderStatus.PAYMENT_FAILED and not order.payments.get().gateway_tid
        # the abort is recorded for the provider (sent, or waiting in the operator's queue): nothing lost
        assert OutboxMessage.objects.filter(order=order, kind="abort").exists()
    assert shop.balance(buyer)["available"] == 15_500


def test_joining_is_the_manuals_paper_flow_without_the_join_extension(profiled, shop, operator):
    profile, _api_id = profiled
    # with both keys entered, the provider's serviceStatus says where the shop stands, whatever the profile
    page = operator.get("/console/mileage/about/").content.decode()
    assert 'data-state="approved"' in page and "메일로 보내 드립니다" not in page
    if profile == "standard":  # before the hash key is entered, the page says the keys come by mail
        key = MileageSettings.load().hash_key
        MileageSettings.objects.filter(pk=1).update(hash_key="")
        page = operator.get("/console/mileage/about/").content.decode()
        assert 'data-state="manual"' in page and "메일로 보내 드립니다" in page
        MileageSettings.objects.filter(pk=1).update(hash_key=key)
    # and the dashboard names how the portal talks to the provider
    dashboard = operator.get("/console/").content.decode()
    assert ("확장 기능: 사용 선택 보류" in dashboard) == (profile == "extended")
    assert ("표준 프로토콜" in dashboard) == (profile == "standard")


def test_a_buyer_who_logs_in_and_opens_the_popup_again_keeps_the_choice(profiled, shop):
    # given a guest's order form whose popup result came back (the reqTxId is this browser's now)
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, "4")
    # when the buyer logs in (the session's key changes) and presses 적립/사용 again: the same reqTxId comes back
    browser.force_login(User.objects.get(username="hong"))
    opened = browser.get("/mileage/popup/open/")
    params = shop.choose_in_popup(opened["Location"], buyer, 1_000)
    # then the result is still this browser's, and a copy of it in another browser is refused
    done = browser.get("/mileage/popup/done/", params)
    assert done.status_code == 200, done.content.decode()[-800:]
    other = Client()
    other.post("/shop/cart/add/", {"code": "4", "quantity": "1"})
    other.get("/shop/order/")
    other.get("/mileage/popup/open/")
    assert other.get("/mileage/popup/done/", params).status_code == 400


def test_whether_the_status_call_may_be_asked_is_decided_without_a_call(shop, sent):
    # given a provider that lists no extension, its getAccumRate answer not cached (expired, or another node)
    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)
    extensions.forget_provider_info()
    # when the approval asks whether it may recover a lost answer with the status call (§2 says to ask it): yes,
    # decided without any call
    assert extensions.asks(extensions.STATUS) is True and sent == []
    # never once it was found absent for this API ID, nor under 연동 방식 "표준 프로토콜만 사용"
    extensions.mark_absent(extensions.STATUS, "[404] not found")
    assert extensions.asks(extensions.STATUS) is False
    ProviderExtensionNotice.objects.all().delete()
    cache.clear()
    assert extensions.asks(extensions.STATUS) is True
    MileageSettings.objects.filter(pk=1).update(provider_profile=ProviderProfile.STANDARD)
    cache.clear()
    assert extensions.asks(extensions.STATUS) is False and sent == []


def test_an_unadvertised_status_call_settles_a_lost_approval_and_keeps_the_popups_rates(shop, settings):
    # given a provider that lists no extension, loses its first approval's answer (applied, then HTTP 500), and
    # answers the status call with the transaction's state and txId alone (§2: "learn the state and txId")
    import re

    api_id, hash_key = shop.new_merchant(rate="1", profile="extended")
    use_merchant(api_id, hash_key)
    approvals = []

    def rewrite(path, upstream):
        status, content_type, body = upstream
        if "getAccumRate" in path:
            return status, content_type, re.sub(rb"<extensions>.*?</extensions>", b"", body)
        if path.endswith("/payment"):
            approvals.append(path)
            if len(approvals) == 1:
                return 500, "text/html", b"<h1>Internal Server Error</h1>"
        if path.endswith("/status"):
            return status, content_type, re.sub(rb"<(reqTxState|doneUrl)>.*?</\1>", b"", body)
        return None

    with ProviderProxy(shop.base_url, lambda path: None, rewrite) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        buyer = shop.new_buyer(15_500)
        browser = buyer_with_choice(shop, buyer, 500, "1")
        # when the buyer orders
        response = browser.post("/shop/order/", CARD)
        # then the order is placed once, on the txId the status call named, at the rate the popup signed (1%)
        assert response.status_code == 302, response.content.decode()[-1500:]
        assert len(approvals) == 1 and any(p.endswith("/status") for p in proxy.paths)
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID
    [provider_tx] = shop.balance(buyer)["transactions"]
    assert order.mileage.tx_id == provider_tx["txId"]
    assert (order.mileage.base_rate_x10, order.mileage.add_rate_x10) == (10, 0)
    assert provider_tx["baseRate"] == 10 and order.mileage.expected_earn_won == provider_tx["earn"] > 0
    assert not ProviderExtensionNotice.objects.exists()


def test_a_provider_that_states_no_time_of_its_own_is_timed_as_the_portal_waited(shop, settings):
    # given a provider that sends no X-Provider-Time-Ms (the sandbox's own header): the proxy forwards no header
    from mileage.models import MileageEvent
    from portal.ops.metrics import ops_summary

    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)
    with ProviderProxy(shop.base_url, lambda path: None) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        buyer = shop.new_buyer(15_500)
        # when a buyer orders with mileage
        assert buyer_with_choice(shop, buyer, 500, "1").post("/shop/order/", CARD).status_code == 302
    # then the approval's wait is recorded, and the dashboard's response time counts it
    event = MileageEvent.objects.get(kind="approve")
    assert event.provider_ms is not None and event.provider_ms >= 0
    assert ops_summary().provider_calls_1h == 1


def test_a_provider_serving_the_settlement_report_unadvertised_is_reconciled_against(shop, settings, operator):
    # given a provider that lists no extension in getAccumRate, yet answers §4's POST settlement/{YYYY-MM} — in JSON
    # served as text/plain
    import re

    import requests

    api_id, hash_key = shop.new_merchant(rate="1", profile="extended")
    use_merchant(api_id, hash_key)

    def answer(path: str):
        if "getAccumRate" in path:
            rates = requests.get(shop.base_url + path, timeout=10)
            return 200, "application/xml", re.sub(rb"<extensions>.*?</extensions>", b"", rates.content)
        if "/settlement/" in path:
            report = requests.post(shop.base_url + path, data={"format": "json", "secret": hash_key}, timeout=10)
            return 200, "text/plain", report.content
        return None

    with ProviderProxy(shop.base_url, answer) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        assert extensions.in_use() == frozenset()
        buyer = shop.new_buyer(15_500)
        assert buyer_with_choice(shop, buyer, 500, "1").post("/shop/order/", CARD).status_code == 302
        # then 정산 reads the provider's report and finds it agrees, to the won
        page = operator.get("/console/mileage/settlement/").content.decode()
        assert 'id="reconciled"' in page and "제공자 보고서 없음" not in page
        assert any("/settlement/" in path for path in proxy.paths)
    assert not ProviderExtensionNotice.objects.exists()


def test_an_approval_applied_after_the_buyer_was_told_no_is_aborted_once_more_later(shop, settings):
    # given a provider that applies the approval only after the portal gave up waiting, and that said OK to the
    # abort which came first (there was nothing to abort yet)
    from datetime import timedelta

    from django.utils import timezone

    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)
    settings.MILEAGE_APPROVAL_READ_TIMEOUT = 1.0
    settings.MILEAGE_APPROVAL_DEADLINE_SECONDS = 1.5
    settings.MILEAGE_APPROVAL_RESERVE_SECONDS = 0.2
    aborts = []

    def late(path: str):
        if path.endswith("/payment"):
            time.sleep(2.5)  # then forwarded: applied at the provider after the buyer was answered
            return None
        if path.endswith("/abort"):
            aborts.append(path)
            if len(aborts) == 1:
                return 200, "application/xml", (b"<?xml version='1.0' encoding='UTF-8'?><response><resultCode>1000"
                                                b"</resultCode><resultMessage>OK</resultMessage></response>")
        return None

    with ProviderProxy(shop.base_url, late) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        buyer = shop.new_buyer(15_500)
        browser = buyer_with_choice(shop, buyer, 500, "1")
        response = browser.post("/shop/order/", CARD)
        assert response.status_code == 400 and "결제된 금액은 없습니다" in response.content.decode()
        order = Order.objects.get()
        assert order.status == OrderStatus.PAYMENT_FAILED
        # the late approval lands: the provider holds the buyer's 500원 for an order that was never placed
        deadline = time.monotonic() + 15
        while shop.balance(buyer)["available"] != 15_000 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert shop.balance(buyer)["available"] == 15_000
        # when the second abort falls due, it undoes it
        again = OutboxMessage.objects.get(order=order, kind="abort", idempotency_key__endswith="after-unanswered")
        assert again.next_attempt_at > timezone.now() + timedelta(seconds=30)
        assert outbox_deliver(again.pk, now=again.next_attempt_at).status == "sent"
    assert len(aborts) == 2
    assert shop.balance(buyer)["available"] == 15_500


def delivered_and_exchanged_down(shop, operator):
    """A card order of the 10,000원 product with 500원 of mileage, delivered, then exchanged for the 5,000원 one by
    the operator (a re-approval at the provider): the buyer, the order, its txId before and the re-approval's call."""
    from mileage.models import MileageTransaction
    from portal.aftersales.fulfilment import order_deliver, order_ship

    buyer = shop.new_buyer(15_500)
    assert buyer_with_choice(shop, buyer, 500, "2").post("/shop/order/", CARD).status_code == 302
    order = Order.objects.get()
    order_ship(order=order, invoice_no="123", carrier="cj", by=None)
    order_deliver(order=Order.objects.get(pk=order.pk), by=None)
    old_tx_id = MileageTransaction.objects.get(order=order).tx_id
    line = order.lines.get()
    assert operator.post(f"/console/orders/{order.number}/exchange/", {
        f"qty_{line.pk}": "1", "new_1": "1", "mileage_returned_won": "0", "action": "complete"}).status_code == 302
    return buyer, order, old_tx_id, OutboxMessage.objects.get(order=order, kind="repayment")


@pytest.mark.parametrize("first", ["3092", "1001"])
def test_a_re_approval_answered_without_a_txid_learns_the_new_one_from_the_settlement_report(shop, settings,
                                                                                           operator, first):
    # given a provider that lists no extension and applied a re-approval, but answered it without the new txId, as
    # the protocol allows: 3092 "already done" to the retry after its first answer was lost (HTTP 500), or 1001
    # "accepted, completed later" at once
    import re

    from mileage.models import MileageTransaction

    api_id, hash_key = shop.new_merchant(rate="1", profile="extended")
    use_merchant(api_id, hash_key)
    repayments = []

    def before(path: str):
        if "/repayment/" in path and repayments:
            repayments.append(path)
            return 200, "application/xml", (b"<?xml version='1.0' encoding='UTF-8'?><response><resultCode>3092"
                                            b"</resultCode><resultMessage>already done</resultMessage></response>")
        return None

    def after(path: str, answer):
        if "getAccumRate" in path:
            return answer[0], answer[1], re.sub(rb"<extensions>.*?</extensions>", b"", answer[2])
        if "/repayment/" in path:
            repayments.append(path)
            if first == "1001":
                return 200, "application/xml", (b"<?xml version='1.0' encoding='UTF-8'?><response><resultCode>1001"
                                                b"</resultCode><resultMessage>accepted</resultMessage></response>")
            return 500, "text/html", b"<h1>Internal Server Error</h1>"
        return None

    with ProviderProxy(shop.base_url, before, after) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        assert extensions.in_use() == frozenset()
        # when the 10,000원 product is exchanged for the 5,000원 one (a re-approval at the provider)
        buyer, order, old_tx_id, message = delivered_and_exchanged_down(shop, operator)
        if first == "3092":
            assert message.status == "pending"  # the lost answer: to be asked again
            message = outbox_deliver(message.pk, force=True)
        # then the portal carries the txId the provider replaced the old one with, read off its settlement report
        assert message.status == "sent" and len(repayments) == {"3092": 2, "1001": 1}[first], message.last_error
        mileage = MileageTransaction.objects.get(order=order)
        live = [t for t in shop.balance(buyer)["transactions"] if t["state"] != "SUPERSEDED"]
        assert mileage.tx_id != old_tx_id and mileage.tx_id in {t["txId"] for t in live}, live
        # and 구매확정 goes through on it, once the exchanged goods have left
        from portal.aftersales.exchanges import exchange_ship
        from portal.aftersales.models import Exchange

        exchange_ship(exchange=Exchange.objects.get(order=order), carrier="cj", invoice_no="124", by=None)
        operator.post(f"/console/orders/{order.number}/action/confirm_purchase/")
        confirmed = OutboxMessage.objects.get(order=order, kind="confirmed")
        if confirmed.status != "sent":
            confirmed = outbox_deliver(confirmed.pk, force=True)
        assert confirmed.status == "sent", confirmed.last_error


HANGUL = re.compile(r"[\uac00-\ud7a3]")


def test_the_dashboard_words_a_noticed_answer_in_the_readers_language(shop, operator):
    """The notice was kept in the language of the moment it was seen (a worker's, Korean): an English reader reads
    what the portal concluded in English, with the HTTP status; the provider's own message stays quoted as sent."""
    api_id, hash_key = shop.new_merchant(rate="1", profile="extended")
    use_merchant(api_id, hash_key)
    for extension, detail in (("status", "[HTTP404] 네이버 마일리지 서버의 응답을 읽을 수 없습니다 (HTTP 404)."),
                              ("settlement", "[NO_FIELDS] answer without the extension's fields"),
                              ("serviceStatus", "answer without the extension's fields"),  # as kept before its code
                              ("rateCalendar", "[BAD_ANSWER] 네이버 마일리지 서버의 응답을 읽을 수 없습니다 (HTTP 200).")):
        ProviderExtensionNotice.objects.create(api_id=api_id, extension=extension, detail=detail)
    operator.cookies["django_language"] = "en"
    dashboard = operator.get("/console/").content.decode()
    sentences = re.findall(r"[^<>]*on the standard protocol\.", dashboard)
    assert len(sentences) == 4, sentences
    assert not any(HANGUL.search(sentence) for sentence in sentences), sentences
    assert any("HTTP 404" in sentence for sentence in sentences)
    operator.cookies["django_language"] = "ko"
    korean = operator.get("/console/").content.decode()
    assert korean.count("응답에 이 기능의 항목이 없습니다") == 2 and "answer without" not in korean
    assert "네이버 마일리지 서버의 응답을 읽을 수 없습니다 (HTTP 404)" in korean


def card_order_confirmed(shop, sent):
    """A guest's card order with 500원 of mileage placed, shipped, delivered and 구매확정, its confirmed call sent
    (again, by hand, when it waits). Returns the buyer, the order, the call as it ended, and the confirmed and deal
    done calls sent for it, in order."""
    from portal.aftersales.fulfilment import order_confirm_purchase, order_deliver, order_ship

    buyer = shop.new_buyer(15_500)
    assert buyer_with_choice(shop, buyer, 500, "1").post("/shop/order/", CARD).status_code == 302
    order = Order.objects.get()
    order_ship(order=order, invoice_no="123456789", carrier="cj", by=None)
    order_deliver(order=Order.objects.get(pk=order.pk), by=None)
    sent.clear()
    order_confirm_purchase(order=Order.objects.get(pk=order.pk), by=None)
    message = OutboxMessage.objects.get(order=order, kind="confirmed")
    if message.status != "sent":
        message = outbox_deliver(message.pk, force=True)
    confirms = [path.rsplit("/", 1)[-1] for path in sent if path.endswith(("/confirmed", "/stated"))]
    return buyer, Order.objects.select_related("mileage").get(pk=order.pk), message, confirms


def test_a_card_order_is_confirmed_at_a_provider_that_wants_deal_done_first(profiled, shop, sent):
    """docs/protocol.md §2 draws APPROVED → STATED → CONFIRMED and names deal done for a transfer's deposit: the
    standard sandbox reads it strictly and refuses 구매확정 of a card order's APPROVED transaction (a state error);
    the portal then says deal done first and confirms again, so the purchase is confirmed at either provider."""
    profile, _api_id = profiled
    buyer, order, message, confirms = card_order_confirmed(shop, sent)
    assert message.status == "sent", message.last_error
    assert order.status == OrderStatus.CONFIRMED and order.mileage.state == TransactionState.CONFIRMED
    # the extended sandbox confirms at once; the strict one is told deal done first
    assert confirms == (["confirmed"] if profile == "extended" else ["confirmed", "stated", "confirmed"])
    # and the buyer's earn stands at the provider: granted once, nothing taken back
    assert shop.balance(buyer)["available"] + shop.balance(buyer)["pending"] == 15_000 + 45


def test_a_key_the_provider_does_not_tell_from_wrong_ones_is_not_proven(shop, settings, operator):
    """The same provider locking the API ID after a wrong secret: the two keys that cannot be right are answered
    apart (a refusal, then a lockout), so nothing tells the right key from them — not proven, not switched on (J3)."""
    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    refusals, ours = [], state_errors_renumbered("/abort", b"2005")

    def locking(path: str, answer):
        status, content_type, body = answer
        if not path.endswith("/abort"):
            return None
        if (past_the_secret := ours(path, answer)) is not None:
            return past_the_secret
        refusals.append(path)
        if len(refusals) > 1:  # the second wrong secret: locked
            return status, content_type, re.sub(rb"<resultCode>[0-9]{4}</resultCode>", b"<resultCode>2099"
                                                b"</resultCode>", body)
        return None

    with ProviderProxy(shop.base_url, lambda path: None, locking) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        page = operator.post("/console/mileage/settings/", {
            "action": "check", "api_id": api_id, "hash_key": hash_key, "subtract_discounts": "on",
            "provider_profile": "auto", "store_points_rate": "0"}).content.decode()
        assert "연결 실패" in page and "2005" in page and "연결 성공" not in page
        assert len(refusals) == 2


def test_a_card_order_is_confirmed_at_a_provider_numbering_its_state_errors_its_own_way(shop, settings, sent):
    """The strict reading of the last test at a provider whose state errors are not the sandbox's 3xxx (§2 promises
    no numbering): its refusal of 구매확정 (5006) still has the portal say deal done first and confirm again."""
    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)

    with ProviderProxy(shop.base_url, lambda path: None, state_errors_renumbered("/confirmed", b"5006")) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        _buyer, order, message, confirms = card_order_confirmed(shop, sent)
        assert message.status == "sent", message.last_error
        assert confirms == ["confirmed", "stated", "confirmed"]
        assert order.mileage.state == TransactionState.CONFIRMED


@pytest.mark.parametrize("listed", [False, True])
def test_a_provider_refusing_the_report_path_with_a_code_of_its_own_has_no_report_unless_it_lists_one(
        shop, settings, operator, listed):
    # given a provider whose settlement path answers its own "unknown path" (a 2xxx code, not a web server's 404),
    # listing the report in getAccumRate or not
    import re

    import requests

    api_id, hash_key = shop.new_merchant(rate="1", profile="extended")
    use_merchant(api_id, hash_key)
    refusal = ('<?xml version="1.0" encoding="UTF-8"?><response><resultCode>2404</resultCode>'
               '<resultMessage>알 수 없는 경로</resultMessage></response>').encode()

    def answer(path: str):
        if "getAccumRate" in path and not listed:
            rates = requests.get(shop.base_url + path, timeout=10)
            return 200, "application/xml", re.sub(rb"<extensions>.*?</extensions>", b"", rates.content)
        if "/settlement/" in path:
            return 200, "application/xml", refusal
        return None

    with ProviderProxy(shop.base_url, answer) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        page = operator.get("/console/mileage/settlement/").content.decode()
        assert any("/settlement/" in path for path in proxy.paths)
    if listed:  # it said it has one: its failure is shown
        assert "네이버 정산 보고서를 가져오지 못했습니다" in page and "2404" in page
    else:  # it never said so: the shop's ledger alone, as with the standard protocol
        assert "제공자 보고서 없음" in page and "가져오지 못했습니다" not in page and 'id="mismatches"' not in page
        # with what the provider answered, so that a refused key would read there too
        assert "보고서 요청에 대한 네이버 마일리지의 응답: [2404] 알 수 없는 경로" in page


def test_a_confirmation_unanswered_after_deal_done_is_sent_again_and_confirms_once(shop, monkeypatch):
    """The strict provider: confirmed refused, deal done said, then the second confirmed gets no answer (a timeout).
    The message waits for its retry; sent again, its first confirmed now finds the deal done and is taken."""
    from mileage.provider import ProviderUnavailable
    from portal.aftersales.fulfilment import order_confirm_purchase, order_deliver, order_ship

    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)
    buyer = shop.new_buyer(15_500)
    assert buyer_with_choice(shop, buyer, 500, "1").post("/shop/order/", CARD).status_code == 302
    order = Order.objects.get()
    order_ship(order=order, invoice_no="123456789", carrier="cj", by=None)
    order_deliver(order=Order.objects.get(pk=order.pk), by=None)
    real_confirmed, asked = MileageClient.confirmed, []

    def confirmed(self, tx_id, *, idempotency_key):
        asked.append(idempotency_key)
        if len(asked) == 2:
            raise ProviderUnavailable("TIMEOUT", "no answer")
        return real_confirmed(self, tx_id, idempotency_key=idempotency_key)

    monkeypatch.setattr(MileageClient, "confirmed", confirmed)
    order_confirm_purchase(order=Order.objects.get(pk=order.pk), by=None)
    message = OutboxMessage.objects.get(order=order, kind="confirmed")
    if len(asked) < 2:
        message = outbox_deliver(message.pk, force=True)
    assert message.status == "pending" and "TIMEOUT" in message.last_error
    assert Order.objects.select_related("mileage").get(pk=order.pk).mileage.state != TransactionState.CONFIRMED
    # sent again: the first confirmed is taken now, and the state moves once
    message = outbox_deliver(message.pk, force=True)
    assert message.status == "sent", message.last_error
    mileage = Order.objects.select_related("mileage").get(pk=order.pk).mileage
    assert mileage.state == TransactionState.CONFIRMED
    assert mileage.events.filter(kind="confirmed").count() == 1
    assert len(asked) == 3 and asked[0] == asked[2]  # the retry asks with the message's own key


def test_an_answer_without_an_amount_lists_the_use_standing_on_its_txid(shop):
    """네이버 마일리지 이력: an answer that states no mileageUseAmount (a deal done, a confirmation, an invoice)
    lists the use the provider holds on the txId — after a re-approval, not the order's first use."""
    from mileage.provider.client import ApiResult
    from mileage.services.transactions import _apply

    buyer = shop.new_buyer(15_500)
    assert buyer_with_choice(shop, buyer, 500, "1").post("/shop/order/", CARD).status_code == 302
    mileage = Order.objects.select_related("mileage").get().mileage
    # as after a return gave 300원 of the 500원 back and the provider's re-approval was answered
    type(mileage).objects.filter(pk=mileage.pk).update(returned_won=300, provider_use_won=200)
    mileage.refresh_from_db()
    event = _apply(mileage, "confirmed", ApiResult(code="1000", message="성공", raw={"resultCode": "1000"}),
                   idempotency_key="test:confirmed:no-amount", request={})
    assert event.use_won == 200



UNKNOWN_REQ_TX = (200, "application/xml", '<?xml version="1.0" encoding="UTF-8"?><response><resultCode>4004'
                  '</resultCode><resultMessage>거래 정보가 없습니다</resultMessage></response>'.encode())


@pytest.fixture
def unsent(monkeypatch):
    """The outbox's calls wait for the test to send them (the tests' immediate task backend would send them at once)."""
    monkeypatch.setattr("mileage.provider.outbox._schedule", lambda message_id: None)


def deliver_abort(order: Order, *, unanswered: bool = False) -> OutboxMessage:
    """The order's first abort sent now (`unanswered`: as if it followed an approval left unanswered)."""
    abort = OutboxMessage.objects.filter(order=order, kind="abort").order_by("id").first()
    assert abort.status == "pending"
    if unanswered:
        OutboxMessage.objects.filter(pk=abort.pk).update(
            payload={name: value for name, value in abort.payload.items() if name != "refused"})
    outbox_deliver(abort.pk, force=True)
    abort.refresh_from_db()
    return abort


@pytest.mark.parametrize("after", ["refused", "unanswered"])
def test_the_abort_of_a_refused_approval_at_a_provider_numbering_its_errors_its_own_way_needs_no_operator(
        shop, settings, unsent, after):
    """A provider of the public protocol that knows a reqTxId only once an approval took it answers the abort of a
    refused one with its own code (4004, not the sandbox's 3xxx): nothing to undo, not a failure for 전송 대기열.
    After an approval left unanswered (which may have landed) the same refusal proves nothing, and waits there."""
    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)
    buyer = shop.new_buyer(3_000)
    first, second = buyer_with_choice(shop, buyer, 2_000, "4"), buyer_with_choice(shop, buyer, 2_000, "4")
    assert first.post("/shop/order/", CARD).status_code == 302
    assert second.post("/shop/order/", CARD).status_code == 400  # the provider refuses: the balance is spent
    refused = Order.objects.exclude(status=OrderStatus.PAID).get()
    with ProviderProxy(shop.base_url, lambda path: UNKNOWN_REQ_TX if path.endswith("/abort") else None) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        abort = deliver_abort(refused, unanswered=after == "unanswered")
        assert sum(path.endswith("/abort") for path in proxy.paths) == 1
    if after == "refused":
        assert abort.status == "sent", abort.last_error
    else:
        assert abort.status != "sent" and "4004" in abort.last_error


@pytest.mark.parametrize("held", [False, True])
def test_an_abort_refused_under_a_providers_own_numbering_is_taken_once_its_status_call_says_nothing_is_held(
        shop, settings, sandbox_clock, unsent, held):
    """The extended provider with the status call: its own code (4004) for the abort after an unanswered approval is
    taken as "nothing to undo" only once the status call says no hold and no approval stand on the reqTxId — not
    while it says HELD."""
    api_id, hash_key = shop.new_merchant(rate="1", profile="extended")
    use_merchant(api_id, hash_key)
    buyer = shop.new_buyer(15_500)
    browser = buyer_with_choice(shop, buyer, 500, "1")
    shop.advance(31 * 60)  # the popup's hold expires at the provider: the approval is refused
    assert browser.post("/shop/order/", CARD).status_code == 400
    refused = Order.objects.get()
    states = []

    def status(path: str, answer):
        if not path.endswith("/status"):
            return None
        code, content_type, body = answer
        states.extend(re.findall(rb"<reqTxState>(\w+)</reqTxState>", body))
        if held:  # the choice still held there (as an unanswered approval's abort may find it)
            body = re.sub(rb"<reqTxState>\w+</reqTxState>", b"<reqTxState>HELD</reqTxState>", body)
        return code, content_type, body

    with ProviderProxy(shop.base_url, lambda path: UNKNOWN_REQ_TX if path.endswith("/abort") else None,
                       status) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        abort = deliver_abort(refused, unanswered=True)
    assert states == [b"EXPIRED"]
    assert (abort.status == "sent") is not held, abort.last_error



@pytest.mark.parametrize(("stated", "shown"), [(b"1.00", "네이버 마일리지 1% 적립"), (b"1.50", "네이버 마일리지 1.5% 적립"),
                                               (b"1.25", None)])
def test_a_rate_written_with_more_decimals_reads_as_written_and_one_below_a_tenth_as_none(
        shop, settings, operator, client, stated, shown):
    """getAccumRate's rate with two decimals ("1.00", "1.50") is that rate; one that cannot be granted in the
    protocol's tenths ("1.25") is no rate — none shown, the key check says why — never 0%."""
    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)

    def restated(path: str, answer):
        code, content_type, body = answer
        if "getAccumRate" not in path:
            return None
        return code, content_type, re.sub(rb"<baseAccumRate>[^<]*</baseAccumRate>",
                                          b"<baseAccumRate>" + stated + b"</baseAccumRate>", body)

    with ProviderProxy(shop.base_url, lambda path: None, restated) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        product = client.get("/shop/p/1/").content.decode()
        check = operator.post("/console/mileage/settings/", {
            "action": "check", "api_id": api_id, "hash_key": hash_key, "subtract_discounts": "on",
            "provider_profile": "auto", "store_points_rate": "0"}).content.decode()
    assert "0% 적립" not in product
    if shown:
        assert shown in product and f"연결 성공: 기본 적립률 {shown.split()[2]}" in check
    else:
        assert "% 적립" not in product.split('id="content"', 1)[-1]
        assert "기본 적립률(1.25)을 읽을 수 없습니다" in check and "연결 성공" not in check


def approval_amount_restated(amount: bytes):
    """A ProviderProxy rewrite: the approval's answer with its baseAccumAmount element replaced by `amount` (b"":
    an answer stating no amount)."""
    def rewrite(path: str, answer):
        code, content_type, body = answer
        if not path.endswith("/payment"):
            return None
        return code, content_type, re.sub(rb"<baseAccumAmount>[^<]*</baseAccumAmount>", amount, body)
    return rewrite


def test_an_approval_answered_without_its_amount_keeps_the_earn_within_the_holding_cap(shop, settings):
    """E4: a buyer near 500,000원 earns at most what fits. An approval answered without baseAccumAmount (a 1001, a
    lost answer settled by the status call) keeps the earn the order form showed as the most it can be — never the
    full rate of an order far above what fits."""
    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)

    buyer = shop.new_buyer(499_990)
    with ProviderProxy(shop.base_url, lambda path: None, approval_amount_restated(b"")) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        browser = buyer_with_choice(shop, buyer, 500, "4")  # 20,000원: 195원 at 1% of what it costs after the use
        form = browser.get("/shop/order/").content.decode()
        assert browser.post("/shop/order/", CARD).status_code == 302
    order = Order.objects.get()
    # the popup's balance (499,490 after the use) and the use leave room for 10원: the form said "최대 10원", and
    # that is the earn kept
    assert '<span class="earn-capped">최대 10원</span>' in form
    assert order.mileage.expected_earn_won == 10


LOOKED_UP_FIRST = (200, "application/xml", '<?xml version="1.0" encoding="UTF-8"?><response><resultCode>3001'
                   '</resultCode><resultMessage>거래 정보가 없습니다</resultMessage></response>'.encode())


OPEN_REPORT = (200, "application/json", b'{"response": {"resultCode": "1000", "resultMessage": "ok", "lines": []}}')


@pytest.mark.parametrize(("profile", "right_key", "open_report"), [
    ("extended", True, False), ("extended", False, False), ("standard", False, False), ("extended", False, True)])
def test_the_key_check_refuses_a_wrong_key_at_a_provider_that_looks_the_reqtxid_up_before_the_secret(
        shop, settings, operator, profile, right_key, open_report):
    """A provider answering the key check's abort with "no such transaction" (3001) before it reads the secret answers
    a wrong key as it answers the right one: the abort proves nothing there. The settlement report (§4), which names
    no transaction, proves a right key where the provider has it and refuses a wrong one (a report served to any
    key proves nothing); a wrong key is never 연결 성공."""
    api_id, hash_key = shop.new_merchant(rate="1", profile=profile)

    def answer(path: str):
        if path.endswith("/abort"):
            return LOOKED_UP_FIRST
        return OPEN_REPORT if open_report and "/settlement/" in path else None

    with ProviderProxy(shop.base_url, answer) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        page = operator.post("/console/mileage/settings/", {
            "action": "check", "api_id": api_id, "hash_key": hash_key if right_key else "0" * 40,
            "subtract_discounts": "on", "provider_profile": "auto", "store_points_rate": "0"}).content.decode()
    if right_key:
        assert "연결 성공" in page and "연결 실패" not in page
    else:
        assert "연결 실패" in page and "연결 성공" not in page
        if profile == "standard":
            assert "틀린 키에도 같은 답" in page


@pytest.mark.parametrize("stated", [b"<baseAccumAmount>100</baseAccumAmount><addAccumAmount>95</addAccumAmount>",
                                    b"<baseAccumAmount>195</baseAccumAmount><addAccumAmount>95</addAccumAmount>"])
def test_an_approval_stating_the_ad_inflows_part_of_the_earn_apart_is_booked_with_it(shop, settings, stated):
    """A provider that answers the earn in two parts (baseAccumAmount for the base rate, addAccumAmount for an ad
    inflow's extra rate) grants their sum: the order books and shows what the provider granted — and one whose
    baseAccumAmount already holds both (a sum above what the rates grant) is not counted twice."""
    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)

    with ProviderProxy(shop.base_url, lambda path: None, approval_amount_restated(stated)) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        browser = buyer_with_choice(shop, shop.new_buyer(15_500), 500, "4")
        response = browser.post("/shop/order/", CARD)
        assert response.status_code == 302
    order = Order.objects.get()
    assert order.mileage.expected_earn_won == 195
    assert "195원" in browser.get(response["Location"]).content.decode()


def test_a_re_approval_completed_after_its_1001_has_its_new_txid_learnt_later(shop, settings, operator):
    """1001 "accepted, completed later" without the new txId, and neither the status call nor the settlement report
    names it yet: the order keeps the old txId for now, and a worker asks again later — once the report names the
    new txId, the order carries it (and says so in its history), so that its next calls go on the live one."""
    from mileage.models import MileageEvent, MileageTransaction
    from mileage.services.transactions import mileage_tx_id_relearn

    api_id, hash_key = shop.new_merchant(rate="1", profile="extended")
    use_merchant(api_id, hash_key)
    completed = []
    empty_report = (200, "application/json", b'{"response": {"resultCode": "1000", "resultMessage": "ok", "lines": []}}')

    def before(path: str):
        if path.endswith("/status"):
            return NOT_FOUND
        if "/settlement/" in path and not completed:
            return empty_report
        return None

    def after(path: str, answer):
        if "/repayment/" in path:
            return 200, "application/xml", (b"<?xml version='1.0' encoding='UTF-8'?><response><resultCode>1001"
                                            b"</resultCode><resultMessage>accepted</resultMessage></response>")
        return None

    with ProviderProxy(shop.base_url, before, after) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        buyer, order, old_tx_id, message = delivered_and_exchanged_down(shop, operator)
        assert message.status == "sent"
        # the answer named no txId and nothing told it yet: the old one stays for now
        assert MileageTransaction.objects.get(order=order).tx_id == old_tx_id
        assert mileage_tx_id_relearn(message_id=message.pk) == "not yet"
        # when the provider has completed it (its report now names the new txId), the worker's next ask learns it
        completed.append(True)
        assert mileage_tx_id_relearn(message_id=message.pk) == "learnt"
    mileage = MileageTransaction.objects.get(order=order)
    live = [t["txId"] for t in shop.balance(buyer)["transactions"] if t["state"] != "SUPERSEDED"]
    assert mileage.tx_id != old_tx_id and mileage.tx_id in live
    learnt = MileageEvent.objects.get(transaction=mileage, kind="tx_id_learnt")
    assert (learnt.tx_id, learnt.new_tx_id) == (old_tx_id, mileage.tx_id)
    assert "재승인 거래번호 확인" in operator.get(f"/console/orders/{order.number}/").content.decode()
    # asked once more (a second worker), nothing changes
    assert mileage_tx_id_relearn(message_id=message.pk) == "replaced already"
    assert MileageEvent.objects.filter(kind="tx_id_learnt").count() == 1


def test_a_refusal_after_an_attempt_that_may_have_landed_is_no_proof_that_nothing_stands(shop, settings, unsent):
    """The approval answered 1001 without its txId twice (accepted, completed later): the buyer is refused (no txId,
    no discount), but an attempt may land yet — its abort is not marked as following a refusal (a provider's own
    "no such transaction" to it proves nothing), and it is sent again later, as after an unanswered approval."""
    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)
    accepted = (200, "application/xml", b"<?xml version='1.0' encoding='UTF-8'?><response><resultCode>1001"
                b"</resultCode><resultMessage>accepted</resultMessage></response>")
    with ProviderProxy(shop.base_url, lambda path: accepted if path.endswith("/payment") else None) as proxy:
        settings.MILEAGE_API_BASE = proxy.url
        cache.clear()
        assert buyer_with_choice(shop, shop.new_buyer(15_500), 500, "4").post("/shop/order/", CARD).status_code == 400
    first, again = OutboxMessage.objects.filter(order=Order.objects.get(), kind="abort").order_by("id")
    assert "refused" not in first.payload and again.idempotency_key.endswith("after-unanswered")


def test_an_answer_in_euc_kr_reads_in_korean_and_a_busy_provider_is_asked_again(shop, settings):
    """A provider answering in EUC-KR (declared in its XML, or only in its Content-Type) is read in that encoding:
    its reason reaches the buyer in Korean. One answering 429 (busy) has not answered yet: the call is asked again
    with its key, never failed for an operator."""
    from mileage.provider import ProviderError, ProviderUnavailable, get_client

    api_id, hash_key = shop.new_merchant(rate="1", profile="standard")
    use_merchant(api_id, hash_key)
    refusal = "<response><resultCode>3032</resultCode><resultMessage>잔액이 부족합니다.</resultMessage></response>"
    answers = {
        "declared": (200, "text/xml", ('<?xml version="1.0" encoding="EUC-KR"?>' + refusal).encode("euc-kr")),
        "header": (200, "text/xml; charset=EUC-KR", refusal.encode("euc-kr")),
        "busy": (429, "text/plain", b"Too Many Requests"),
    }
    for name, answer in answers.items():
        with ProviderProxy(shop.base_url, lambda path, answer=answer: answer if "/abort" in path else None) as proxy:
            settings.MILEAGE_API_BASE = proxy.url
            cache.clear()
            expected = ProviderUnavailable if name == "busy" else ProviderError
            with pytest.raises(expected) as raised:
                get_client().abort("R000000000001", idempotency_key=f"k-{name}")
            if name != "busy":
                assert (raised.value.code, raised.value.message) == ("3032", "잔액이 부족합니다.")
