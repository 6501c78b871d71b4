import pytest
from django.contrib.auth.models import User
from django.test import Client

from portal.orders.models import Order
from tests.portal.storefront.conftest import GUEST, choose_mileage, shop  # noqa: F401  (the shop fixture)


@pytest.fixture
def operator(shop):  # noqa: F811
    client = Client()
    client.force_login(User.objects.get(username="operator"))
    return client


def place(shop, *, code="1", use=500, method="bank", quantity="1", extra=()):  # noqa: F811
    """A guest's order through the storefront with `use` of mileage; returns (order, buyer login)."""
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
    response = client.post("/shop/order/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    return Order.objects.order_by("-id").first(), buyer
