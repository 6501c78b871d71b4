"""Exchanges (상품교환, §9, docs/policy.md L5): the new lines, 추가 결제예정 금액 or the refund, and the re-approval at
the provider with the L5 earn basis at the original rates. The quote itself is a read:
`selectors.exchange_quote`."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.idempotency import action_key
from mileage.policy.earn_choice import STORE
from mileage.services.transactions import live_mileage, mileage_repayment_request, payment_request
from portal.catalog.models import Product
from portal.orders.amounts import PricedLine, goods_of, product_lines
from portal.orders.models import Order, OrderLine, OrderStatus
from portal.orders.selectors import exchange_due_won

from .buyer_requests import buyer_requests_handled
from .common import ActionError, create_refund, lock_order, parse_lines
from .fulfilment import clean_carrier, clean_invoice_no, invoice_to_provider
from .models import BuyerRequestKind, Exchange, ProviderCall, RefundReason
from .selectors import exchange_fingerprint, exchange_quote, open_request


class ExchangeChanged(ActionError):
    """상품교환완료 of a quote that no longer stands: nothing changed."""


def exchange_complete(*, order: Order, old_lines: dict, new_products: list[tuple[Product, int]],
                      mileage_returned_won: int, by, now: datetime | None = None, seen: str | None = None) -> Exchange:
    """상품교환완료: the lines change, the provider re-approves with the L5 basis at the original rates. `seen`: the
    exchange_fingerprint of the quote the operator saw; when the inputs or the order changed since (a second tab, a
    double press) ExchangeChanged is raised and nothing changes."""
    with transaction.atomic():
        order = lock_order(order)
        now = now or timezone.now()  # taken once the lock is held: the history keeps the order of events
        if not Order.transitions.opens("exchange", order.status):
            raise ActionError(_("이 주문은 교환할 수 없습니다."))
        asked = open_request(order)  # read under the order's lock: a request filed meanwhile is seen
        if asked is not None and asked.kind != BuyerRequestKind.EXCHANGE:
            raise ActionError(_("구매자의 %(kind)s 신청이 있는 주문입니다. 그 신청을 처리하거나 반려한 뒤에 교환해 주세요.")
                              % {"kind": asked.get_kind_display()})
        chosen = parse_lines(order, old_lines, exchange=True)
        if not new_products or any(q < 1 for _p, q in new_products):
            raise ActionError(_("교환할 상품을 선택해 주세요."), "new_products")
        quote = exchange_quote(order=order, old_lines=chosen, new_products=new_products,
                               mileage_returned_won=mileage_returned_won)
        if seen is not None and seen != exchange_fingerprint(order, quote, old_lines=chosen, new_products=new_products,
                                                             mileage_returned_won=mileage_returned_won):
            raise ExchangeChanged(_("금액 계산 뒤에 교환 내용이나 주문이 바뀌었습니다. 아래 금액을 확인한 뒤 상품교환완료를 다시 "
                                    "눌러 주세요."))
        out = []
        for line_id, quantity in chosen.items():
            line = OrderLine.objects.select_for_update().get(pk=line_id)
            line.returned_quantity += quantity
            line.save(update_fields=["returned_quantity"])
            out.append(PricedLine(line.unit_price_won, quantity, line.is_excluded))
        exchange = Exchange.objects.create(
            order=order, old_lines={str(k): v for k, v in chosen.items()},
            new_lines=[{"code": p.code, "quantity": q} for p, q in new_products],
            mileage_returned_won=mileage_returned_won, additional_payment_won=quote.additional_payment_won,
            refund_won=quote.refund_won, earn_basis_won=quote.earn_basis_won, created_by=by,
            ships_with_order=order.status == OrderStatus.PAID)  # not shipped yet: the new goods go with the order
        for product, quantity in new_products:
            OrderLine.objects.create(order=order, product=product, product_code=product.code, product_name=product.name,
                                     category_path=product.category.path, unit_price_won=product.price_won,
                                     quantity=quantity, line_total_won=product.price_won * quantity,
                                     is_excluded=hasattr(product, "mileage_exclusion"), exchange=exchange)
        if quote.refund_won:
            # the way the order was paid, or 현금환불 when the PG cannot take this part (create_refund says why)
            create_refund(now, order=order, reason=RefundReason.EXCHANGE, cash_won=quote.refund_won,
                          provider_call=ProviderCall.NONE, created_by=by)
        mileage = live_mileage(order)
        if mileage is not None:
            request = payment_request(order, mileage, order_amount_won=quote.new_total_won + order.shipping_won,
                                      earn_base_won=0 if order.earn_choice == STORE else quote.earn_basis_won,
                                      use_won=quote.mileage_kept_won,
                                      with_req_tx_id=False)
            mileage_repayment_request(order=order, request=request, key=action_key("exchange", str(exchange.pk)), by=by)
        # The order's figures change by what the exchange changes: the lines given back leave the totals and the
        # new ones join them; the 추가 결제예정 금액 joins what the order costs (an earlier exchange's not paid yet is
        # replaced by this one's: the quote counted what was paid). The mileage used stays what the order used, as
        # with a return: what the exchange gave back of it is the exchange's (mileage_returned_won), which the
        # limits and every statement ("1,000원 반환") read. The money going back is the exchange's refund, never
        # taken off the figures too (refund_limits subtracts the refunds).
        gone = goods_of(out)
        came = goods_of(product_lines(new_products))
        order.goods_won += came.goods_won - gone.goods_won
        order.excluded_goods_won += came.excluded_goods_won - gone.excluded_goods_won
        order.payable_won += quote.additional_payment_won - exchange_due_won(order)
        order.save(update_fields=["goods_won", "excluded_goods_won", "payable_won"])
        buyer_requests_handled(order=order, by=by, kind=BuyerRequestKind.EXCHANGE)  # the buyer's 교환 신청, if open
    return exchange




def exchange_ship(*, exchange: Exchange, carrier: str, invoice_no: str, by) -> Exchange:
    """교환상품 배송: the exchange's new goods leave with their carrier and invoice number, once the exchange's
    추가입금 (if any) came in ("추가입금을 받으셔야만 배송이 가능합니다"); once. Until then the order is not
    confirmed (구매확정 waits for the goods). The provider gets the new goods' delivery invoice."""
    invoice_no, carrier = clean_invoice_no(invoice_no), clean_carrier(carrier)
    with transaction.atomic():
        order = lock_order(exchange.order_id)
        exchange = Exchange.objects.select_for_update().get(pk=exchange.pk)
        if not exchange.awaits_shipping:
            raise ActionError(_("이미 배송한 교환입니다."))
        if order.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):  # returned, cancelled, confirmed
            raise ActionError(_("이 주문은 교환상품을 배송할 수 없습니다 (처리상태: %(status)s).")
                              % {"status": order.get_status_display()})
        due = exchange_due_won(order)
        if due:
            raise ActionError(_("교환의 추가 결제예정 금액 %(amount)s원을 받은 뒤에 교환상품을 배송할 수 있습니다.")
                              % {"amount": f"{due:,}"})
        exchange.carrier, exchange.invoice_no = carrier.value, invoice_no
        exchange.shipped_at, exchange.shipped_by = timezone.now(), by
        exchange.save(update_fields=["carrier", "invoice_no", "shipped_at", "shipped_by"])
        # the new goods' delivery, on the txId the exchange's re-approval gave (calls of an order go in order)
        invoice_to_provider(order=order, carrier=carrier, invoice_no=invoice_no, by=by,
                            because=f"exchange-{exchange.pk}")
    return exchange
