"""Factories for the shop's data, in one place."""

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from portal.accounts.models import Member
from portal.catalog.models import Category, Product
from portal.orders.models import Order, OrderLine, OrderStatus, PaymentMethod


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = "대분류 1"
    slug = "cat-1"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"샘플상품 {n}")
    category = factory.SubFactory(CategoryFactory)
    price_won = 5_000
    manufacturer = "샘플"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)
    name = "홍길동"
    phone = "010-0000-0000"


def order_for(products: list[tuple[Product, int]], *, method=PaymentMethod.BANK_TRANSFER, member=None,
              mileage_use_won: int = 0, number: str | None = None) -> Order:
    """An order with its lines; amounts follow the lines (no discount, no shipping)."""
    from portal.orders.services import save_with_number

    goods = sum(p.price_won * q for p, q in products)
    excluded = sum(p.price_won * q for p, q in products if hasattr(p, "mileage_exclusion"))
    order = Order(member=member, payment_method=method, orderer_name="홍길동", orderer_phone="010-0000-0000",
                  recipient_name="홍길동", recipient_phone="010-0000-0000", address="서울 동작구 신대방2동",
                  goods_won=goods, excluded_goods_won=excluded, mileage_use_won=mileage_use_won,
                  payable_won=goods - mileage_use_won, placed_at=timezone.now())
    if number:
        order.number = number
        order.save()
    else:
        save_with_number(order)
    for product, qty in products:
        OrderLine.objects.create(order=order, product=product, product_code=product.code, product_name=product.name,
                                 category_path=product.category.path, unit_price_won=product.price_won,
                                 quantity=qty, line_total_won=product.price_won * qty,
                                 is_excluded=hasattr(product, "mileage_exclusion"))
    return order


def paid_order_for(products: list[tuple[Product, int]], **kwargs) -> Order:
    """`order_for`, paid (결제완료): its payment taken through the money's owner (a charged card, a confirmed
    deposit), so that what may be refunded is what the shop took."""
    from django.db import transaction

    from portal.orders.money import payment_charged, payment_open

    order = order_for(products, **kwargs)
    with transaction.atomic():
        payment_open(order=order, method=order.payment_method, amount_won=order.payable_won)
        payment_charged(order=order, tid=f"TID{order.pk}")
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)
    return Order.objects.get(pk=order.pk)
