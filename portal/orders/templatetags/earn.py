"""`{% earn_status order mileage as earn %}` then `{% include "includes/earn_status.html" %}`: the order's Naver
Mileage earn as every statement shows it (portal/orders/earn.py). Without `mileage` (or with a variable the
context lacks) the transaction is read from `order.mileage`."""

from django import template

from mileage.models import MileageTransaction
from portal.orders import earn

register = template.Library()


@register.simple_tag
def earn_status(order, mileage="") -> earn.EarnStatus | None:
    if not order:
        return None
    if mileage is None or isinstance(mileage, MileageTransaction):
        return earn.earn_status(order, mileage)
    return earn.earn_status(order)
