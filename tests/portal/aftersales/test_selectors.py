"""portal/aftersales/selectors.py: what may still be refunded, what is left of an order after its returns, and an
exchange's quote (§9, docs/policy.md L5) — the reads the console shows and the actions check."""

import pytest

from mileage.models import MileageTransaction
from mileage.models.ledger import TransactionState
from portal.aftersales.cancellations import order_cancel_after_payment
from portal.aftersales.common import ActionError, RefundInput, parse_lines, validate_refund
from portal.aftersales.models import Refund, RefundReason, RefundStatus
from portal.aftersales.selectors import exchange_quote, refund_limits, remaining_amounts
from portal.orders.models import Order, OrderStatus, PaymentMethod
from tests.factories import ProductFactory, paid_order_for


def _paid(products, *, mileage_use_won=0, original_earn_base_won=None) -> Order:
    """A paid card order; with mileage, its approved transaction at the provider."""
    order = paid_order_for(products, method=PaymentMethod.CARD, mileage_use_won=mileage_use_won)
    if mileage_use_won:
        base = order.goods_won - mileage_use_won if original_earn_base_won is None else original_earn_base_won
        MileageTransaction.objects.create(order=order, req_tx_id=f"R{order.pk}", tx_id=f"T{order.pk}",
                                          state=TransactionState.APPROVED, base_rate_x10=10, use_won=mileage_use_won,
                                          earn_base_won=base, original_earn_base_won=base)
    return Order.objects.get(pk=order.pk)


@pytest.mark.django_db
def test_given_a_partial_refund_waiting_when_limits_are_read_then_they_are_what_was_paid_less_it():
    # given 10,000원 of goods paid 9,500원 + 500원 of mileage, and a refund of 3,000원 + 200원 mileage waiting
    order = _paid([(ProductFactory(), 2)], mileage_use_won=500)
    Refund.objects.create(number="C20261128-0000001", order=order, reason=RefundReason.RETURN, cash_won=3_000,
                          mileage_won=200)
    # when the limits are read
    limits = refund_limits(order)
    # then the waiting refund already counts
    assert limits == {"cash": 6_500, "points": 0, "mileage": 300}


@pytest.mark.django_db
def test_given_the_limits_when_a_cancellation_asks_for_more_cash_then_it_is_refused_at_the_limit():
    # given a paid 5,000원 order
    order = _paid([(ProductFactory(), 1)])
    # when 배송전 취소 asks for 5,001원
    with pytest.raises(ActionError) as refused:
        order_cancel_after_payment(order=order, by=None, data=RefundInput(cash_won=5_001, store_points_won=0,
                                                                          mileage_won=0))
    # then the field and the limit are named, and nothing changed
    assert refused.value.field == "cash_won"
    assert "5,000" in refused.value.message
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_given_one_of_two_lines_returned_when_the_remainder_is_read_then_only_the_kept_goods_count():
    # given two products (5,000원 and 8,000원) with the second returned and a done refund of 1,000원 of points
    first, second = ProductFactory(price_won=5_000), ProductFactory(price_won=8_000)
    order = _paid([(first, 1), (second, 1)])
    Order.objects.filter(pk=order.pk).update(store_points_won=3_000, shipping_won=2_500)
    order.lines.filter(product=second).update(returned_quantity=1)
    Refund.objects.create(number="C20261128-0000001", order=order, reason=RefundReason.RETURN, store_points_won=1_000,
                          status=RefundStatus.DONE)
    order.refresh_from_db()
    # when what remains is read
    remaining = remaining_amounts(order)
    # then the goods are the kept line, the points what was not given back, and the shipping stays
    assert (remaining.goods_won, remaining.store_points_won, remaining.shipping_won) == (5_000, 2_000, 2_500)
    # and a cancelled order has nothing left
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)
    assert remaining_amounts(Order.objects.get(pk=order.pk)) is None


@pytest.mark.django_db
def test_given_the_manuals_example_when_exchanged_for_30000_with_the_use_returned_then_25500_is_due():
    # given 5,000원 paid 4,500원 + 500원 mileage (earn basis 4,500원)
    order = _paid([(ProductFactory(price_won=5_000), 1)], mileage_use_won=500)
    dearer = ProductFactory(price_won=30_000)
    # when its line is quoted for a 30,000원 product with the 500원 returned
    quote = exchange_quote(order=order, old_lines={order.lines.get().pk: 1}, new_products=[(dearer, 1)],
                           mileage_returned_won=500)
    # then 추가 결제예정 금액 is 30,000 − 4,500 = 25,500원 and the earn basis keeps the original 4,500원 (L5)
    assert quote.additional_payment_won == 25_500
    assert quote.refund_won == 0
    assert quote.mileage_kept_won == 0
    assert quote.new_total_won == 30_000
    assert quote.earn_basis_won == 4_500


