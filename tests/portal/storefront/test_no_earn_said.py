"""An order placed without pressing 적립/사용 earns no Naver Mileage: My Page and the order detail say 적립 없음, as the
order's e-mail does, instead of saying nothing of the earn."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from portal.accounts.models import Member
from tests.factories import ProductFactory, paid_order_for
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db


def test_an_order_without_the_mileage_says_it_earns_none_on_every_buyer_screen():
    load_demo()
    hong = Member.objects.get(user__username="hong")
    order = paid_order_for([(ProductFactory(price_won=5_000), 1)], member=hong)
    client = Client()
    client.force_login(User.objects.get(username="hong"))
    for url in ("/shop/mypage/", f"/shop/orders/{order.number}/"):
        page = client.get(url).content.decode()
        assert 'data-earn="none">적립 없음</span>' in page, url
