"""노출설정 및 셋팅, 예외상품설정, 적립률, 정산 and receipts (issue: settings, exclusions, rate calendar, settlement)."""

import csv
import io
import re
import zipfile
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client
from pypdf import PdfReader

from mileage.models import ExclusionChange, MileageSettings, SettlementKind, SettlementLine
from mileage.policy.constants import BUSINESS_TZ
from portal.catalog.models import Category, Product
from portal.console.models import ReceiptBatch
from tests.portal.console.downloads import download
from tests.portal.storefront.conftest import use_merchant

from .conftest import delivered, place
from .conftest import returned as given_back

pytestmark = pytest.mark.sandbox


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RECEIPTS_ROOT = tmp_path / "receipts"
    return tmp_path


def test_settings_validate_mask_check_and_guard_the_switch(shop, operator, client):
    url = "/console/mileage/settings/"
    response = operator.post(url, {"api_id": "1TW", "hash_key": "xyz", "action": "save"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "영문/숫자 6자" in text and "16진수 40자" in text
    # a key too long says what a key is, once, not also how long a field may be
    text = operator.post(url, {"api_id": "1TWXDZ7", "hash_key": "a" * 41, "action": "save"}).content.decode()
    assert text.count("영문/숫자 6자") == 1 and text.count("16진수 40자") == 1 and "최대" not in text
    page = operator.get(url).content.decode()
    assert "aaf23a53f426561f62e71139c5f27adfd67da711" not in page and "aaf2" in page
    # 연결 확인 with the stored key (the field left empty keeps it)
    page = operator.post(url, {"api_id": "1TWXDZ", "hash_key": "", "action": "check"}).content.decode()
    assert "연결 성공: 기본 적립률 1%" in page
    page = operator.post(url, {"api_id": "1TWXDZ", "hash_key": "f" * 40, "action": "check"}).content.decode()
    assert "연결 실패 [2003]" in page
    # the earn-base choices show on the disclosure page at once
    operator.post(url, {"api_id": "1TWXDZ", "hash_key": "", "action": "save", "include_shipping": "on",
                        "subtract_discounts": "on", "subtract_store_points": "on", "store_points_first": "on"})
    assert MileageSettings.load().hash_key == "aaf23a53f426561f62e71139c5f27adfd67da711"
    # the key as the partner center may show it, in capitals, is the same key
    saved = operator.post(url, {"api_id": "1TWXDZ", "hash_key": "AAF23A53F426561F62E71139C5F27ADFD67DA711",
                                "action": "save", "include_shipping": "on", "subtract_discounts": "on",
                                "subtract_store_points": "on", "store_points_first": "on"})
    assert saved.status_code == 302, saved.content.decode()[-600:]
    assert MileageSettings.load().hash_key == "aaf23a53f426561f62e71139c5f27adfd67da711"
    assert "배송비/포장비는 적립대상금액에 포함됩니다." in client.get("/earn-base/").content.decode()
    # switching on needs working credentials and a published disclosure
    from cms_pages.models import EarnBaseDisclosurePage

    operator.post(url, {"action": "disable"})
    EarnBaseDisclosurePage.objects.get().unpublish()
    page = operator.post(url, {"action": "enable"}, follow=True).content.decode()
    assert "적립 기준 안내 페이지가 게시되어 있지 않습니다" in page
    assert not MileageSettings.load().service_enabled
    EarnBaseDisclosurePage.objects.get().save_revision().publish()
    operator.post(url, {"action": "enable"})
    assert MileageSettings.load().service_enabled


class _FormFields(HTMLParser):
    """The fields a browser sends for the settings form (the one with the save button), as typed on the page."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "novalidate" in a:
            self._in_form = True
        if not self._in_form or tag != "input" or not a.get("name"):
            return
        kind = a.get("type", "text")
        if kind in ("checkbox", "radio"):
            if "checked" in a:
                self.fields.append((a["name"], a.get("value", "on")))
        elif kind not in ("submit", "button"):
            self.fields.append((a["name"], a.get("value", "") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False


SETTINGS_FIELDS = ("api_id", "hash_key", "subtract_discounts", "subtract_store_points", "include_shipping",
                   "store_points_first", "service_enabled", "store_points_rate_x10", "buyer_chooses_earn",
                   "provider_profile")


def _settings_row() -> tuple:
    current = MileageSettings.load()
    return tuple(getattr(current, name) for name in SETTINGS_FIELDS)


def test_the_settings_form_saved_as_shown_changes_nothing(shop, operator):
    # given every setting away from its default
    current = MileageSettings.load()
    current.subtract_discounts, current.include_shipping, current.store_points_first = False, True, False
    current.store_points_rate_x10, current.buyer_chooses_earn, current.provider_profile = 25, True, "standard"
    current.save()
    before = _settings_row()
    # when the operator opens 노출설정 및 셋팅 and presses 설정 without touching anything
    parser = _FormFields()
    parser.feed(operator.get("/console/mileage/settings/").content.decode())
    data = {}
    for name, value in parser.fields:
        data.setdefault(name, value)
    assert data["store_points_rate"] == "2.5" and data["provider_profile"] == "standard"
    assert data.get("buyer_chooses_earn") == "on" and "subtract_discounts" not in data
    response = operator.post("/console/mileage/settings/", {**data, "action": "save"})
    # then every setting is as it was (the hash key field starts empty and keeps the stored key)
    assert response.status_code == 302
    assert _settings_row() == before


def test_a_key_change_is_checked_and_a_refused_key_is_not_saved_while_the_service_is_on(shop, operator):
    url = "/console/mileage/settings/"
    operator.post(url, {"action": "enable"})
    assert MileageSettings.load().service_enabled
    base = {"subtract_discounts": "on", "subtract_store_points": "on", "store_points_first": "on",
            "store_points_rate": "0", "provider_profile": "auto", "action": "save"}
    # saving the same keys asks nothing and keeps the service on
    page = operator.post(url, {**base, "api_id": "1TWXDZ", "hash_key": ""}, follow=True).content.decode()
    assert "설정을 저장했습니다" in page and MileageSettings.load().service_enabled
    # a hash key the provider refuses (one character typed wrong): nothing saved, the service goes on with the key
    # that works, and the page says why
    typo = "aaf23a53f426561f62e71139c5f27adfd67da712"
    response = operator.post(url, {**base, "api_id": "1TWXDZ", "hash_key": typo, "store_points_rate": "3"})
    page = response.content.decode()
    assert response.status_code == 400 and "아무것도 저장하지 않았습니다" in page and "[2003]" in page
    current = MileageSettings.load()
    assert current.service_enabled and current.hash_key == "aaf23a53f426561f62e71139c5f27adfd67da711"
    assert current.store_points_rate_x10 == 0
    # with the service off, a key that does not connect yet is kept, and the page says it does not connect
    operator.post(url, {"action": "disable"})
    page = operator.post(url, {**base, "api_id": "1TWXDZ", "hash_key": "f" * 40}, follow=True).content.decode()
    assert "새 키로 연결되지 않습니다" in page and "[2003]" in page
    current = MileageSettings.load()
    assert not current.service_enabled and current.hash_key == "f" * 40
    # the right key again: saved, connected; the service stays off until the operator switches it on
    page = operator.post(url, {**base, "api_id": "1TWXDZ", "hash_key": "aaf23a53f426561f62e71139c5f27adfd67da711"},
                         follow=True).content.decode()
    assert "설정을 저장했습니다" in page and not MileageSettings.load().service_enabled
    # and the page says so, and where it is turned on
    assert "새 키로 연결되었습니다. 서비스는 꺼져 있습니다: 켜려면 위의 &#x27;서비스 켜기&#x27;를 눌러 주세요." in page
    assert "서비스 켜기" in page
    operator.post(url, {"action": "enable"})
    assert MileageSettings.load().service_enabled


def test_exclusion_search_bulk_reason_log_and_banner(shop, operator, client):
    page = operator.get("/console/mileage/exclusions/", {"excluded": "yes"}).content.decode()
    assert "문화상품권" in page and "샘플상품 1" not in page
    page = operator.get("/console/mileage/exclusions/", {"name": "샘플", "per_page": "20"}).content.decode()
    # eight rows, each named in its cell and in its select box's label
    assert page.count("<td>샘플상품") == 8 and page.count('aria-label="샘플상품') == 8
    assert "[검색 상품수 : 8]" in page  # as the manual's screen counts them
    every = Product.objects.count()
    assert every > 10
    page = operator.get("/console/mileage/exclusions/", {"per_page": "10"}).content.decode()
    assert f"[검색 상품수 : {every}]" in page  # all found, whatever one page shows
    shirt = Product.objects.get(code="D0SELF0012179")
    # a reason other than 상품권/금 is refused and changes nothing
    operator.post("/console/mileage/exclusions/", {"selection": [shirt.pk], "action": "set", "reason": "할인"})
    assert not hasattr(Product.objects.get(pk=shirt.pk), "mileage_exclusion")
    assert ExclusionChange.objects.filter(product=shirt).count() == 0
    operator.post("/console/mileage/exclusions/", {"selection": [shirt.pk], "action": "set", "reason": "금"})
    change = ExclusionChange.objects.get(product=shirt)
    assert (change.from_reason, change.to_reason, change.changed_by.username) == ("", "금", "operator")
    assert "해당 상품은 네이버 마일리지가 지급되지 않는 상품입니다." in client.get(
        "/shop/p/D0SELF0012179/").content.decode()
    operator.post("/console/mileage/exclusions/", {"selection": [shirt.pk], "action": "unset"})
    assert ExclusionChange.objects.filter(product=shirt).count() == 2
    assert "해당 상품은" not in client.get("/shop/p/D0SELF0012179/").content.decode()


@pytest.mark.extended
def test_rate_calendar_across_the_26th(shop, operator, sandbox_clock):
    api_id, hash_key = shop.new_merchant(rate="1")
    use_merchant(api_id, hash_key)
    server_now = datetime.fromisoformat(shop.advance(0)["now"]).astimezone(BUSINESS_TZ)
    # move the provider's clock to a minute before the 26th 00:00 of this month, Seoul time (the exact second is
    # the policy tests' business; a minute leaves room for a slow machine between the two calls)
    target = server_now.replace(day=25, hour=23, minute=59, second=0, microsecond=0)
    shop.advance(int((target - server_now).total_seconds()))
    page = operator.get("/console/mileage/rates/").content.decode()
    assert "미확정 (26일 00시에 확정)" in page and 'id="current-rate">1%' in page
    shop.advance(120)
    page = operator.get("/console/mileage/rates/").content.decode()
    assert "확정됨" in page


@pytest.mark.extended
def test_settlement_matches_the_providers_report_and_shows_a_broken_record(shop, operator):
    api_id, hash_key = shop.new_merchant(rate="1")
    use_merchant(api_id, hash_key)
    # a month of the manual's scenarios: earn, use, cancel, partial return, exchange
    paid, _ = place(shop, method="card")  # use 500, earn 45
    cancelled, _ = place(shop)  # bank: use 500, cancelled before payment
    operator.post(f"/console/orders/{cancelled.number}/cancel/")
    returned, _ = place(shop, method="card", quantity="2", use=1_000)
    delivered(operator, returned)
    line = returned.lines.get()
    given_back(operator, returned, {
        f"qty_{line.pk}": "1", "cash_won": "4500", "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "card"})
    from portal.aftersales.models import Refund

    operator.post("/console/refunds/", {"selection": [Refund.objects.get().pk], "confirm": "1"})
    exchanged, _ = place(shop, method="card")
    delivered(operator, exchanged, "2")
    line = exchanged.lines.get()
    operator.post(f"/console/orders/{exchanged.number}/exchange/", {
        f"qty_{line.pk}": "1", "new_6": "1", "mileage_returned_won": "500", "action": "complete"})
    # the return form says the exchanged line went out by exchange, the returned one by return
    for order, said, not_said in ((exchanged, "(교환 1)", "(반품 1)"), (returned, "(반품 1)", "(교환 1)")):
        form = operator.get(f"/console/orders/{order.number}/return/").content.decode()
        assert said in form and not_said not in form

    page = operator.get("/console/mileage/settlement/").content.decode()
    assert 'id="reconciled"' in page, page[page.find("대사 결과"):][:1500]
    # earned: 45 + 0 + (90 → 45) + 45 ; used: 500 + 0 + (1,000 → 500) + (500 → 0)
    assert 'id="earned">135원' in page and 'id="used">1,000원' in page
    # 정산 차액 is one positive amount and who pays whom, the same on the dashboard
    assert 'id="balance">865원' in page and "<strong>네이버가 가맹점에 지급</strong>" in page
    assert "가맹점이 네이버에 지급" not in page
    dashboard = operator.get("/console/").content.decode()
    assert 'id="dash-balance">865원' in dashboard and "<strong>네이버가 가맹점에 지급</strong>" in dashboard
    assert 'id="dash-earned">135원' in dashboard and 'id="dash-used">1,000원' in dashboard
    # 주문조회's export says the same of the use: 사용 − 반환 per order, 1,000원 in all
    orders_csv = download(operator, "/console/orders/", {"export": "csv"}).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(orders_csv)))
    net = {row["주문번호"]: int(row["네이버 마일리지 사용"]) - int(row["네이버 마일리지 반환"]) for row in rows}
    assert {number: net[number] for number in (paid.number, cancelled.number, returned.number,
                                               exchanged.number)} == {
        paid.number: 500, cancelled.number: 0, returned.number: 500, exchanged.number: 0}
    # a deliberately broken record shows up as a mismatch with a link to the order
    event = paid.mileage.events.first()
    SettlementLine.objects.create(order=paid, event=event, kind=SettlementKind.EARN, amount_won=1,
                                  month=SettlementLine.objects.first().month, occurred_at=event.created_at)
    page = operator.get("/console/mileage/settlement/").content.decode()
    assert "금액 다름" in page and f"/console/orders/{paid.number}/" in page
    csv_text = download(operator, "/console/mileage/settlement/", {"export": "csv"}).content.decode("utf-8-sig")
    assert paid.number in csv_text
    table = list(csv.reader(io.StringIO(csv_text)))
    assert table[0][1:] == ["적립 발생 (가맹점 → 네이버)", "적립 취소", "적립 합계", "사용 발생 (네이버 → 가맹점)",
                            "사용 취소", "사용 합계"]
    lines, total = [row for row in table[1:] if row[0].startswith("20")], next(row for row in table if row[0] == "합계")
    assert total[3] == "136" and total[6] == "1000"
    for row in [*lines, total]:  # 발생 + 취소 = 합계, per order and in all, and the orders add up to the total
        figures = [int(cell) for cell in row[1:]]
        assert figures[0] + figures[1] == figures[2] and figures[3] + figures[4] == figures[5], row
    assert [sum(int(row[i]) for row in lines) for i in range(1, 7)] == [int(cell) for cell in total[1:]]
    assert "정산 차액,864,네이버가 가맹점에 지급" in csv_text
    pdf_text = PdfReader(io.BytesIO(download(operator, "/console/mileage/settlement/", {"export": "pdf"}).content)
                         ).pages[0].extract_text()
    assert "정산서" in pdf_text and "864원" in pdf_text and "네이버가 가맹점에 지급" in pdf_text
    # whose statement it is: the shop, its API ID at the provider, when it was issued
    assert "(주)마일리지샵" in pdf_text and f"가맹점 API ID {api_id}" in pdf_text and "발행일시 20" in pdf_text


def test_a_difference_while_a_provider_call_waits_is_said_to_be_in_flight_not_a_mismatch(shop, operator):
    from django.utils import timezone

    from mileage.models import OutboxMessage
    from mileage.models.outbox import OutboxStatus

    api_id, hash_key = shop.new_merchant(rate="1")
    use_merchant(api_id, hash_key)
    paid, _ = place(shop, method="card")
    other, _ = place(shop, method="card")
    assert 'id="reconciled"' in operator.get("/console/mileage/settlement/").content.decode()
    # given the shop's books ahead of the provider's report for one order while its call waits in 전송 대기열
    event = paid.mileage.events.first()
    SettlementLine.objects.create(order=paid, event=event, kind=SettlementKind.EARN, amount_won=-45,
                                  month=SettlementLine.objects.first().month, occurred_at=event.created_at)

    def call(kind, status, key):
        return OutboxMessage.objects.create(kind=kind, order=paid, status=status, payload={}, idempotency_key=key,
                                            wire_key=key, next_attempt_at=timezone.now())

    # a waiting 배송정보 call books nothing at the provider: it explains no difference
    call("invoice", OutboxStatus.PENDING, "invoice-1")
    assert "금액 다름" in operator.get("/console/mileage/settlement/").content.decode()
    waiting = call("cancel", OutboxStatus.PENDING, "wait-1")
    # when the operator reads 정산
    page = operator.get("/console/mileage/settlement/").content.decode()
    # then the order is listed as still on its way, and the rest is said to agree
    row = re.search(r'<tr class="in-flight[^"]*"><td><a href="/console/orders/([^/]+)/">.*?</td><td>([^<]*)</td>',
                    page, re.S)
    assert row and row.groups() == (paid.number, "처리 중 (네이버에 보낼 요청 대기)")
    assert 'id="reconciled-but-in-flight"' in page and "처리 중인 주문 1건을 빼면" in page
    assert other.number not in page[page.find('id="mismatches"'):page.find("주문별 내역")]
    # a failed call of the order: it waits for an operator, not on its way; the difference is a mismatch
    failed = call("stated", OutboxStatus.FAILED, "failed-1")
    page = operator.get("/console/mileage/settlement/").content.decode()
    assert "금액 다름" in page and 'class="in-flight' not in page
    # and once nothing waits any more, likewise
    OutboxMessage.objects.filter(pk=failed.pk).update(status=OutboxStatus.SENT)
    OutboxMessage.objects.filter(pk=waiting.pk).update(status=OutboxStatus.SENT)
    page = operator.get("/console/mileage/settlement/").content.decode()
    assert "금액 다름" in page and 'class="in-flight' not in page and 'id="reconciled-but-in-flight"' not in page


def test_receipts_show_the_mileage_line_and_are_cached(shop, operator, media):
    order, _ = place(shop)
    buyer = Client()
    assert buyer.get(f"/shop/orders/{order.number}/receipt.pdf").status_code == 404  # another browser
    session_client = Client()
    session_client.post("/shop/guest/", {"number": order.number, "password": "abcd1234"})
    response = session_client.get(f"/shop/orders/{order.number}/receipt.pdf")
    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    for expected in ("네이버 마일리지 사용", "-500원", "1% 적립 예정 45원", "4,500원", "무통장입금", order.number):
        assert expected in text, (expected, text)
    cached = list((media / "receipts").iterdir())
    assert len(cached) == 1
    # served from storage afterwards
    from portal.receipts import render

    original = render.html_to_pdf
    render.html_to_pdf = lambda html: (_ for _ in ()).throw(AssertionError("rendered twice"))
    try:
        assert operator.get(f"/console/orders/{order.number}/receipt.pdf").content == response.content
    finally:
        render.html_to_pdf = original
    # a new version of the order renders anew
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    assert operator.get(f"/console/orders/{order.number}/receipt.pdf").content != response.content
    artifacts = Path(__file__).resolve().parents[3] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "receipt.pdf").write_bytes(response.content)


def test_batch_download_of_the_filtered_receipts(shop, operator, media):
    numbers = {place(shop, method="card")[0].number for _ in range(3)}
    page = operator.get("/console/receipts/", {"payment_method": "card"}).content.decode()
    assert "조건에 맞는 주문 3건의 영수증" in page
    # the request only records the batch; a task worker (run at once by the test settings) builds it
    response = operator.post("/console/receipts/", {"query": "payment_method=card"})
    batch = ReceiptBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/receipts/{batch.pk}/"
    detail = operator.get(response["Location"]).content.decode()
    assert 'data-status="ready"' in detail and 'http-equiv="refresh"' not in detail
    assert 'value="3"' in detail and f"/console/receipts/{batch.pk}/download/" in detail
    zipped = download(operator, f"/console/receipts/{batch.pk}/download/")
    assert zipped["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(zipped.streaming_content)))
    assert {name.removeprefix("receipt-").removesuffix(".pdf") for name in archive.namelist()} == numbers
    assert (media / "receipts" / "batches" / f"{batch.pk}.zip").exists()


def test_every_settings_change_is_in_its_history_with_who_and_from_where(shop, operator):
    url = "/console/mileage/settings/"
    page = operator.get(url).content.decode()
    assert 'id="settings-history"' in page
    operator.post(url, {"api_id": "1TWXDZ", "hash_key": "", "action": "save", "subtract_discounts": "on",
                        "subtract_store_points": "on", "store_points_first": "on", "include_shipping": "on",
                        "store_points_rate": "1.5", "provider_profile": "auto"}, REMOTE_ADDR="198.51.100.40",
                  HTTP_X_FORWARDED_FOR="10.0.0.1")
    page = operator.get(url).content.decode()
    history = page.split('id="settings-history"')[1]
    assert "operator" in history and "198.51.100.40" in history and "10.0.0.1" not in history
    assert "배송비를 적립대상금액에 포함" in history and "쇼핑몰 적립금 적립률" in history
    # the hash key is never shown in the clear, even in the history (a key that does not connect is kept only
    # while the service is off)
    operator.post(url, {"action": "disable"})
    operator.post(url, {"api_id": "1TWXDZ", "hash_key": "b" * 40, "action": "save", "subtract_discounts": "on",
                        "subtract_store_points": "on", "store_points_first": "on", "store_points_rate": "1.5",
                        "provider_profile": "auto"})
    history = operator.get(url).content.decode().split('id="settings-history"')[1]
    old_key = "aaf23a53f426561f62e71139c5f27adfd67da711"
    assert "해쉬키" in history and "…bbbb" in history and "…a711" in history
    # nothing longer than the four last characters the settings screen shows, here or in the stored history
    assert "b" * 5 not in history and old_key[-5:] not in history
    from auditlog.models import LogEntry

    stored = " ".join(str(entry.changes) for entry in LogEntry.objects.all())
    assert "b" * 5 not in stored and old_key[-5:] not in stored
    # the switches and the rate read as the screen names them, not as Python's values
    assert "True" not in history and "None" not in history and "1.5%" in history
    assert "- → -" not in history  # a field that read the same before and after is no change
    assert "배송비를 적립대상금액에 포함</strong>: 아니오 → 예" in history
    # a save that changes nothing (the hash key left blank keeps the stored one) is no 접속기록 of a change
    from portal.accesslog.models import AccessRecord

    before = AccessRecord.objects.count()
    operator.post(url, {"api_id": "1TWXDZ", "hash_key": "", "action": "save", "subtract_discounts": "on",
                        "subtract_store_points": "on", "store_points_first": "on", "store_points_rate": "1.5",
                        "provider_profile": "auto"})
    assert AccessRecord.objects.count() == before


@pytest.mark.parametrize(("asked_at", "applies_from"), [((2026, 11, 25, 23, 59), "2026-12"),
                                                         ((2026, 11, 26, 0, 0), "2027-01"),
                                                         ((2026, 12, 26, 9, 0), "2027-02")])
def test_the_rate_screen_says_from_which_month_a_change_asked_now_applies(shop, operator, monkeypatch, asked_at,
                                                                           applies_from):
    # given the operator opens 적립률 at a moment either side of the 26th 00:00, Seoul time (R2)
    from types import SimpleNamespace

    moment = datetime(*asked_at, tzinfo=BUSINESS_TZ)
    monkeypatch.setattr("portal.console.mileage_views.timezone", SimpleNamespace(now=lambda: moment))
    # when the screen is shown
    page = operator.get("/console/mileage/rates/").content.decode()
    # then it names the month a change asked for now would apply from
    assert f'id="change-applies-from">{applies_from}부터 적용됩니다' in page


def test_the_name_search_lists_its_matches_newest_first_page_by_page(shop, operator):
    """상품명 search (on PostgreSQL ordered by an expression of the id, so the trigram index finds the matches): the
    same rows in the same order as a plain icontains newest first, old matches and new, with the other filters."""
    category = Product.objects.order_by("id").first().category
    Product.objects.bulk_create([Product(code=f"SRCH{i:04d}", name=f"{'Zeta' if i % 3 else 'zeta'} 검색상품 {i}",
                                         category=category, price_won=1_000, is_displayed=i % 2 == 0)
                                 for i in range(45)])
    for query in ({"name": "ZETA 검색"}, {"name": "검색상품 1"}, {"name": "eta 검색상품", "display": "True"}):
        expected = Product.objects.filter(name__icontains=query["name"])
        if "display" in query:
            expected = expected.filter(is_displayed=True)
        expected = list(expected.order_by("-id").values_list("pk", flat=True))
        assert expected
        shown = []
        for page in (1, 2, 3):
            response = operator.get("/console/mileage/exclusions/", {**query, "per_page": "10", "page": page})
            assert response.status_code == 200
            html = response.content.decode()
            current = re.search(r'aria-current="page"><span class="page-link">(\d+)<', html)
            if int(current.group(1) if current else 1) != page:  # past the last page: the last one again
                break
            shown += [int(pk) for pk in re.findall(r'name="selection" value="(\d+)"', html)]
        assert shown == expected[:30]


def test_on_postgresql_the_name_search_is_not_ordered_by_the_bare_primary_key(shop, operator):
    """ORDER BY id DESC with a LIMIT lets PostgreSQL walk the primary key and test every name on the way; ordered by
    an expression of the id, the trigram index finds the matches when they are few (bench/README.md)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    with CaptureQueriesContext(connection) as queries:
        assert operator.get("/console/mileage/exclusions/", {"name": "샘플"}).status_code == 200
    page = [q["sql"] for q in queries.captured_queries if 'FROM "catalog_product"' in q["sql"] and "LIMIT" in q["sql"]
            and not q["sql"].startswith("SELECT COUNT(*)")]  # the capped count of the matches comes first
    assert page and all('ORDER BY ("catalog_product"."id" + 0) DESC' in sql for sql in page)


def test_the_rate_historys_moments_read_in_business_time():
    from portal.console.mileage_views import _business_time

    # the provider's ISO moment (UTC) as the console writes times: Seoul, to the minute; anything else as sent
    assert _business_time("2026-12-05T22:30:24.180797+00:00") == "2026-12-06 07:30"
    assert _business_time("2026-12-05T22:30:24") == "2026-12-06 07:30"
    assert _business_time("soon") == "soon" and _business_time(None) == ""


def test_exclusions_refuse_an_unknown_product_a_repeated_one_and_an_unknown_action(shop, operator):
    shirt = Product.objects.get(code="D0SELF0012179")
    missing = Product.objects.order_by("-pk").first().pk + 1000
    page = operator.post("/console/mileage/exclusions/", {"selection": [missing], "action": "set", "reason": "금"},
                         follow=True)
    assert page.status_code == 200 and "상품을 선택해 주세요." in page.content.decode()
    page = operator.post("/console/mileage/exclusions/", {"selection": [shirt.pk], "action": "zzz", "reason": "금"},
                         follow=True)
    assert "예외상품설정 또는 예외상품설정 해제를 눌러 주세요." in page.content.decode()
    assert ExclusionChange.objects.filter(product=shirt).count() == 0
    page = operator.post("/console/mileage/exclusions/", {"selection": [shirt.pk, shirt.pk, missing],
                                                          "action": "set", "reason": "금"}, follow=True)
    assert page.status_code == 200 and "예외상품설정: 1건" in page.content.decode()
    assert ExclusionChange.objects.filter(product=shirt).count() == 1


def test_a_return_reason_too_long_is_refused_with_its_message_and_nothing_is_received(shop, operator):
    from portal.aftersales.models import ReturnRequest

    order, _ = place(shop, method="card")
    delivered(operator, order)
    line = order.lines.get()
    response = operator.post(f"/console/orders/{order.number}/return/", {
        f"qty_{line.pk}": "1", "cash_won": "1", "store_points_won": "0", "mileage_won": "0",
        "shipping_deduction_won": "0", "method": "card", "reason": "가" * 201})
    page = response.content.decode()
    assert response.status_code == 400 and 'id="id_reason_error"' in page
    assert not ReturnRequest.objects.filter(order=order).exists()


def test_exclusions_speak_the_operators_language_and_list_a_category_the_moment_it_exists(shop, operator):
    # the search form and the action bar are kept rendered (per language; the form per query and categories)
    page = operator.get("/console/mileage/exclusions/").content.decode()
    assert '<html lang="ko"' in page and "예외상품설정 해제" in page and "전체 상품분류" in page
    operator.cookies["django_language"] = "en"
    page = operator.get("/console/mileage/exclusions/").content.decode()
    assert '<html lang="en"' in page and "Remove exclusion" in page and "All categories" in page
    assert "예외상품설정 해제" not in page and "전체 상품분류" not in page
    del operator.cookies["django_language"]
    # a category added, then renamed, is offered by the search at once; a deleted one is gone
    category = Category.objects.create(name="새 분류", slug="new-category", position=99)
    assert ">새 분류</option>" in operator.get("/console/mileage/exclusions/").content.decode()
    category.name = "바뀐 분류"
    category.save()
    page = operator.get("/console/mileage/exclusions/").content.decode()
    assert ">바뀐 분류</option>" in page and ">새 분류</option>" not in page
    category.delete()
    assert ">바뀐 분류</option>" not in operator.get("/console/mileage/exclusions/").content.decode()


def test_a_list_sorted_by_a_column_marks_that_column_and_its_direction(shop, operator):
    # the heading of the column a list is sorted by carries asc/desc (console.css draws ▲/▼ from it)
    page = operator.get("/console/mileage/exclusions/", {"sort": "-price_won"}).content.decode()
    assert re.search(r'<th class="desc orderable text-end" scope="col"><a [^>]*>판매가</a>', page)
    assert not re.search(r'<th class="(asc|desc)[^"]*" scope="col"><a [^>]*>상품명', page)
    page = operator.get("/console/orders/", {"sort": "placed_at"}).content.decode()
    assert re.search(r'<th class="asc orderable" scope="col"><a [^>]*>주문일</a>', page)
    page = operator.get("/console/mileage/exclusions/").content.decode()  # as it opens: sorted by no column
    assert not re.search(r'<th class="(asc|desc)', page)


def test_a_search_form_is_rendered_once_per_query_and_anew_when_the_templates_or_translations_change(
        shop, operator, monkeypatch):
    from portal.console import mileage_views, tables

    rendered = []
    real = tables.render_to_string
    monkeypatch.setattr(tables, "render_to_string", lambda *a, **k: rendered.append(a[0]) or real(*a, **k))
    query = {"name": "한 번만 그리는 검색"}
    for _ in range(3):
        assert operator.get("/console/mileage/exclusions/", query).status_code == 200
    assert rendered == ["console/includes/exclusion_filters.html"]  # the second and third are the cached HTML
    # a deploy whose templates or translations differ (another version) renders the form and the action bar anew
    for module in (tables, mileage_views):
        monkeypatch.setattr(module, "rendering_version", lambda: "another-release")
    page = operator.get("/console/mileage/exclusions/", query).content.decode()
    assert rendered == ["console/includes/exclusion_filters.html"] * 2 and 'value="한 번만 그리는 검색"' in page


def test_a_cancel_answered_while_the_report_is_read_is_no_mismatch(shop, operator, monkeypatch):
    from mileage.provider import MileageClient
    from mileage.services.transactions import mileage_cancel, outbox_deliver_due

    api_id, hash_key = shop.new_merchant(rate="1")
    use_merchant(api_id, hash_key)
    paid, _ = place(shop, method="card")
    assert 'id="reconciled"' in operator.get("/console/mileage/settlement/").content.decode()
    # given the order's cancel on its way: the shop reads its statement, and while it asks for the provider's report
    # the cancel is sent, applied there and recorded here (a 환불완료 answered at that very moment)
    from mileage.provider import outbox

    with monkeypatch.context() as held:  # not handed to a worker: sent below, while the report is asked
        held.setattr(outbox, "_schedule", lambda message_id: None)
        mileage_cancel(order=paid, because="race")
    asked = MileageClient.settlement

    def answered_meanwhile(self, month, *args, **kwargs):
        assert outbox_deliver_due() == 1
        return asked(self, month, *args, **kwargs)

    monkeypatch.setattr(MileageClient, "settlement", answered_meanwhile)
    page = operator.get("/console/mileage/settlement/").content.decode()
    # then the two books agree: nothing is said to differ, and the page's figures are those the report was compared to
    assert "금액 다름" not in page and 'id="reconciled"' in page


def test_the_statements_order_lines_come_a_page_at_a_time_with_the_months_totals_on_every_page(shop, operator,
                                                                                                 monkeypatch):
    from portal.console import mileage_views

    api_id, hash_key = shop.new_merchant(rate="1")
    use_merchant(api_id, hash_key)
    orders = [place(shop, method="card")[0] for _ in range(3)]
    monkeypatch.setattr(mileage_views, "STATEMENT_LINES_PER_PAGE", 2)  # three orders, two to a page
    pages = [operator.get("/console/mileage/settlement/", query).content.decode()
             for query in ({}, {"page": "2"}, {"page": "zz"})]
    shown = [[n for n in (o.number for o in orders) if f'/console/orders/{n}/">{n}</a></td>' in page] for page in pages]
    # the first page lists two orders and says how many there are, the second the third; a bad page number is the first
    assert len(shown[0]) == 2 and len(shown[1]) == 1 and set(shown[0]) | set(shown[1]) == {o.number for o in orders}
    assert shown[2] == shown[0]
    assert "3건 중 1–2" in pages[0] and "3건 중 3–3" in pages[1]
    # the pager keeps the month it pages through, and the month's totals are the same on every page
    assert re.search(r'href="\?page=2"', pages[0]) and 'aria-current="page"><span class="page-link">2<' in pages[1]
    for page in pages:
        assert 'id="used">1,500원' in page and 'id="earned">135원' in page
    # one page says the count alone, in the reader's language
    monkeypatch.setattr(mileage_views, "STATEMENT_LINES_PER_PAGE", 100)
    assert 'id="statement-lines-count">3건<' in operator.get("/console/mileage/settlement/").content.decode()
    operator.cookies["django_language"] = "en"
    assert 'id="statement-lines-count">3 orders<' in operator.get("/console/mileage/settlement/").content.decode()
    operator.cookies["django_language"] = "ko"
    # and the export carries every order, whatever page the screen shows
    csv_text = download(operator, "/console/mileage/settlement/", {"export": "csv", "page": "2"}).content.decode(
        "utf-8-sig")
    assert all(order.number in csv_text for order in orders)
