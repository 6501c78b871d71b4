import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from portal.aftersales.models import ReturnRequest
from portal.orders.checkout import payment_window_used
from portal.orders.models import Order
from tests.portal.storefront.conftest import GUEST, choose_mileage, shop  # noqa: F401  (the shop fixture)
from tests.portone_process import PortOneEmulator, paid_in_window


@pytest.fixture
def operator(shop):  # noqa: F811
    client = Client()
    client.force_login(User.objects.get(username="operator"))
    return client


def place(shop, *, code="1", use=500, method="bank", quantity="1", extra=()):  # noqa: F811
    """A guest's order through the storefront with `use` of mileage, paid as the shop's gateway takes it (with
    PortOne, in its window); returns (order, buyer login)."""
    buyer = shop.new_buyer(15_500)
    client = Client()
    client.post("/shop/cart/add/", {"code": code, "quantity": quantity})
    for other in extra:
        client.post("/shop/cart/add/", {"code": other, "quantity": "1"})
    client.get("/shop/order/")
    if use is not None:
        choose_mileage(client, shop, buyer, use)
    data = {**GUEST, "payment_method": method}
    if method != "bank":
        data["card_number"] = "4111111111111111"
    if payment_window_used(method):  # the shop is on PortOne: 결제하기 opens its window, the buyer pays there
        window = PortOneEmulator(settings.PORTONE_API_BASE, None)
        data["payment_id"], data["payment_token"] = paid_in_window(window, client, data)
    response = client.post("/shop/order/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    return Order.objects.order_by("-id").first(), buyer


def cancelled_keeping_the_charge(operator, order) -> None:
    """주문취소 after payment recording only the mileage's return (no money in the refund): the whole charge is
    then money no refund covers, which 결제취소 on 주문상세정보 gives back."""
    response = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "0", "store_points_won": "0", "mileage_won": str(order.mileage_use_won),
        "shipping_deduction_won": "0", "method": "cash"})
    assert response.status_code == 302, response.content.decode()[-1500:]


def delivered(operator, order, invoice_no: str = "1") -> None:
    """배송 (CJ대한통운, `invoice_no`) then 배송완료, pressed on the order's detail as an operator does."""
    for action in ("ship", "deliver"):
        operator.post(f"/console/orders/{order.number}/action/{action}/", {"carrier": "cj", "invoice_no": invoice_no})


def returned(operator, order, fields: dict) -> ReturnRequest:
    """반품접수 with the return form's `fields`, then 반송중 and 반송완료, pressed as an operator does: the return
    (its refund waits 환불전)."""
    response = operator.post(f"/console/orders/{order.number}/return/", fields)
    assert response.status_code == 302, response.content.decode()[-1500:]
    request = ReturnRequest.objects.get(order=order)
    operator.post(f"/console/returns/{request.pk}/shipping/")
    operator.post(f"/console/returns/{request.pk}/complete/")
    return request
