"""The bulk work reaches the provider through the outbox, as each order's own action does: 송장 일괄등록 records one
delivery invoice per shipped order (the carrier by its Korean name) and the sandbox receives it; bulk 입금확인 records
each order's deal-done call."""

import io

import pytest
from openpyxl import Workbook

from mileage.models import MileageEvent, OutboxMessage
from portal.console.models import InvoiceUpload, InvoiceUploadStatus
from portal.orders.models import OrderStatus

from .conftest import place

pytestmark = pytest.mark.sandbox


def sheet(rows):
    book = Workbook()
    book.active.append(["주문번호", "택배사", "송장번호"])
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "invoices.xlsx"
    return out


def test_each_uploaded_invoice_reaches_the_provider_through_the_outbox(shop, operator):
    # given: three paid orders that used mileage
    orders = [place(shop, method="card")[0] for _ in range(3)]
    carriers = ["CJ대한통운", "우체국택배", "기타"]
    # when: their invoices are uploaded and applied (the worker and the outbox run after each commit)
    response = operator.post("/console/invoices/", {"file": sheet(
        [[o.number, carrier, f"55{n}-0001"] for n, (o, carrier) in enumerate(zip(orders, carriers, strict=True))])})
    upload = InvoiceUpload.objects.get()
    assert response.status_code == 302 and upload.bad == 0
    operator.post(f"/console/invoices/{upload.pk}/apply/")
    # then: one invoice call per order in the outbox, sent, and the provider's answer recorded
    upload.refresh_from_db()
    assert upload.status == InvoiceUploadStatus.DONE and upload.shipped == 3
    for n, (order, carrier) in enumerate(zip(orders, carriers, strict=True)):
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED
        message = OutboxMessage.objects.get(order=order, kind="invoice")
        assert message.payload["invoice"]["service_company"] == carrier
        assert message.payload["invoice"]["invoice_no"] == f"55{n}-0001"
        assert message.status == "sent"
        assert MileageEvent.objects.filter(transaction__order=order, kind="invoice", result_code="1000").count() == 1


def test_bulk_deposit_confirmation_records_each_orders_call(shop, operator):
    # given: two bank-transfer orders with mileage, waiting for the deposit
    orders = [place(shop, method="bank")[0] for _ in range(2)]
    assert {o.status for o in orders} == {OrderStatus.AWAITING_DEPOSIT}
    # when
    response = operator.post("/console/orders/bulk/", {"action": "confirm_deposit",
                                                       "selection": [o.pk for o in orders]})
    # then
    assert "입금확인 2건 완료 · 실패 0건" in response.content.decode()
    for order in orders:
        assert OutboxMessage.objects.filter(order=order, kind="stated").count() == 1
