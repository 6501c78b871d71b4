"""배송전 취소 ends the whole order: the 적립금 it used goes back whole, as its Naver mileage does (no later refund or
cancel could return the rest). Less is refused with the amount to give, and nothing changes."""

import pytest
from django.contrib.auth.models import User

from portal.accounts.models import Member
from portal.aftersales.models import Refund
from portal.orders.models import Order, OrderStatus, PaymentMethod
from tests.factories import ProductFactory, paid_order_for
from tests.support.clients import operator_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return operator_client("op-points")


def test_a_whole_cancel_gives_back_every_won_of_the_store_points_it_used(operator):
    # given a member's card order of 20,000원 paid with 1,000원 of 적립금 (19,000원 on the card)
    member = Member.objects.create(user=User.objects.create_user("kim", password="x"), name="김영희")
    order = paid_order_for([(ProductFactory(price_won=20_000), 1)], method=PaymentMethod.CARD, member=member)
    Order.objects.filter(pk=order.pk).update(store_points_won=1_000, payable_won=19_000)
    form = {"cash_won": "19000", "store_points_won": "500", "mileage_won": "0", "shipping_deduction_won": "0",
            "method": "card"}
    # when the operator cancels it giving back 500원 of the 1,000원
    response = operator.post(f"/console/orders/{order.number}/cancel/", form)
    # then it is refused, saying what to give back, and nothing changes
    assert response.status_code == 400
    assert "주문시 사용한 적립금 1,000원을 그대로 반환해 주세요." in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID and not Refund.objects.exists()
    # and with the whole 1,000원 the cancel goes through, its refund carrying it
    assert operator.post(f"/console/orders/{order.number}/cancel/",
                         {**form, "store_points_won": "1000"}).status_code == 302
    assert Refund.objects.get(order=order).store_points_won == 1_000
