"""`{% earn_status order mileage as earn %}` then `{% include "includes/earn_status.html" %}`: the order's Naver
Mileage earn as every statement shows it (portal/orders/earn.py). Without `mileage` (or with a variable the
context lacks) the transaction is read from `order.mileage`. `{% payment_way order payment %}`: how the order was
paid, as every statement writes it."""

from django import template
from django.utils.translation import gettext

from mileage.models import MileageTransaction
from portal.orders import earn
from portal.orders.models import OrderStatus

register = template.Library()


@register.simple_tag
def earn_status(order, mileage="") -> earn.EarnStatus | None:
    if not order:
        return None
    if mileage is None or isinstance(mileage, MileageTransaction):
        return earn.earn_status(order, mileage)
    return earn.earn_status(order)


@register.simple_tag
def payment_way(order, payment=None) -> str:
    """The way the order was paid (with the gateway, when the statement has the payment), or that the mileage and
    the 적립금 paid it whole, no gateway taking anything (a card order of 0원 was never a card payment)."""
    if order.payable_won == 0 and order.status != OrderStatus.AWAITING_DEPOSIT:
        return gettext("네이버 마일리지와 적립금으로 모두 결제 (결제대행사 결제 없음)")
    way = order.get_payment_method_display()
    gateway = getattr(payment, "gateway", "")
    return f"{way} ({payment.gateway_label})" if gateway else way
