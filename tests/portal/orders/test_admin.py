"""The Django admin shows orders to superusers but cannot move them: status changes go through the services."""

import pytest
from django.contrib.auth.models import User

from portal.orders.models import Order, OrderStatus
from tests.factories import ProductFactory, order_for

pytestmark = pytest.mark.django_db


def test_given_a_superuser_when_they_post_a_new_status_in_the_django_admin_then_the_order_is_unchanged(client):
    order = order_for([(ProductFactory(), 1)])  # 입금전
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-root-1234"))
    assert client.get("/django-admin/orders/order/").status_code == 200
    assert order.number in client.get("/django-admin/orders/order/").content.decode()
    response = client.post(f"/django-admin/orders/order/{order.pk}/change/", {"status": OrderStatus.PAID})
    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_DEPOSIT
