"""환불관리's CSV/XLSX: the filtered refunds with the figures the list shows, the account and holder masked, after a
다운로드 사유 recorded once in the access log; the bulk 환불완료 on the same address is untouched."""

import csv
import io

import pytest

from portal.accesslog.models import AccessAction, AccessRecord
from portal.aftersales.models import Refund, RefundStatus

from .conftest import place
from .downloads import download
from .test_payment_cancel import ACCOUNT, press_refund_complete, refund_by

pytestmark = pytest.mark.sandbox


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_refund_list_exports_what_it_shows_masked_after_a_reason(shop, operator):
    order, _buyer = place(shop, code="1", method="bank")
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    refund = refund_by(operator, order, "cash", 4_500, **ACCOUNT)  # 배송전 취소: 4,500원 현금환불, 500원 mileage
    # a blank reason is refused and writes nothing
    refused = operator.post("/console/refunds/?export=csv", {"reason": "   "})
    assert refused.status_code == 400 and "다운로드 사유를 입력해 주세요" in refused.content.decode()
    assert not AccessRecord.objects.filter(action=AccessAction.EXPORT).exists()
    header, *rows = rows_of(download(operator, "/console/refunds/", {"export": "csv"}))
    assert header[:4] == ["접수일", "반송완료일", "주문번호", "환불정보"]
    [row] = rows
    line = dict(zip(header, row, strict=True))
    assert (line["주문번호"], line["환불정보"], line["환불방식"]) == (order.number, refund.number, "현금환불")
    assert (line["현금/카드"], line["네이버 마일리지"], line["환불상태"]) == ("4500", "500", "환불전")
    assert line["예금주"] == "홍*동" and "1234" not in line["환불 계좌번호"] and line["환불은행"] == "농협"
    record = AccessRecord.objects.get(action=AccessAction.EXPORT)
    assert record.count == 1 and record.targets == [order.number]
    # 환불완료 still works on the same address, and the default filter (환불전) then exports nothing
    press_refund_complete(operator, refund)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    _header, *rows = rows_of(download(operator, "/console/refunds/", {"export": "csv"}))
    assert rows == []
    header, *rows = rows_of(download(operator, "/console/refunds/", {"export": "csv", "status": "done"}))
    [done] = [dict(zip(header, row, strict=True)) for row in rows]
    assert (done["환불정보"], done["환불상태"]) == (refund.number, "환불완료") and done["환불완료일"]


def test_an_export_with_a_search_the_list_refuses_exports_nothing(shop, operator):
    response = operator.post("/console/refunds/?export=csv&orderer=" + "x" * 500, {"reason": "점검"})
    assert response.status_code == 200 and not response["Content-Type"].startswith("text/csv")
    assert "검색 조건이 올바르지 않아 내려받지 않았습니다" in response.content.decode()
    assert not AccessRecord.objects.filter(action=AccessAction.EXPORT).exists()


def test_a_refund_that_pays_no_money_reads_the_same_way_on_the_list_and_in_the_export(shop, operator):
    """A refund of the mileage alone (no money goes back): 환불관리 shows no 환불방식 ("-") and its export leaves the
    cell empty, as it does every field that does not apply — neither names the card cancel the other leaves out."""
    order, _buyer = place(shop, code="1", method="card")
    refund = Refund.objects.create(order=order, number="C-MILEAGE-ONLY", reason="cancel", cash_won=0,
                                   mileage_won=order.mileage_use_won, method="card")
    listed = operator.get("/console/refunds/").content.decode()
    row = listed[listed.index(refund.number):]
    row = row[:row.index("</tr>")]
    assert "카드취소" not in row and ">-</span>" in row
    header, *rows = rows_of(download(operator, "/console/refunds/", {"export": "csv"}))
    [line] = [dict(zip(header, each, strict=True)) for each in rows if refund.number in each]
    assert (line["환불방식"], line["환불금액"], line["네이버 마일리지"]) == ("", "0", str(order.mileage_use_won))
    # with money going back, both name the way
    Refund.objects.filter(pk=refund.pk).update(cash_won=1_000)
    assert "카드취소" in operator.get("/console/refunds/").content.decode()
    header, *rows = rows_of(download(operator, "/console/refunds/", {"export": "csv"}))
    [line] = [dict(zip(header, each, strict=True)) for each in rows if refund.number in each]
    assert line["환불방식"] == "카드취소"


@pytest.mark.parametrize("confirm", ["", "1"])
def test_a_selection_of_no_refund_is_told_so_and_changes_nothing(shop, operator, confirm):
    order, _buyer = place(shop, code="1", method="card")
    refund = refund_by(operator, order, "card", order.payable_won)
    data = {"selection": [refund.pk + 1000, "0"], **({"confirm": confirm} if confirm else {})}
    answer = operator.post("/console/refunds/", data, follow=True)
    assert answer.status_code == 200 and "선택한 환불을 찾을 수 없습니다" in answer.content.decode()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.BEFORE
