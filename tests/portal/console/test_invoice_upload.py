"""송장 일괄등록: the preview names every bad row and nothing is applied while one is bad; a clean file is applied
by the task (each order through order_ship), its progress and result shown; the template opens in openpyxl; a bad
file is refused with a Korean message and records nothing."""

import html
import io
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from openpyxl import load_workbook

from mileage.models import OutboxMessage
from portal.console.models import InvoiceUpload, InvoiceUploadStatus
from portal.orders.models import Carrier, Order, OrderStatus
from tests.portal.console.downloads import download

from .bulk_helpers import make_orders, operator_client, xlsx  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def upload(client, rows, **kwargs):
    return client.post("/console/invoices/", {"file": xlsx(rows, **kwargs)})


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_a_thousand_rows_good_and_bad_every_bad_row_named_nothing_applied(operator_client,  # noqa: F811
                                                                          django_capture_on_commit_callbacks):
    # given: 990 paid orders, one waiting for its deposit; a file of 1,000 rows with ten bad ones among them
    paid = make_orders(990)
    waiting = make_orders(1, OrderStatus.AWAITING_DEPOSIT, prefix="20261204-7")[0]
    carriers = ["CJ대한통운", "롯데택배", "한진 택배", "우체국택배", "로젠택배", "경동택배", "기타", "cj"]
    rows = [[o.number, carriers[n % len(carriers)], f"{600000000000 + n}"] for n, o in enumerate(paid)]
    bad = {  # sheet row → what the preview must say
        992: ([waiting.number, "CJ대한통운", "1"], "처리상태가 '입금전'인 주문은 배송처리할 수 없습니다"),
        993: (["20991231-0000001", "CJ대한통운", "2"], "없는 주문번호입니다."),
        994: ([paid[0].number, "CJ대한통운", "3"], "2행과 같은 주문번호입니다."),
        995: ([paid[1].number.replace("-9", "-6"), "DHL", "4"], "목록에 없는 택배사입니다: 'DHL'."),
        996: (["20991231-0000002", "CJ대한통운", "12 34"], "송장번호는 영문, 숫자, 하이픈(-)으로 40자까지"),
        997: (["20991231-0000003", "", "5"], "택배사가 비어 있습니다."),
        998: (["", "CJ대한통운", "6"], "주문번호가 비어 있습니다."),
        999: (["20991231-0000004", "CJ대한통운", ""], "송장번호가 비어 있습니다."),
        1000: (["20991231-0000005", "CJ대한통운", "=HYPERLINK(1)"], "송장번호가 비어 있습니다."),  # a formula: no value
        1001: (["20991231-0000006", "CJ대한통운", "x" * 41], "송장번호는 영문, 숫자"),
    }
    rows = rows[:990] + [row for row, _message in bad.values()]
    assert len(rows) == 1000
    # when
    response = upload(operator_client, rows)
    # then: a preview, every bad row named with its reason, 적용 disabled
    record = InvoiceUpload.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/invoices/{record.pk}/"
    assert record.total == 1000 and record.bad == 10 and record.status == InvoiceUploadStatus.CHECKED
    page = text(operator_client.get(response["Location"]))
    assert "전체 1000행 · 정상 990행 · 오류 10행" in page
    assert re.search(r'id="upload-apply" disabled', page)
    for sheet_row, (_row, message) in bad.items():
        found = re.search(rf'<td class="won">{sheet_row}</td>(.*?)</tr>', page, re.S)
        assert found and message in found.group(1), (sheet_row, message)
    # 적용 is refused: not one order shipped, nothing sent to the provider
    with django_capture_on_commit_callbacks(execute=True):
        refused = operator_client.post(f"/console/invoices/{record.pk}/apply/", follow=True)
    assert "오류가 있는 행이 10개 있어 적용하지 않았습니다." in text(refused)
    assert not Order.objects.filter(status=OrderStatus.SHIPPED).exists()
    assert not OutboxMessage.objects.exists()
    record.refresh_from_db()
    assert record.status == InvoiceUploadStatus.CHECKED and record.done == 0

    # when the file is fixed (the bad rows left out) and applied
    fixed = upload(operator_client, rows[:990])
    clean = InvoiceUpload.objects.exclude(pk=record.pk).get()
    assert fixed.status_code == 302 and clean.bad == 0
    assert 'id="upload-apply" disabled' not in text(operator_client.get(fixed["Location"]))
    with django_capture_on_commit_callbacks(execute=True):
        applied = operator_client.post(f"/console/invoices/{clean.pk}/apply/")
    # then: every order shipped through order_ship with its carrier and invoice
    assert applied.status_code == 302
    clean.refresh_from_db()
    assert clean.status == InvoiceUploadStatus.DONE and clean.shipped == 990 and clean.done == 990
    assert clean.failures == []
    shipped = dict(Order.objects.filter(status=OrderStatus.SHIPPED).values_list("number", "carrier"))
    assert len(shipped) == 990 and shipped[paid[2].number] == Carrier.HANJIN and shipped[paid[7].number] == Carrier.CJ
    assert Order.objects.get(number=paid[5].number).invoice_no == "600000000005"
    assert Order.objects.get(number=paid[5].number).status_changes.get().note == "경동택배 600000000005"
    result = text(operator_client.get(f"/console/invoices/{clean.pk}/"))
    assert "990건을 배송처리했습니다." in result and "refresh" not in result
    # a second 적용 does nothing
    again = operator_client.post(f"/console/invoices/{clean.pk}/apply/", follow=True)
    assert "이미 적용을 요청한 파일입니다." in text(again)


