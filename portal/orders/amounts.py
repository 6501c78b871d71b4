"""The portal's one builder of `mileage.policy.OrderAmounts`: priced lines in, the policy's amounts out.

The checkout's quote, what is left of an order after returns and an exchange's new order
all go through `build_amounts`, so the goods total and its excluded part (gift certificates, gold) are summed the
same way everywhere: unit price × quantity, integer won. An order as recorded becomes amounts through
`mileage.shop.order_amounts` (its stored totals)."""

from collections.abc import Iterable
from typing import NamedTuple

from mileage.policy import OrderAmounts, max_use_amount

from .models import Order


class PricedLine(NamedTuple):
    unit_price_won: int
    quantity: int
    excluded: bool


class Goods(NamedTuple):
    goods_won: int
    excluded_goods_won: int


def goods_of(lines: Iterable[PricedLine]) -> Goods:
    """The goods total and the part of it excluded from the mileage (E2)."""
    goods = excluded = 0
    for line in lines:
        total = line.unit_price_won * line.quantity
        goods += total
        if line.excluded:
            excluded += total
    return Goods(goods, excluded)


def kept_lines(order: Order, *, less: dict[int, int] | None = None) -> list[PricedLine]:
    """The order's lines at the quantity it still keeps: bought − returned (− `less`, by line id, for an exchange
    being quoted)."""
    less = less or {}
    return [PricedLine(line.unit_price_won, line.quantity - line.returned_quantity - less.get(line.pk, 0),
                       line.is_excluded) for line in order.lines.all()]


def product_lines(products: Iterable[tuple]) -> list[PricedLine]:
    """(product, quantity) pairs — the products an exchange brings in — as priced lines at today's price."""
    return [PricedLine(product.price_won, quantity, hasattr(product, "mileage_exclusion"))
            for product, quantity in products]


def mileage_may_pay_won(goods: Goods, *, shipping_won: int, store_points_won: int) -> int:
    """U2 for the goods an order keeps (after an exchange or a return): the most its mileage may pay, the store
    points taken off first (never more than the goods), 상품권 and 골드 left out."""
    payable = goods.goods_won + shipping_won - min(store_points_won, goods.goods_won)
    return max_use_amount(payable, goods.excluded_goods_won)


def build_amounts(goods: Goods, *, store_points_won: int = 0, shipping_won: int = 0, mileage_use_won: int = 0,
                  discount_won: int = 0) -> OrderAmounts:
    return OrderAmounts(goods_won=goods.goods_won, excluded_goods_won=goods.excluded_goods_won,
                        discount_won=discount_won, store_points_won=store_points_won, shipping_won=shipping_won,
                        mileage_use_won=mileage_use_won)

