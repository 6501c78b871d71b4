"""Exchanges (상품교환, §9, POLICY L5): the new lines, 추가 결제예정 금액 or the refund, and the re-approval at the
provider with the L5 earn basis at the original rates."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mileage.models import MileageSettings
from mileage.policy import OrderAmounts, PolicyError, earn_base, exchange_earn_basis, exchange_outcome
from mileage.selectors import mileage_for_order
from mileage.services.transactions import mileage_repayment_request, payment_request
from portal.catalog.models import Product
from portal.orders.models import Order, OrderLine, OrderStatus, OrderStatusChange

from .models import Exchange, ProviderCall, RefundReason
from .services import ActionError, _create_refund, _lock, _mileage, _parse_lines


@dataclass(frozen=True)
class ExchangeQuote:
    new_total_won: int
    cash_paid_won: int
    additional_payment_won: int
    refund_won: int
    mileage_kept_won: int
    earn_basis_won: int


def exchange_quote(*, order: Order, old_lines: dict[int, int], new_products: list[tuple[Product, int]],
                   mileage_returned_won: int) -> ExchangeQuote:
    """§9: 추가 결제예정 금액 or the refund; the earn basis of L5."""
    kept_lines = sum(line.unit_price_won * (line.quantity - line.returned_quantity - old_lines.get(line.pk, 0))
                     for line in order.lines.all())
    new_goods = kept_lines + sum(p.price_won * q for p, q in new_products)
    excluded = sum(line.unit_price_won * (line.quantity - line.returned_quantity - old_lines.get(line.pk, 0))
                   for line in order.lines.all() if line.is_excluded)
    excluded += sum(p.price_won * q for p, q in new_products if hasattr(p, "mileage_exclusion"))
    mileage = mileage_for_order(order)
    used = mileage.use_remaining_won if mileage else 0
    try:
        outcome = exchange_outcome(new_total_won=new_goods + order.shipping_won - order.store_points_won,
                                   cash_paid_won=order.payable_won, mileage_used_won=used,
                                   mileage_returned_won=mileage_returned_won)
    except PolicyError as exc:
        raise ActionError(str(exc), "mileage_returned_won") from exc
    new_basis = earn_base(OrderAmounts(goods_won=new_goods, excluded_goods_won=excluded,
                                       store_points_won=min(order.store_points_won, new_goods),
                                       shipping_won=order.shipping_won, mileage_use_won=outcome.mileage_kept_won),
                          MileageSettings.load().earn_base_rule)
    basis = exchange_earn_basis(mileage.original_earn_base_won, new_basis) if mileage else 0
    return ExchangeQuote(new_total_won=new_goods, cash_paid_won=order.payable_won,
                         additional_payment_won=outcome.additional_payment_won, refund_won=outcome.refund_won,
                         mileage_kept_won=outcome.mileage_kept_won, earn_basis_won=basis)


def exchange_complete(*, order: Order, old_lines: dict, new_products: list[tuple[Product, int]],
                      mileage_returned_won: int, by, now: datetime | None = None) -> Exchange:
    """상품교환완료: the lines change, the provider re-approves with the L5 basis at the original rates."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _lock(order)
        if order.status not in (OrderStatus.DELIVERED, OrderStatus.PAID, OrderStatus.SHIPPED):
            raise ActionError(_("이 주문은 교환할 수 없습니다."))
        chosen = _parse_lines(order, old_lines)
        if not new_products or any(q < 1 for _p, q in new_products):
            raise ActionError(_("교환할 상품을 선택해 주세요."), "new_products")
        quote = exchange_quote(order=order, old_lines=chosen, new_products=new_products,
                               mileage_returned_won=mileage_returned_won)
        for line_id, quantity in chosen.items():
            line = OrderLine.objects.select_for_update().get(pk=line_id)
            line.returned_quantity += quantity
            line.save(update_fields=["returned_quantity"])
        for product, quantity in new_products:
            OrderLine.objects.create(order=order, product=product, product_code=product.code, product_name=product.name,
                                     category_path=product.category.path, unit_price_won=product.price_won,
                                     quantity=quantity, line_total_won=product.price_won * quantity,
                                     is_excluded=hasattr(product, "mileage_exclusion"))
        exchange = Exchange.objects.create(
            order=order, old_lines={str(k): v for k, v in chosen.items()},
            new_lines=[{"code": p.code, "quantity": q} for p, q in new_products],
            mileage_returned_won=mileage_returned_won, additional_payment_won=quote.additional_payment_won,
            refund_won=quote.refund_won, earn_basis_won=quote.earn_basis_won, created_by=by)
        if quote.refund_won:
            _create_refund(now, order=order, reason=RefundReason.EXCHANGE, cash_won=quote.refund_won,
                           provider_call=ProviderCall.NONE, created_by=by)
        mileage = _mileage(order)
        if mileage is not None:
            request = payment_request(order, mileage, order_amount_won=quote.new_total_won + order.shipping_won,
                                      earn_base_won=quote.earn_basis_won, use_won=quote.mileage_kept_won,
                                      with_req_tx_id=False)
            mileage_repayment_request(order=order, request=request, key=f"exchange:{exchange.pk}", by=by)
        order.goods_won = quote.new_total_won
        order.excluded_goods_won = sum(line.unit_price_won * (line.quantity - line.returned_quantity)
                                       for line in order.lines.all() if line.is_excluded)
        order.mileage_use_won = quote.mileage_kept_won
        order.payable_won = order.payable_won + quote.additional_payment_won - quote.refund_won
        order.save(update_fields=["goods_won", "excluded_goods_won", "mileage_use_won", "payable_won"])
        OrderStatusChange.objects.create(order=order, from_status=order.status, to_status=order.status,
                                         changed_by=by if by is not None and by.is_authenticated else None,
                                         changed_at=now, note="상품교환")
    return exchange