def test_the_check_before_applying_refuses_the_file_when_an_order_moved(operator_client):  # noqa: F811
    # given: a clean preview, then one order is cancelled by someone else before the worker starts
    orders = make_orders(3)
    upload(operator_client, [[o.number, "CJ대한통운", f"77{n}"] for n, o in enumerate(orders)])
    record = InvoiceUpload.objects.get()
    assert record.bad == 0
    operator_client.post(f"/console/invoices/{record.pk}/apply/")  # queued: the worker is not run (no commit)
    Order.objects.filter(pk=orders[1].pk).update(status=OrderStatus.CANCELLED)
    # when the worker runs
    from portal.console.invoice_uploads import invoice_upload_apply

    done = invoice_upload_apply(upload_id=str(record.pk))
    # then: nothing at all is shipped, the moved order is named
    assert done.status == InvoiceUploadStatus.REFUSED and done.bad == 1
    assert not Order.objects.filter(status=OrderStatus.SHIPPED).exists()
    page = text(operator_client.get(f"/console/invoices/{record.pk}/"))
    assert "아무 주문도 배송처리하지 않았습니다" in page and orders[1].number in page and "'주문취소'" in page


def test_a_bad_file_is_refused_with_a_korean_message(operator_client):  # noqa: F811
    cases = [
        ({"file": io.BytesIO(b"not a workbook")}, "XLSX 파일을 읽을 수 없습니다."),
        ({}, "올릴 XLSX 파일을 골라 주세요."),
        ({"file": xlsx([["1", "CJ대한통운", "1"]], header=("번호", "회사", "송장"))},
         "첫 행에 주문번호, 택배사, 송장번호 열이 없습니다."),
        ({"file": xlsx([], header=("주문번호", "택배사", "송장번호"))}, "파일에 주문 행이 없습니다."),
    ]
    for data, message in cases:
        if "file" in data and not getattr(data["file"], "name", ""):
            data["file"].name = "orders.xlsx"
        response = operator_client.post("/console/invoices/", data)
        assert response.status_code == 400 and message in text(response), message
    assert not InvoiceUpload.objects.exists()


