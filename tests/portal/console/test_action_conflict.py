"""A button on 주문상세정보 whose transaction the database broke off (a deadlock, a serialization failure) reads as
a message on the order's page, never as a 500: the transaction was rolled back whole."""

import pytest
from django.contrib.auth.models import Permission, User
from django.db import OperationalError
from django.test import Client

from portal.console import views
from portal.orders.models import Order, OrderStatus
from tests.factories import ProductFactory, paid_order_for

pytestmark = pytest.mark.django_db


def test_a_deadlocked_action_says_nothing_changed(monkeypatch):
    order = paid_order_for([(ProductFactory(), 1)])
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    user = User.objects.create_user("op-deadlock", password="x")
    user.user_permissions.add(Permission.objects.get(codename="operate_console"))
    client = Client()
    client.force_login(user)

    def deadlocked(**kwargs):
        raise OperationalError("deadlock detected")

    monkeypatch.setitem(views.ACTIONS, "deliver", (deadlocked, "배송완료 처리했습니다."))
    response = client.post(f"/console/orders/{order.number}/action/deliver/", follow=True)
    assert response.status_code == 200
    assert "다른 처리와 겹쳐 이 작업을 하지 못했습니다. 바뀐 것은 없습니다." in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
