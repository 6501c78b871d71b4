"""After a partial return's 환불완료, every statement shows the mileage the order used and the part given back:
the provider now holds the rest (docs/policy.md L4), and no screen may read as if the whole use still stood."""

import pytest

from portal.aftersales.models import Refund
from portal.orders.earn import earn_status
from portal.orders.models import Order

from .conftest import delivered, place, returned

pytestmark = pytest.mark.sandbox


def partly_returned(shop, operator):
    """A delivered card order of two that used 1,000원 of mileage, one of them returned with 600원 of it (반송완료, its
    refund waiting 환불전). Returns the order and the buyer's login at the provider."""
    order, buyer = place(shop, method="card", quantity="2", use=1_000)
    delivered(operator, order)
    line = order.lines.get()
    returned(operator, order, {
        f"qty_{line.pk}": "1", "cash_won": "4400", "store_points_won": "0", "mileage_won": "600",
        "shipping_deduction_won": "0", "method": "card"})
    return order, buyer


def test_a_partial_returns_mileage_shows_as_given_back_beside_the_use(shop, operator):
    order, _ = partly_returned(shop, operator)
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert 'id="use-back"' not in detail  # 환불전: nothing given back yet
    operator.post("/console/refunds/", {"selection": [Refund.objects.get(order=order).pk], "confirm": "1"})
    order = Order.objects.get(pk=order.pk)
    assert order.mileage.provider_use_won == 400
    assert earn_status(order).use_returned_won == 600
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    summary = detail.split('id="mileage-summary"', 1)[1].split("</td>", 1)[0]
    assert "-1,000원 사용" in summary and "(600원 반환)" in summary


def test_a_partial_return_gives_back_at_most_what_its_goods_cost(shop, operator):
    from portal.aftersales.models import ReturnRequest

    # given a delivered card order of two 5,000원 items that used 1,000원 of mileage (9,000원 paid by card)
    order, _ = place(shop, method="card", quantity="2", use=1_000)
    delivered(operator, order)
    line = order.lines.get()
    form = {f"qty_{line.pk}": "1", "cash_won": "4500", "store_points_won": "0", "mileage_won": "600",
            "shipping_deduction_won": "0", "method": "card"}
    # when one item is returned with 5,100원 to give back: refused, with the goods' price, and nothing recorded
    response = operator.post(f"/console/orders/{order.number}/return/", form)
    page = response.content.decode()
    assert response.status_code == 400
    assert "반품하는 상품의 금액은 5,000원입니다" in page and "(입력: 5,100원)" in page
    assert not ReturnRequest.objects.filter(order=order).exists()
    assert Order.objects.get(pk=order.pk).status == "delivered"
    # and 5,000원 together is taken
    response = operator.post(f"/console/orders/{order.number}/return/", {**form, "cash_won": "4400"})
    assert response.status_code == 302 and ReturnRequest.objects.get(order=order).cash_won == 4_400


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


def test_mileage_asked_back_and_not_answered_reads_반환_예정_never_반환(shop, operator):
    from mileage.models import MileageSettings, OutboxMessage
    from mileage.services.transactions import outbox_deliver

    # given a delivered order that used 1,000원, partly returned (600원 of the mileage back)
    order, buyer = partly_returned(shop, operator)
    # when 환불완료 asks the provider for the re-approval and the provider fails to apply it
    api_id = MileageSettings.load().api_id
    shop.fault(api_id, "http500", count=20)
    operator.post("/console/refunds/", {"selection": [Refund.objects.get(order=order).pk], "confirm": "1"})
    call = OutboxMessage.objects.get(order=order, kind="repayment")
    assert call.status != "sent" and shop.balance(buyer)["available"] == 14_500
    # then no statement says the 600원 is back: the console, the buyer's page, the receipt's figures
    order = Order.objects.get(pk=order.pk)
    status = earn_status(order)
    assert (status.use_returned_won, status.use_returning_won) == (0, 600)
    summary = operator.get(f"/console/orders/{order.number}/").content.decode().split('id="mileage-summary"', 1)[1]
    assert "(600원 반환 예정)" in summary.split("</td>", 1)[0]
    assert _exported_use_back(order) == 0  # the 주문조회 export's 네이버 마일리지 반환 column
    buyer_page = _buyer_page(order)
    assert "(600원 반환 예정)" in buyer_page.split('id="mileage-line"', 1)[1].split("</tr>", 1)[0]
    refunds = buyer_page.split('id="refunds"', 1)[1].split("</section>", 1)[0]
    assert "네이버 마일리지 600원은 반환 예정입니다" in refunds
    # the refund's row too: its mileage is on its way, though the refund's money moved (환불완료)
    assert "환불완료" in refunds and 'class="d-block text-muted mileage-returning-row">(반환 예정)' in refunds
    # and once the provider applies it, it reads 반환
    shop.fault(api_id, "", count=0)
    assert outbox_deliver(call.pk, force=True).status == "sent"
    assert shop.balance(buyer)["available"] == 15_100
    order = Order.objects.get(pk=order.pk)
    assert (earn_status(order).use_returned_won, earn_status(order).use_returning_won) == (600, 0)
    summary = operator.get(f"/console/orders/{order.number}/").content.decode().split('id="mileage-summary"', 1)[1]
    assert "(600원 반환)" in summary.split("</td>", 1)[0] and _exported_use_back(order) == 600
    buyer_page = _buyer_page(order)
    assert "(600원 반환)" in buyer_page.split('id="mileage-line"', 1)[1].split("</tr>", 1)[0]
    assert "반환 예정" not in buyer_page


def _exported_use_back(order) -> int:
    from portal.orders.earn import MILEAGE_USE_RETURNED

    return Order.objects.filter(pk=order.pk).annotate(back=MILEAGE_USE_RETURNED).values_list("back", flat=True).get()


def _buyer_page(order) -> str:
    """The guest's order page, opened through 비회원 주문조회."""
    from django.test import Client

    guest = Client()
    guest.post("/shop/guest/", {"number": order.number, "password": "abcd1234"})
    return guest.get(f"/shop/orders/{order.number}/").content.decode()


@pytest.mark.django_db
def test_an_approval_still_on_its_way_gives_nothing_back_in_the_export():
    from mileage.models import MileageTransaction, TransactionState
    from portal.orders.models import OrderStatus
    from tests.factories import ProductFactory, order_for

    order = order_for([(ProductFactory(price_won=5_000), 1)])
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PLACING, mileage_use_won=500)
    MileageTransaction.objects.create(order=order, req_tx_id="R-1", state=TransactionState.APPROVING, use_won=500)
    order = Order.objects.get(pk=order.pk)
    status = earn_status(order)
    assert (status.use_returned_won, status.use_returning_won) == (0, 0) and _exported_use_back(order) == 0