def test_too_many_rows_are_refused(operator_client, monkeypatch):  # noqa: F811
    monkeypatch.setattr("portal.console.invoice_uploads.MAX_ROWS", 5)
    response = upload(operator_client, [[f"20261204-{n:07d}", "CJ대한통운", "1"] for n in range(6)])
    assert response.status_code == 400 and "한 번에 5행까지 올릴 수 있습니다." in text(response)
    assert not InvoiceUpload.objects.exists()


def test_the_template_opens_in_openpyxl(operator_client):  # noqa: F811
    # the empty template
    response = operator_client.get("/console/invoices/template.xlsx")
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert [cell.value for cell in sheet[1]][:3] == ["주문번호", "택배사", "송장번호"]
    assert sheet["C2"].number_format == "@"  # a long invoice number stays as typed
    assert [row[0] for row in book["택배사"].iter_rows(values_only=True)] == [c.korean_name for c in Carrier]
    # the template of the checked orders, which uploads as it is once filled in
    orders = make_orders(2)
    filled = download(operator_client, "/console/invoices/template.xlsx", data={"selection": [o.pk for o in orders]})
    sheet = load_workbook(io.BytesIO(filled.content)).worksheets[0]
    assert [sheet["A2"].value, sheet["A3"].value] == [o.number for o in orders]
    sheet["B2"], sheet["C2"], sheet["B3"], sheet["C3"] = "로젠택배", "123-456", "기타", "ABC1"
    out = io.BytesIO()
    sheet.parent.save(out)
    out.seek(0)
    out.name = "filled.xlsx"
    assert operator_client.post("/console/invoices/", {"file": out}).status_code == 302
    assert InvoiceUpload.objects.get().bad == 0


def test_upload_screens_are_for_operators_only(operator_client):  # noqa: F811
    anonymous, buyer = Client(), Client()
    buyer.force_login(User.objects.get(username="hong"))
    for url in ("/console/invoices/", "/console/invoices/template.xlsx"):
        assert anonymous.get(url).status_code == 302
        assert buyer.get(url).status_code == 403
    record = InvoiceUpload.objects.create(rows=[], total=0)
    assert buyer.post(f"/console/invoices/{record.pk}/apply/").status_code == 403
    assert operator_client.get(f"/console/invoices/{record.pk}/apply/").status_code == 405
    page = text(operator_client.get("/console/invoices/"))
    assert "송장 일괄등록" in page and 'href="/console/invoices/template.xlsx"' in page
    assert 'href="/console/invoices/"' in text(operator_client.get("/console/"))  # the menu entry


def test_progress_while_applying_and_a_failed_apply_applied_again(operator_client,  # noqa: F811
                                                                  django_capture_on_commit_callbacks):
    # given: a clean upload whose worker stopped after the first order
    orders = make_orders(3)
    upload(operator_client, [[o.number, "롯데택배", f"88{n}"] for n, o in enumerate(orders)])
    record = InvoiceUpload.objects.get()
    from portal.aftersales.fulfilment import order_ship

    order_ship(order=orders[0], invoice_no="880", carrier=Carrier.LOTTE, by=None)
    InvoiceUpload.objects.filter(pk=record.pk).update(status=InvoiceUploadStatus.RUNNING, done=1)
    # the progress page refreshes itself and shows how far it got
    page = text(operator_client.get(f"/console/invoices/{record.pk}/"))
    assert '<meta http-equiv="refresh" content="2">' in page and 'value="1"' in page and "1 / 3건" in page
    InvoiceUpload.objects.filter(pk=record.pk).update(status=InvoiceUploadStatus.FAILED, error="OperationalError")
    page = text(operator_client.get(f"/console/invoices/{record.pk}/"))
    assert "적용을 마치지 못했습니다." in page and "refresh" not in page
    # when applied again
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(f"/console/invoices/{record.pk}/apply/")
    # then: the order shipped already is not shipped twice; the others are shipped
    record.refresh_from_db()
    assert record.status == InvoiceUploadStatus.DONE and record.shipped == 3 and record.already_shipped == 1
    assert Order.objects.filter(status=OrderStatus.SHIPPED, carrier=Carrier.LOTTE).count() == 3
    assert Order.objects.get(pk=orders[0].pk).status_changes.count() == 1
    page = text(operator_client.get(f"/console/invoices/{record.pk}/"))
    assert "3건을 배송처리했습니다." in page and "이 중 1건은 적용할 때 이미 같은 택배사와 송장번호로 배송처리되어 있던 주문입니다" in page