@pytest.mark.django_db
def test_given_a_line_returned_before_when_the_rest_is_exchanged_for_a_dearer_one_then_the_basis_is_what_was_left():
    # given 5,000원 + 10,000원 paid 14,000원 + 1,000원 of mileage (basis 14,000원), the 5,000원 line returned and
    # refunded, its re-approval sent with the basis left: 10,000 − 1,000 = 9,000원
    first, second = ProductFactory(price_won=5_000), ProductFactory(price_won=10_000)
    order = _paid([(first, 1), (second, 1)], mileage_use_won=1_000)
    order.lines.filter(product=first).update(returned_quantity=1)
    Refund.objects.create(number="C20261128-0000001", order=order, reason=RefundReason.RETURN, cash_won=5_000,
                          status=RefundStatus.DONE)
    MileageTransaction.objects.filter(order=order).update(earn_base_won=9_000)
    order.refresh_from_db()
    # when the 10,000원 line is quoted for a 30,000원 product with the 1,000원 of mileage returned
    quote = exchange_quote(order=order, old_lines={order.lines.get(product=second).pk: 1},
                           new_products=[(ProductFactory(price_won=30_000), 1)], mileage_returned_won=1_000)
    # then the basis stays what the order earned on before the exchange (L5), never the returned goods' 14,000원
    assert quote.earn_basis_won == 9_000
    assert (quote.additional_payment_won, quote.refund_won) == (21_000, 0)


@pytest.mark.django_db
def test_given_a_cheaper_product_when_quoted_then_the_difference_is_refunded_and_the_lower_basis_used():
    # given two of a 5,000원 product paid 9,500원 + 500원 mileage
    order = _paid([(ProductFactory(price_won=5_000), 2)], mileage_use_won=500)
    cheaper = ProductFactory(price_won=2_000)
    # when one of them is quoted for a 2,000원 product, keeping the mileage
    quote = exchange_quote(order=order, old_lines={order.lines.get().pk: 1}, new_products=[(cheaper, 1)],
                           mileage_returned_won=0)
    # then 7,000 − 9,500 − 500 = −3,000: 3,000원 goes back, and the basis falls to 7,000 − 500 = 6,500원
    assert (quote.additional_payment_won, quote.refund_won, quote.mileage_kept_won) == (0, 3_000, 500)
    assert quote.earn_basis_won == 6_500


@pytest.mark.django_db
def test_given_more_mileage_returned_than_used_when_quoted_then_the_field_is_named():
    # given an order that used 500원 of mileage
    order = _paid([(ProductFactory(price_won=5_000), 1)], mileage_use_won=500)
    # when an exchange is quoted returning 600원
    with pytest.raises(ActionError) as refused:
        exchange_quote(order=order, old_lines={order.lines.get().pk: 1},
                       new_products=[(ProductFactory(price_won=6_000), 1)], mileage_returned_won=600)
    # then the mileage field carries the error
    assert refused.value.field == "mileage_returned_won"


@pytest.mark.django_db
def test_a_shipping_deduction_above_the_money_paid_back_says_what_it_is_taken_from():
    # given a paid 10,000원 order (9,500원 + 500원 of mileage), cancelled with 3,000원 of cash and the 500원 mileage
    order = _paid([(ProductFactory(), 2)], mileage_use_won=500)
    # when 3,200원 of 배송비 is asked (below the 3,500원 total, above the 3,000원 of cash it comes off)
    with pytest.raises(ActionError) as refused:
        validate_refund(order, RefundInput(cash_won=3_000, store_points_won=0, mileage_won=500,
                                           shipping_deduction_won=3_200))
    # then the sentence names the cash it is taken from, on the field
    assert refused.value.field == "shipping_deduction_won"
    assert refused.value.message == ("배송비는 돌려드릴 현금/카드결제액 3,000원에서 차감하므로 그보다 많이 입력할 수 "
                                     "없습니다.")


@pytest.mark.django_db
def test_a_line_taken_meanwhile_is_said_to_be_taken_not_short():
    # given an order whose only line was exchanged (in another tab) while this form was open
    product = ProductFactory(name="샘플상품 4")
    order = _paid([(product, 1)])
    line = order.lines.get()
    order.lines.update(returned_quantity=1)
    # when the same exchange is posted again
    with pytest.raises(ActionError) as refused:
        parse_lines(Order.objects.get(pk=order.pk), {line.pk: "1"}, exchange=True)
    # then it says the goods were handled already
    assert refused.value.message.startswith("샘플상품 4: 이미 모두 교환 또는 반품 처리된 상품입니다.")
