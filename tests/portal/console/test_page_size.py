"""리스트 표시수: one helper reads `per_page` for every console list (주문조회, 예외상품설정, 환불관리, 전송 대기열)."""

import re

import pytest

from portal.catalog.models import Product
from portal.console.tables import PAGE_SIZES, page_size
from tests.factories import ProductFactory
from tests.portal.console.test_screens import many_orders, operator  # noqa: F401  (the operator fixture)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("raw", "expected"), [
    ("20", 20), ("100", 100), ("10", 10),
    (None, 50), ("", 50), ("30", 50), ("0", 50), ("-10", 50), ("1000", 50), ("9" * 30, 50), ("²", 50), ("２０", 50),
    (" 20", 20), ("20.0", 50), ("abc", 50),
])
def test_page_size_is_one_of_the_choices_or_the_default(raw, expected):
    assert page_size(raw) == expected


def test_page_size_default_and_choices_are_the_views():
    assert page_size("30", default=10) == 10
    assert page_size("30", sizes=(15, 30), default=15) == 30
    assert page_size("50", sizes=(15, 30), default=15) == 15
    # every size the screens offer is taken as asked
    assert [page_size(str(size)) for size in PAGE_SIZES] == list(PAGE_SIZES)


def _rows(page: str) -> int:
    return page.split("<tbody", 1)[1].split("</tbody>", 1)[0].count("<tr")


def _selected(page: str) -> str:
    select = page.split('id="id_per_page"', 1)[1].split("</select>", 1)[0]
    return re.search(r'<option value="(\d+)" selected>', select).group(1)


def test_order_queue_shows_the_chosen_page_size_and_keeps_it_across_pages(operator):  # noqa: F811
    many_orders(25)
    page = operator.get("/console/orders/", {"per_page": "10"}).content.decode()
    assert _rows(page) == 10 and _selected(page) == "10"
    assert "per_page=10" in page.split('class="table-pagination"', 1)[1]  # the next page link keeps the size
    page = operator.get("/console/orders/", {"per_page": "10", "page": "3"}).content.decode()
    assert _rows(page) == 5
    # a size that is not offered falls back to the default (50: all 25 orders), and the select says so
    for raw in ("30", "7", "10" * 20, "²"):
        response = operator.get("/console/orders/", {"per_page": raw})
        assert response.status_code == 200
        page = response.content.decode()
        assert _rows(page) == 25 and _selected(page) == "50"


def test_exclusions_show_the_chosen_page_size_with_their_own_default(operator):  # noqa: F811
    before = Product.objects.count()
    ProductFactory.create_batch(max(0, 25 - before))
    page = operator.get("/console/mileage/exclusions/").content.decode()
    assert _rows(page) == 10 and _selected(page) == "10"
    page = operator.get("/console/mileage/exclusions/", {"per_page": "20"}).content.decode()
    assert _rows(page) == 20 and _selected(page) == "20"
    page = operator.get("/console/mileage/exclusions/", {"per_page": "25"}).content.decode()
    assert _rows(page) == 10 and _selected(page) == "10"


def test_refunds_and_outbox_take_a_page_size_too(operator):  # noqa: F811
    from portal.aftersales.models import Refund

    for i, order in enumerate(many_orders(12)):
        Refund.objects.create(order=order, number=f"R-{i:02d}", reason="cancel", cash_won=1000)
    page = operator.get("/console/refunds/", {"per_page": "10"}).content.decode()
    assert _rows(page) == 10
    page = operator.get("/console/refunds/", {"per_page": "11"}).content.decode()
    assert _rows(page) == 12
    assert operator.get("/console/outbox/", {"per_page": "10" * 20}).status_code == 200


@pytest.mark.parametrize("query", [
    {}, {"per_page": "10"}, {"per_page": "10", "page": "2"}, {"per_page": "10", "page": "3"},
    {"per_page": "10", "page": "99"}, {"per_page": "7", "page": "2"}, {"page": "abc"}, {"page": "9" * 30},
    {"per_page": "10", "page": "2", "q": "x&y"},
])
def test_the_unsorted_queue_is_written_as_the_table_would_write_it(operator, query, settings):  # noqa: F811
    """주문조회 as it opens skips django-tables2's Table: its headings and rows read as the Table's path writes them
    (an empty `sort` takes that path), in Korean and English."""
    import re

    many_orders(25)
    for language in ("ko", "en"):
        operator.cookies["django_language"] = language
        plain = operator.get("/console/orders/", query).content.decode()
        by_table = operator.get("/console/orders/", {**query, "sort": ""}).content.decode()
        table = re.compile(r"<thead>.*</tbody>", re.S)
        assert table.search(plain).group() == table.search(by_table).group()
        assert plain.count("<tr") > 1 and "sort=placed_at" in plain
    assert plain.count('class="mileage-badge"') >= 1 and "sort=orderer_name" in plain
