"""The shop's data model, the status machine, the demo data and the home page."""

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from mileage.models import Exclusion, MileageSettings
from portal.catalog.models import Product
from portal.demo.shop import load_demo
from portal.orders.models import Order, OrderStatus, OrderStatusChange
from portal.orders.services import TransitionNotAllowed, next_order_number, order_set_status
from tests.factories import ProductFactory, UserFactory, order_for

pytestmark = pytest.mark.django_db


def test_demo_data_is_idempotent_and_matches_the_manual():
    load_demo()
    counts = (User.objects.count(), Product.objects.count(), Exclusion.objects.count())
    load_demo()
    assert (User.objects.count(), Product.objects.count(), Exclusion.objects.count()) == counts
    prices = dict(Product.objects.filter(name__startswith="샘플상품").values_list("name", "price_won"))
    assert prices == {f"샘플상품 {n}": 5_000 * n for n in range(1, 9)}
    assert Product.objects.get(name="스탠다드 5부 셔츠").price_won == 21_000
    assert set(Exclusion.objects.values_list("reason", flat=True)) == {"상품권", "금"}
    settings = MileageSettings.load()
    assert (settings.api_id, settings.hash_key) == ("1TWXDZ", "aaf23a53f426561f62e71139c5f27adfd67da711")
    assert User.objects.get(username="hong").member.name == "홍길동"
    assert User.objects.get(username="operator").has_perm("orders.operate_console")
    assert not User.objects.get(username="editor").has_perm("orders.operate_console")


def test_home_page_says_what_the_portal_is(client):
    load_demo()
    response = client.get("/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "네이버 마일리지 가맹점" in text and "500원" in text


def test_order_numbers_follow_the_manual():
    moment = timezone.datetime(2011, 8, 3, 14, 26, 59, tzinfo=timezone.get_current_timezone())
    assert next_order_number(moment) == "20110803-0000001"
    order_for([(ProductFactory(), 1)], number="20110803-0000015")
    assert next_order_number(moment) == "20110803-0000016"


def test_status_machine_records_who_and_when():
    operator = UserFactory()
    order = order_for([(ProductFactory(), 1)])
    order_set_status(order=order, to_status=OrderStatus.PAID, by=operator)
    order_set_status(order=order, to_status=OrderStatus.SHIPPED, by=operator)
    assert order.paid_at is not None
    history = list(OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status",
                                                                             "changed_by"))
    assert history == [("awaiting_deposit", "paid", operator.pk), ("paid", "shipped", operator.pk)]
    with pytest.raises(TransitionNotAllowed) as caught:
        order_set_status(order=order, to_status=OrderStatus.AWAITING_DEPOSIT, by=operator)
    assert "배송중" in str(caught.value)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


@pytest.mark.parametrize("field", ["goods_won", "mileage_use_won", "payable_won", "shipping_won"])
def test_money_never_negative(field):
    order = order_for([(ProductFactory(), 1)])
    setattr(order, field, -1)
    with pytest.raises(IntegrityError), transaction.atomic():
        order.save()


def test_excluded_goods_within_goods_and_price_non_negative():
    order = order_for([(ProductFactory(), 1)])
    order.excluded_goods_won = order.goods_won + 1
    with pytest.raises(IntegrityError), transaction.atomic():
        order.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(price_won=-5)


def test_guest_password_is_hashed():
    order = order_for([(ProductFactory(), 1)])
    order.set_guest_password("abcd1234")
    assert "abcd1234" not in order.guest_password_hash
    assert order.check_guest_password("abcd1234") and not order.check_guest_password("ABCD1234")


def test_mileage_settings_mask_the_key():
    settings = MileageSettings.load()
    settings.api_id, settings.hash_key = "1TWXDZ", "aaf23a53f426561f62e71139c5f27adfd67da711"
    assert settings.masked_hash_key.startswith("aaf2") and "f426561f" not in settings.masked_hash_key
    settings.hash_key = "xyz"
    from django.core.exceptions import ValidationError
    with pytest.raises(ValidationError):
        settings.full_clean()


def test_english_catalogue_is_compiled():
    from django.utils import translation

    with translation.override("en"):
        assert str(OrderStatus.PAID.label) == "Paid"
        assert str(OrderStatus.AWAITING_DEPOSIT.label) == "Awaiting deposit"
    with translation.override("ko"):
        assert str(OrderStatus.PAID.label) == "결제완료"
