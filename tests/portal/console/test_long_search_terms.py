"""A console search term longer than any name or number is refused with the form's message (the database never
sees it), and a page size outside the list's choices is read as its default: never a 500."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from portal.console.filters import SEARCH_MAX_LENGTH

pytestmark = pytest.mark.sandbox


@pytest.fixture
def privacy_officer(shop):
    client = Client()
    client.force_login(User.objects.get(username="privacy"))
    return client

TOO_LONG = "x" * 60_000  # past SQLite's LIKE pattern limit (50,000)


@pytest.mark.parametrize("path, field", [
    ("/console/orders/", "orderer_name"), ("/console/orders/", "product"), ("/console/orders/", "phone"),
    ("/console/refunds/", "holder"), ("/console/mileage/exclusions/", "name")])
def test_a_search_term_too_long_is_refused_with_a_message(operator, path, field):
    response = operator.get(path, {field: TOO_LONG})
    assert response.status_code in (200, 400)
    assert "60000" in response.content.decode()  # the form says how long the term was
    assert operator.get(path, {field: "x" * SEARCH_MAX_LENGTH}).status_code == 200


def test_the_access_log_reads_a_bad_page_size_as_its_default(privacy_officer):
    for size in ("-1", "0", "100000", "abc"):
        assert privacy_officer.get("/console/access-log/", {"per_page": size}).status_code == 200
    response = privacy_officer.get("/console/access-log/", {"actor": TOO_LONG})
    assert response.status_code in (200, 400) and "60000" in response.content.decode()


def test_an_export_of_a_search_the_list_refuses_is_refused_and_recorded_nowhere(operator):
    from portal.accesslog.models import AccessRecord

    before = AccessRecord.objects.count()
    for query in ({"export": "csv", "placed_from": "2026-02-30"}, {"export": "xlsx", "orderer_name": TOO_LONG}):
        response = operator.post("/console/orders/?" + "&".join(f"{k}={v}" for k, v in query.items()),
                                 {"reason": "정산 대조"}, follow=True)
        page = response.content.decode()
        assert response.status_code in (200, 400) and "검색 조건이 올바르지 않아 내려받지 않았습니다." in page
        assert response["Content-Type"].startswith("text/html")
    response = operator.post("/console/mileage/settlement/?export=xlsx&month=zzz", {"reason": "정산 대조"},
                             follow=True)
    assert "정산할 수 없는 달이라 내려받지 않았습니다: zzz." in response.content.decode()
    assert AccessRecord.objects.count() == before


def test_a_cancel_of_no_known_kind_or_of_a_cancelled_order_changes_nothing_and_says_why(shop, operator):
    from portal.orders.models import OrderStatus
    from tests.portal.console.conftest import place

    order, _ = place(shop, use=None)  # bank transfer, waiting for the deposit; no mileage
    response = operator.post(f"/console/orders/{order.number}/cancel/", {"kind": "zzz"}, follow=True)
    assert "알 수 없는 취소 요청입니다." in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DEPOSIT
    response = operator.post(f"/console/orders/{order.number}/cancel/", {"kind": "before_payment"}, follow=True)
    page = response.content.decode()
    assert "입금전 취소를 완료했습니다." in page and "네이버 마일리지가 반환됩니다" not in page
    response = operator.post(f"/console/orders/{order.number}/cancel/", {"kind": "before_payment"}, follow=True)
    assert "이 주문은 취소할 수 없습니다" in response.content.decode()
