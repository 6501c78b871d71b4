"""The console tables' rows (console/table.html's `{% console_tbody %}`) are the rows django-tables2's own
bootstrap5 template writes: the same cells, attributes, links, masking, defaults and empty row; 예외상품설정's rows
(through Jinja2) are escaped and labelled."""

import re

import pytest
from django.test import RequestFactory

from mileage.models import Exclusion, ExclusionReason
from portal.aftersales.models import Refund, RefundReason
from portal.catalog.models import Product
from portal.console.jinja_tables import JinjaTableSpec, render_table
from portal.console.mileage_views import EXCLUSION_FIELDS, ProductExclusionTable, exclusion_rows
from portal.console.tables import BulkFailureTable, InvoiceRowTable, RefundTable
from tests.factories import ProductFactory, order_for

LIBRARY = "django_tables2/bootstrap5.html"


def tbody(html: str) -> str:
    """The <tbody> of a rendered table, with the whitespace between tags dropped."""
    body = re.search(r"<tbody.*?</tbody>", html, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r">\s+", ">", re.sub(r"\s+<", "<", body))).replace("<tbody >", "<tbody>")


def both(table_class, data, **kwargs) -> tuple[str, str]:
    request = RequestFactory().get("/console/", {"sort": "-name"})
    ours = table_class(data, **kwargs).as_html(request)
    library = table_class(data, template_name=LIBRARY, **kwargs).as_html(request)
    return tbody(ours), tbody(library)


@pytest.mark.django_db
def test_given_products_some_excluded_when_the_exclusion_rows_are_written_then_each_cell_is_escaped_and_labelled():
    # given three products, one excluded as 상품권, one hidden, one named with markup and without a manufacturer
    products = [ProductFactory(name="<b>상품</b>", manufacturer="", price_won=12_000), ProductFactory(),
                ProductFactory(is_displayed=False)]
    Exclusion.objects.create(product=products[1], reason=ExclusionReason.GIFT_CERTIFICATE)
    records = Product.objects.filter(pk__in=[p.pk for p in products]).order_by("-id").values(*EXCLUSION_FIELDS)
    # when 예외상품설정 writes them
    html = render_table("console/exclusion_table.html", spec=JinjaTableSpec.of(ProductExclusionTable, "selection"),
                        request=RequestFactory().get("/console/mileage/exclusions/"), table=None, page=None,
                        paginator=None, rows=exclusion_rows(list(records)), select_all="전체 선택")
    rows = re.findall(r"<tr>(.*?)</tr>", tbody(html))
    cells = [[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in rows]
    # then each product is a row, newest first: the name escaped, the price grouped, a dash for no manufacturer,
    # the display state and the exclusion's reason in words, a select box named by its product
    assert [c[1:] for c in cells] == [
        [products[2].name, f"{products[2].price_won:,}원", products[2].manufacturer or "-", "진열안함", "-"],
        [products[1].name, f"{products[1].price_won:,}원", products[1].manufacturer or "-", "진열함", "예외상품 (상품권)"],
        ["&lt;b&gt;상품&lt;/b&gt;", "12,000원", "-", "진열함", "-"]]
    assert "<b>" not in html and html.count('name="selection"') == 3
    assert f'value="{products[1].pk}" class="form-check-input" aria-label="{products[1].name} 선택"' in html


@pytest.mark.django_db
def test_given_refunds_when_the_refund_table_is_written_then_linked_masked_rows_are_the_librarys():
    # given two refunds of an order, one with an account and a holder
    order = order_for([(ProductFactory(), 1)])
    Refund.objects.create(number="C1", order=order, reason=RefundReason.CANCEL, cash_won=1_000, bank="국민",
                          account_no="12345678901", holder="홍길동")
    Refund.objects.create(number="C2", order=order, reason=RefundReason.RETURN, cash_won=500)
    # when the table is written both ways
    ours, library = both(RefundTable, Refund.objects.select_related("order").order_by("number"))
    # then the rows are the same: the order linked, the account and the holder masked
    assert ours == library
    assert f'href="/console/orders/{order.number}/"' in ours and "12345678901" not in ours and "홍길동" not in ours


def test_given_rows_with_errors_and_no_rows_when_plain_tables_are_written_then_they_are_the_librarys():
    # given an upload's rows (a row's class computed from the row) and a failure list with nothing in it
    rows = [{"row": 2, "number": "1", "carrier_raw": "CJ", "invoice_no": "", "result": "", "errors": ["x"]},
            {"row": 3, "number": "2", "carrier_raw": "", "invoice_no": "9", "result": "", "errors": []}]
    # when both are written both ways
    # then the rows, their classes, the dashes of empty cells and the empty row are the same
    ours, library = both(InvoiceRowTable, rows)
    assert ours == library and 'class="table-danger even"' in ours
    ours, library = both(BulkFailureTable, [])
    assert ours == library and "실패한 주문이 없습니다" in ours


@pytest.mark.django_db
def test_given_refunds_returned_across_midnight_when_the_table_is_written_then_the_days_are_seoul_and_none_compiled(
        monkeypatch):
    # given a refund returned at 23:30 UTC (08:30 the next day in Seoul), one returned at noon, one not returned
    from datetime import UTC, datetime

    from django.template import Context, base

    order = order_for([(ProductFactory(), 1)])
    for number, returned_at in [("C1", datetime(2026, 11, 30, 23, 30, tzinfo=UTC)),
                                ("C2", datetime(2026, 12, 1, 3, 0, tzinfo=UTC)), ("C3", None)]:
        Refund.objects.create(number=number, order=order, reason=RefundReason.RETURN, cash_won=500,
                              returned_at=returned_at)
    compiled = []
    real_init = base.Template.__init__
    monkeypatch.setattr(base.Template, "__init__", lambda self, *a, **k: (compiled.append(a[0]), real_init(self, *a, **k))[1])
    # when 환불관리's table is written
    records = Refund.objects.select_related("order").order_by("number")
    ours = tbody(RefundTable(records).as_html(RequestFactory().get("/console/refunds/")))
    # then 반송완료일 reads the Seoul day, "-" when there is none, and no cell compiled a template of its own
    days = [re.sub(r"<[^>]+>", "", row[1]) for row in
            (re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", ours))]
    assert days == ["2026-12-01", "2026-12-01", "-"]
    assert not [code for code in compiled if "|date:" in str(code)]
    # and the text is what django-tables2's own DateTimeColumn writes (its template: the `date` filter, then the
    # column's default)
    library = base.Template('{{ value|date:"Y-m-d"|default:"-" }}')
    assert days == [library.render(Context({"value": refund.returned_at})) for refund in records]


@pytest.mark.django_db
def test_each_refunds_checkbox_is_named_by_its_refund():
    # given two refunds: a screen reader tells their boxes apart by the refund's number
    order = order_for([(ProductFactory(), 1)])
    for number in ("C1", "C2"):
        Refund.objects.create(number=number, order=order, reason=RefundReason.RETURN, cash_won=500)
    ours = tbody(RefundTable(Refund.objects.select_related("order").order_by("number")).as_html(
        RequestFactory().get("/console/refunds/")))
    labels = re.findall(r'<input [^>]*aria-label="([^"]+)"', ours)
    assert labels == ["C1 선택", "C2 선택"]
