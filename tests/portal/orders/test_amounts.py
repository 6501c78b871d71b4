"""portal/orders/amounts.py: the one builder of mileage.policy.OrderAmounts — priced lines in, the policy's
amounts out, the excluded goods (gift certificates, gold) summed the same way for a cart, an order and its
remainder."""

import pytest

from mileage.models.exclusions import Exclusion, ExclusionReason
from mileage.policy import earn_base
from mileage.shop import order_amounts
from portal.catalog.models import Product
from portal.orders.amounts import Goods, PricedLine, build_amounts, goods_of, kept_lines
from portal.orders.checkout import CartLine, quote
from tests.factories import ProductFactory, order_for


def test_given_priced_lines_when_summed_then_the_excluded_part_is_kept_apart():
    # given two of a 5,000원 product and one 10,000원 gift certificate
    lines = [PricedLine(5_000, 2, False), PricedLine(10_000, 1, True)]
    # when their goods are summed
    goods = goods_of(lines)
    # then the total includes the certificate and the excluded part is the certificate alone
    assert goods == Goods(goods_won=20_000, excluded_goods_won=10_000)


def test_given_the_goods_when_built_with_points_and_mileage_then_the_earn_base_leaves_out_what_earns_nothing():
    # given 20,000원 of goods of which 10,000원 excluded, 1,000원 of points, 500원 of mileage and 3,000원 shipping
    amounts = build_amounts(Goods(20_000, 10_000), store_points_won=1_000, mileage_use_won=500, shipping_won=3_000)
    # when the earn base is taken with the default rule (points subtracted, shipping not included)
    # then 20,000 − 10,000 − 500 − 1,000 = 8,500원, and the buyer pays 20,000 − 1,000 + 3,000 before mileage
    assert earn_base(amounts) == 8_500
    assert amounts.payable_won == 22_000


def test_given_more_excluded_than_goods_when_built_then_it_is_refused():
    # given goods whose excluded part is larger than the whole (a broken record)
    # when built, then the policy refuses it instead of computing a base from it
    with pytest.raises(ValueError):
        build_amounts(Goods(1_000, 2_000))


@pytest.mark.django_db
def test_given_an_order_with_a_return_when_its_kept_lines_are_priced_then_returned_and_quoted_units_drop_out():
    # given an order of three 5,000원 units and one 8,000원 excluded unit, one 5,000원 unit already returned
    regular, certificate = ProductFactory(price_won=5_000), ProductFactory(price_won=8_000)
    order = order_for([(regular, 3), (certificate, 1)])
    order.lines.filter(product=certificate).update(is_excluded=True)
    regular_line = order.lines.get(product=regular)
    regular_line.returned_quantity = 1
    regular_line.save()
    # when its kept lines are priced, and again with one more unit being exchanged
    kept = goods_of(kept_lines(order))
    quoted = goods_of(kept_lines(order, less={regular_line.pk: 1}))
    # then 2 × 5,000 + 8,000 is kept, and 5,000 less while one is quoted for exchange
    assert kept == Goods(18_000, 8_000)
    assert quoted == Goods(13_000, 8_000)


@pytest.mark.django_db
def test_given_an_order_when_its_amounts_are_built_then_they_are_its_recorded_totals():
    # given an order of two 5,000원 units that used 500원 of mileage
    order = order_for([(ProductFactory(price_won=5_000), 2)], mileage_use_won=500)
    # when its amounts are built
    amounts = order_amounts(order)
    # then they are the order's own columns
    assert (amounts.goods_won, amounts.excluded_goods_won, amounts.mileage_use_won) == (10_000, 0, 500)
    assert earn_base(amounts) == 9_500


@pytest.mark.django_db
def test_given_a_cart_with_an_excluded_product_when_quoted_then_the_earn_base_leaves_it_out():
    # given a cart of a 10,000원 product and a 5,000원 product excluded from the mileage
    regular, gold = ProductFactory(price_won=10_000), ProductFactory(price_won=5_000)
    Exclusion.objects.create(product=gold, reason=ExclusionReason.GOLD)
    gold = Product.objects.get(pk=gold.pk)
    # when the cart is quoted with 1,000원 of mileage at 1%
    priced = quote([CartLine(regular, 1), CartLine(gold, 1)], mileage_use_won=1_000, rate_x10=10)
    # then the goods count both, the base only the regular product less the use: 10,000 − 1,000
    assert (priced.goods_won, priced.excluded_goods_won) == (15_000, 5_000)
    assert priced.earn_base_won == 9_000
    assert priced.expected_earn_won == 90