def test_the_same_file_applied_twice_says_the_second_time_that_it_shipped_nothing_new(
        operator_client, django_capture_on_commit_callbacks):  # noqa: F811
    # given: the same file previewed twice (two tabs), then applied in the first
    orders = make_orders(2)
    rows = [[o.number, "롯데택배", f"77{n}"] for n, o in enumerate(orders)]
    upload(operator_client, rows)
    upload(operator_client, rows)
    first, second = InvoiceUpload.objects.order_by("created_at")
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(f"/console/invoices/{first.pk}/apply/")
    # when: the second preview is applied too
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(f"/console/invoices/{second.pk}/apply/")
    # then: nothing is shipped or sent twice, and the second upload says its orders were shipped already
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.shipped, first.already_shipped) == (2, 0)
    assert (second.shipped, second.already_shipped) == (2, 2)
    assert all(Order.objects.get(pk=o.pk).status_changes.count() == 1 for o in orders)
    page = text(operator_client.get(f"/console/invoices/{second.pk}/"))
    assert "이 중 2건은 적용할 때 이미 같은 택배사와 송장번호로 배송처리되어 있던 주문입니다" in page
    page = text(operator_client.get(f"/console/invoices/{first.pk}/"))
    assert "배송처리되어 있던 주문입니다" not in page


def test_an_invoice_number_that_is_no_number_is_refused(operator_client):  # noqa: F811
    # a lone hyphen's number, and a long number Excel kept as a float (its last digits lost) are not invoice numbers
    paid = make_orders(3)
    response = upload(operator_client, [[paid[0].number, "CJ대한통운", "-1"],
                                        [paid[1].number, "CJ대한통운", 1.2345678901234567e19],
                                        [paid[2].number, "CJ대한통운", 600000000001]])
    record = InvoiceUpload.objects.get()
    assert response.status_code == 302 and record.bad == 2
    page = text(operator_client.get(response["Location"]))
    for sheet_row in (2, 3):
        found = re.search(rf'<td class="won">{sheet_row}</td>(.*?)</tr>', page, re.S)
        assert found and "송장번호는 영문, 숫자, 하이픈(-)으로 40자까지" in found.group(1), sheet_row
    assert "12345678901234567" not in page.replace("1.2345678901234567e+19", "")


def test_an_order_whose_buyer_asked_to_cancel_is_a_bad_row_in_the_preview(operator_client):  # noqa: F811
    # given two paid orders, the buyer of one asking to cancel it
    from portal.aftersales.buyer_requests import buyer_request_create

    orders = make_orders(2)
    buyer_request_create(order=orders[1], kind="cancel", reason="마음이 바뀌었습니다")
    # when the file with both is uploaded
    response = upload(operator_client, [[o.number, "CJ대한통운", f"88{n}"] for n, o in enumerate(orders)])
    record = InvoiceUpload.objects.get()
    page = text(operator_client.get(response["Location"]))
    # then the preview names that row, as 배송 of the one order does, and nothing can be applied
    assert record.bad == 1 and "전체 2행 · 정상 1행 · 오류 1행" in page
    found = re.search(r'<td class="won">3</td>(.*?)</tr>', page, re.S)
    assert found and "구매자가 취소를 신청한 주문입니다" in found.group(1)
    assert re.search(r'id="upload-apply" disabled', page)
