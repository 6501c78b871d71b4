"""다운로드 사유 (issue 25): every staff export asks for a reason first; a reason of only spaces is refused with a
message and serves nothing; with a reason the file is served and recorded once as 다운로드 with its row count and
the orders it names."""

import io

import pytest
from openpyxl import load_workbook

from portal.accesslog.models import AccessAction, AccessRecord
from portal.console.models import ReceiptBatch

from .conftest import place
from .downloads import download

pytestmark = pytest.mark.sandbox


def exports(order) -> list[tuple[str, dict | None, dict | None]]:
    """(url, query, posted data) of every export of the console that names orders."""
    return [("/console/orders/", {"export": "csv"}, None), ("/console/orders/", {"export": "xlsx"}, None),
            ("/console/mileage/settlement/", {"export": "csv"}, None),
            ("/console/mileage/settlement/", {"export": "xlsx"}, None),
            ("/console/mileage/settlement/", {"export": "pdf"}, None),
            ("/console/invoices/template.xlsx", None, {"selection": [order.pk]})]


def test_every_export_asks_a_reason_first_and_refuses_spaces(shop, operator):
    order, _ = place(shop, method="card")
    for url, params, data in exports(order):
        query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
        asked = operator.post(url + query, data) if data else operator.get(url + query)
        assert asked.status_code == 200 and asked["Content-Type"].startswith("text/html"), url
        assert 'id="download-reason-form"' in asked.content.decode()
        if data:  # what was posted is carried by the form
            assert f'name="selection" value="{order.pk}"' in asked.content.decode()
        refused = operator.post(url + query, {**(data or {}), "reason": " \t\u3000 "})
        assert refused.status_code == 400 and "다운로드 사유를 입력해 주세요." in refused.content.decode(), url
        assert refused["Content-Type"].startswith("text/html")
    assert not AccessRecord.objects.filter(action=AccessAction.EXPORT).exists()


def test_an_export_with_a_reason_is_recorded_once_with_its_rows(shop, operator):
    first, _ = place(shop, method="card")
    second, _ = place(shop, method="card")
    response = download(operator, "/console/orders/", {"export": "xlsx"}, reason="  배송 누락   점검 ")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 3
    [record] = AccessRecord.objects.filter(action=AccessAction.EXPORT)
    assert (record.count, sorted(record.targets), record.reason, record.actor_name) == (
        2, sorted([first.number, second.number]), "배송 누락 점검", "operator")
    download(operator, "/console/invoices/template.xlsx", data={"selection": [first.pk]})
    download(operator, "/console/mileage/settlement/", {"export": "pdf"})
    records = list(AccessRecord.objects.filter(action=AccessAction.EXPORT).order_by("seq"))
    assert len(records) == 3
    assert (records[1].targets, records[1].count) == ([first.number], 1)


def test_a_receipt_batch_download_asks_a_reason_and_is_one_record(shop, operator, settings, tmp_path):
    settings.MEDIA_ROOT, settings.RECEIPTS_ROOT = tmp_path / "media", tmp_path / "receipts"
    order, _ = place(shop, method="card")
    # the test settings run the task worker at once: the batch is ready when the request returns
    assert operator.post("/console/receipts/", {"query": "payment_method=card"}).status_code == 302
    batch = ReceiptBatch.objects.get()
    url = f"/console/receipts/{batch.pk}/download/"
    # a reason of spaces, or of characters that show nothing (zero-width space, BOM, Hangul filler), is no reason
    for blank in ("   ", "\u200b", "\ufeff \u200b", "\u3164\u3164", "\u115f\u1160"):
        refused = operator.post(url, {"reason": blank})
        assert refused.status_code == 400 and "다운로드 사유를 입력해 주세요." in refused.content.decode(), repr(blank)
    assert not AccessRecord.objects.filter(action=AccessAction.EXPORT).exists()
    zipped = download(operator, url)
    assert zipped["Content-Type"] == "application/zip"
    [record] = AccessRecord.objects.filter(action=AccessAction.EXPORT)
    assert (record.targets, record.count, record.reason) == ([order.number], 1, "월말 정산 확인")
