"""What the mileage app needs to know of the shop's order. The portal's `orders.Order` satisfies `ShopOrder`; the
mileage app refers to it by this protocol (and its models by the string "orders.Order"), so it imports nothing of
the portal (pyproject's import-linter contracts)."""

from typing import Protocol

from mileage.policy import OrderAmounts


class ShopOrder(Protocol):
    pk: int
    number: str
    member_id: int | None
    goods_won: int
    excluded_goods_won: int
    discount_won: int
    store_points_won: int
    shipping_won: int
    mileage_use_won: int
    earn_choice: str
    paid_at: object  # when the payment or the deposit was confirmed; None while unpaid

    @property
    def lines(self): ...  # the order's lines (product_code, product_name, unit_price_won, quantity, …)

    @property
    def paid_at_placement(self) -> bool:
        """Whether the order is paid when it is placed (card, transfer, phone), as opposed to a bank transfer that
        the buyer pays later (isConfirmed of docs/protocol.md §2)."""
        ...


def order_amounts(order: ShopOrder) -> OrderAmounts:
    """The order's recorded totals as the policy's amounts (the earn base is computed from these)."""
    return OrderAmounts(goods_won=order.goods_won, excluded_goods_won=order.excluded_goods_won,
                        discount_won=order.discount_won, store_points_won=order.store_points_won,
                        shipping_won=order.shipping_won, mileage_use_won=order.mileage_use_won)
