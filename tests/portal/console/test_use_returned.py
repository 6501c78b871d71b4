"""After a partial return's 환불완료, every statement shows the mileage the order used and the part given back:
the provider now holds the rest (docs/policy.md L4), and no screen may read as if the whole use still stood."""

import pytest

from portal.aftersales.models import Refund
from portal.orders.earn import earn_status
from portal.orders.models import Order

from .conftest import delivered, place, returned

pytestmark = pytest.mark.sandbox


def test_a_partial_returns_mileage_shows_as_given_back_beside_the_use(shop, operator):
    order, _ = place(shop, method="card", quantity="2", use=1_000)
    delivered(operator, order)
    line = order.lines.get()
    returned(operator, order, {
        f"qty_{line.pk}": "1", "cash_won": "4500", "store_points_won": "0", "mileage_won": "600",
        "shipping_deduction_won": "0", "method": "card"})
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert 'id="use-back"' not in detail  # 환불전: nothing given back yet
    operator.post("/console/refunds/", {"selection": [Refund.objects.get(order=order).pk], "confirm": "1"})
    order = Order.objects.get(pk=order.pk)
    assert order.mileage.provider_use_won == 400
    assert earn_status(order).use_returned_won == 600
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    summary = detail.split('id="mileage-summary"', 1)[1].split("</td>", 1)[0]
    assert "-1,000원 사용" in summary and "(600원 반환)" in summary


def test_a_quantity_typed_for_a_line_given_back_whole_is_refused_with_its_name(shop, operator):
    from django.db.models import F

    from portal.orders.models import OrderLine

    order, _ = place(shop, method="card", use=None)
    delivered(operator, order)
    line = order.lines.get()
    OrderLine.objects.filter(pk=line.pk).update(returned_quantity=F("quantity"))  # returned before, whole
    page = operator.post(f"/console/orders/{order.number}/exchange/", {
        f"qty_{line.pk}": "1", "new_6": "1", "mileage_returned_won": "0", "action": "quote"}).content.decode()
    assert f"{line.product_name}: 이미 모두 반품·교환된 상품이라 고를 수 없습니다." in page
