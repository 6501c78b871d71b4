"""Console screens: who may enter, the order queue's filters, M icon, page sizes, query counts and exports."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from mileage.models import MileageTransaction
from portal.console.views import ORDER_COUNT_CAP
from portal.orders.models import Order, PaymentMethod
from tests.factories import ProductFactory, order_for
from tests.portal.console.downloads import download
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    load_demo()
    client.force_login(User.objects.get(username="operator"))
    return client


def many_orders(n: int, *, with_mileage_every: int = 3) -> list[Order]:
    product = ProductFactory(name="샘플상품 1")
    orders = []
    for i in range(n):
        order = order_for([(product, 1)], method=PaymentMethod.CARD if i % 2 else PaymentMethod.BANK_TRANSFER)
        Order.objects.filter(pk=order.pk).update(orderer_name=f"고객{i:03d}",
                                                 placed_at=timezone.now() - timedelta(days=i))
        if i % with_mileage_every == 0:
            Order.objects.filter(pk=order.pk).update(uses_mileage=True)
            MileageTransaction.objects.create(order=order, req_tx_id=f"R{i}", use_won=500, earn_base_won=4_500,
                                              original_earn_base_won=4_500, expected_earn_won=45, base_rate_x10=10)
        orders.append(order)
    return orders


@pytest.mark.parametrize("path", ["/console/", "/console/orders/", "/console/refunds/", "/console/outbox/"])
def test_only_operators_get_in(client, path):
    load_demo()
    assert client.get(path).status_code == 302  # anonymous → login
    for username in ("editor", "hong"):
        client.force_login(User.objects.get(username=username))
        assert client.get(path).status_code == 403
    client.force_login(User.objects.get(username="operator"))
    assert client.get(path).status_code == 200


def test_actions_need_csrf(operator):
    order = many_orders(1)[0]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(User.objects.get(username="operator"))
    assert strict.post(f"/console/orders/{order.number}/action/confirm_deposit/").status_code == 403
    order.refresh_from_db()
    assert order.status == "awaiting_deposit"


def test_filters_and_the_m_icon(operator):
    number = {i: order.number for i, order in enumerate(many_orders(12))}
    page = operator.get("/console/orders/", {"orderer_name": "고객003"}).content.decode()
    assert number[3] in page and number[4] not in page and 'class="mileage-badge"' in page
    # the list names the buyer masked (issue 25): searched by the full name, shown as 고***3
    rows = page.split("<tbody>")[-1]
    assert "고***3" in rows and "고객003" not in rows
    page = operator.get("/console/orders/", {"payment_method": "mileage", "per_page": "100"}).content.decode()
    assert page.count('class="mileage-badge"') == 4 and number[1] not in page
    page = operator.get("/console/orders/", {"period": "3d", "payment_method": "card"}).content.decode()
    assert number[1] in page and number[0] not in page and number[3] not in page
    page = operator.get("/console/orders/", {"product": "샘플상품"}).content.decode()
    assert number[11] in page
    assert not any(n in operator.get("/console/orders/", {"product": "없는상품"}).content.decode()
                   for n in number.values())


def test_constant_queries_whatever_the_page_size(operator):
    many_orders(60)
    counts = []
    for size in (10, 50):
        with CaptureQueriesContext(connection) as queries:
            response = operator.get("/console/orders/", {"per_page": size})
        assert response.status_code == 200
        counts.append(len(queries))
        # the total (issue 24) is one count over at most ORDER_COUNT_CAP + 1 rows, never a COUNT of the whole table
        counted = [q["sql"] for q in queries.captured_queries if "orders_order" in q["sql"] and "COUNT(" in q["sql"].upper()]
        assert len(counted) == 1 and f"LIMIT {ORDER_COUNT_CAP + 1}" in counted[0], counted
    assert counts[0] == counts[1] and counts[0] <= 12


def test_export_csv_and_xlsx(operator):
    many_orders(5)
    response = download(operator, "/console/orders/", {"export": "csv", "payment_method": "mileage"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["주문일", "주문번호"] and len(rows) == 1 + 2
    # 결제수단 is the way the order was paid, the mileage used in its own column (no screen badge in a cell)
    assert rows[1][5] in ("무통장입금", "신용카드")
    response = download(operator, "/console/orders/", {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 6 and sheet.cell(1, 2).value == "주문번호"


def test_the_export_writes_the_order_date_in_business_time(operator):
    # an order placed at 07:44 on 4 December in Seoul (22:44 on the 3rd in UTC)
    order = many_orders(1)[0]
    Order.objects.filter(pk=order.pk).update(placed_at=datetime(2026, 12, 3, 22, 44, tzinfo=UTC))
    response = download(operator, "/console/orders/", {"export": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][0] == "2026-12-04 07:44:00" and rows[1][1] == order.number


def test_deep_pages_show_the_same_rows_as_plain_offsets(operator, monkeypatch):
    from portal.orders import querysets

    many_orders(30)
    monkeypatch.setattr(querysets, "DEFERRED_FROM", 10)
    plain = list(Order.objects.order_by("-placed_at", "-id").values_list("number", flat=True)[20:30])
    deferred = [o.number for o in Order.objects.deferred_paging()[20:30]]
    assert deferred == plain
    page = operator.get("/console/orders/", {"per_page": 10, "page": 3}).content.decode()
    assert all(number in page for number in plain)


def test_refunds_of_one_order_are_listed_without_a_status(operator):
    # given a refund waiting (환불전) and one done, on two orders
    from portal.aftersales.models import Refund

    first, second = many_orders(2)
    Refund.objects.create(order=first, number="R-WAIT", reason="cancel", cash_won=1000)
    Refund.objects.create(order=second, number="R-DONE", reason="cancel", cash_won=1000, status="done")
    # when the operator follows a link with only ?order=
    page = operator.get("/console/refunds/", {"order": first.number}).content.decode()
    # then the waiting refund is listed, the other order's is not
    assert "R-WAIT" in page and "R-DONE" not in page
    assert "R-DONE" in operator.get("/console/refunds/", {"status": "done"}).content.decode()


def test_the_outbox_and_an_empty_search_read_in_korean(operator):
    page = operator.get("/console/outbox/").content.decode()
    for heading in ("번호", "요청", "주문번호", "상태", "시도 횟수", "마지막 오류", "요청 시각", "다음 시도"):
        assert f">{heading}<" in page or f">{heading}</a>" in page, heading
    for english in ("Status", "Kind", "Attempts", "Last error", "Created at", "Next attempt at", "---------"):
        assert english not in page, english
    assert "조건에 맞는 항목이 없습니다." in page
    many_orders(2)
    page = operator.get("/console/orders/", {"orderer_name": "없는사람"}).content.decode()
    assert "조건에 맞는 주문이 없습니다." in page


def test_lists_and_exports_name_the_buyer_masked(operator):
    many_orders(3)
    Order.objects.update(orderer_name="홍길동", orderer_phone="010-1234-5678")
    rows = operator.get("/console/orders/").content.decode().split("<tbody>")[-1]
    assert "홍*동" in rows and "홍길동" not in rows and "010-1234-5678" not in rows
    for kind in ("csv", "xlsx"):
        body = download(operator, "/console/orders/", {"export": kind}).content
        if kind == "csv":
            text = body.decode("utf-8-sig")
        else:
            sheet = load_workbook(io.BytesIO(body)).active
            text = "\n".join(",".join(str(c.value) for c in row) for row in sheet.iter_rows())
        assert "홍*동" in text and "홍길동" not in text and "010-1234-5678" not in text, kind
