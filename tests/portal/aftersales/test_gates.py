"""The console's after-sales screens act only where the order's (or the return's) table opens the move: anything
else gets a clear message and changes nothing. 상품교환 writes no status change of its own."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from portal.aftersales.models import Exchange, Refund, ReturnRequest, ReturnStatus
from portal.orders.models import Order, OrderStatus, OrderStatusChange, PaymentMethod
from tests.factories import ProductFactory, order_for, paid_order_for
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db

REFUND_FORM = {"cash_won": "0", "store_points_won": "0", "mileage_won": "0", "shipping_deduction_won": "0",
               "method": "cash"}


@pytest.fixture
def operator():
    load_demo()
    client = Client()
    client.force_login(User.objects.get(username="operator"))
    return client


def _order(status: str) -> Order:
    make = order_for if status == OrderStatus.AWAITING_DEPOSIT else paid_order_for
    order = make([(ProductFactory(price_won=5_000), 2)], method=PaymentMethod.CARD)
    Order.objects.filter(pk=order.pk).update(status=status)
    return Order.objects.get(pk=order.pk)


def _unchanged(order: Order, status: str, changes: int) -> None:
    order.refresh_from_db()
    assert order.status == status
    assert OrderStatusChange.objects.filter(order=order).count() == changes
    assert not Refund.objects.filter(order=order).exists()


@pytest.mark.parametrize("status", [OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CONFIRMED,
                                    OrderStatus.CANCELLED])
def test_cancel_after_payment_only_from_paid(operator, status):
    order = _order(status)
    changes = order.status_changes.count()
    response = operator.post(f"/console/orders/{order.number}/cancel/", REFUND_FORM, follow=True)
    # the order's detail says why, as opening the cancel page does
    assert response.redirect_chain[-1][0] == f"/console/orders/{order.number}/"
    assert "이 주문은 취소할 수 없습니다" in response.content.decode()
    _unchanged(order, status, changes)


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.CONFIRMED,
                                    OrderStatus.RETURN_REQUESTED, OrderStatus.RETURNED])
def test_a_return_only_from_delivered(operator, status):
    order = _order(status)
    changes = order.status_changes.count()
    line = order.lines.get()
    response = operator.post(f"/console/orders/{order.number}/return/", {**REFUND_FORM, f"qty_{line.pk}": "1"})
    assert response.status_code == 400
    why = {OrderStatus.RETURN_REQUESTED: "이 주문에는 진행 중인 반품이 있습니다",
           # back at the shop, its refund not yet done: the remaining goods wait for that refund, said so
           OrderStatus.RETURNED: "환불관리에서 그 환불을 환불완료한 뒤에 남은 상품을 반품할 수 있습니다."}.get(
        status, "배송완료된 주문만 반품할 수 있습니다.")
    assert why in response.content.decode()
    _unchanged(order, status, changes)
    assert not ReturnRequest.objects.exists()


def _exchange(operator, order: Order, code: str):
    line = order.lines.get()
    return operator.post(f"/console/orders/{order.number}/exchange/", {
        f"qty_{line.pk}": "1", f"new_{code}": "1", "mileage_returned_won": "0", "action": "complete"}, follow=True)


@pytest.mark.parametrize("status", [OrderStatus.AWAITING_DEPOSIT, OrderStatus.CANCELLED, OrderStatus.CONFIRMED,
                                    OrderStatus.RETURNING])
def test_an_exchange_only_from_paid_shipped_or_delivered(operator, status):
    order = _order(status)
    changes = order.status_changes.count()
    other = ProductFactory(price_won=5_000)
    response = _exchange(operator, order, other.code)
    assert response.status_code == 400
    assert "이 주문은 교환할 수 없습니다." in response.content.decode()
    _unchanged(order, status, changes)
    assert not Exchange.objects.exists() and order.lines.count() == 1
    assert order.lines.get().returned_quantity == 0


def test_an_exchange_records_itself_not_a_same_status_change(operator):
    order = _order(OrderStatus.DELIVERED)
    changes = order.status_changes.count()
    other = ProductFactory(price_won=5_000)
    response = _exchange(operator, order, other.code)
    assert "상품교환완료" in response.content.decode()
    exchange = Exchange.objects.get(order=order)
    assert exchange.created_by.username == "operator"
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert order.status_changes.count() == changes  # no row moving 배송완료 to 배송완료
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    exchanges = page[page.index('id="exchanges"'):]
    assert "<td>operator</td>" in exchanges[:exchanges.index("</table>")]


def test_return_steps_follow_the_returns_table(operator):
    order = _order(OrderStatus.DELIVERED)
    line = order.lines.get()
    operator.post(f"/console/orders/{order.number}/return/", {**REFUND_FORM, f"qty_{line.pk}": "1"})
    request = ReturnRequest.objects.get()
    # 반송완료 before 반송중 is refused
    page = operator.post(f"/console/returns/{request.pk}/complete/", follow=True).content.decode()
    assert "반송중 상태가 아닙니다." in page
    request.refresh_from_db()
    order.refresh_from_db()
    assert (request.status, order.status) == (ReturnStatus.REQUESTED, OrderStatus.RETURN_REQUESTED)
    assert not Refund.objects.exists()
    operator.post(f"/console/returns/{request.pk}/shipping/")
    # 반송중 twice is refused
    page = operator.post(f"/console/returns/{request.pk}/shipping/", follow=True).content.decode()
    assert "반품접수 상태가 아닙니다." in page
    operator.post(f"/console/returns/{request.pk}/complete/")
    request.refresh_from_db()
    assert request.status == ReturnStatus.RETURNED and request.refund is not None


def test_the_exchange_form_keeps_the_chosen_product_through_a_search_and_says_what_a_quote_lacks(operator):
    order = _order(OrderStatus.DELIVERED)
    line = order.lines.get()
    chosen = ProductFactory(price_won=40_000, name="교환용 코트")
    url = f"/console/orders/{order.number}/exchange/"
    # a search for something else keeps the product chosen, its quantity and the quote that goes with it
    page = operator.get(url, {f"qty_{line.pk}": "1", f"new_{chosen.code}": "1", "mileage_returned_won": "0",
                              "q": "어디에도 없는 상품", "action": "search"}).content.decode()
    assert f'name="new_{chosen.code}"' in page and "교환용 코트" in page
    row = page[page.index(f'name="new_{chosen.code}"'):]
    assert row[:row.index(">")].count('value="1"') == 1
    assert 'id="exchange-quote"' in page and "40,000원" in page
    # 금액 계산 with only one side filled says what is missing instead of showing the page again as it was
    page = operator.get(url, {f"qty_{line.pk}": "1", "mileage_returned_won": "0", "action": "quote"}).content.decode()
    assert "모두 입력한 뒤 금액 계산을 눌러 주세요" in page


def test_the_return_form_offers_no_quantity_box_for_a_line_given_back_in_full(operator):
    kept, gone = ProductFactory(price_won=5_000), ProductFactory(price_won=7_000)
    order = paid_order_for([(kept, 1), (gone, 2)], method=PaymentMethod.CARD)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED)
    order.lines.filter(product=gone).update(returned_quantity=2)
    page = operator.get(f"/console/orders/{order.number}/return/").content.decode()
    assert f'name="qty_{order.lines.get(product=kept).pk}"' in page
    assert f'name="qty_{order.lines.get(product=gone).pk}"' not in page and "반품할 수량 없음" in page
