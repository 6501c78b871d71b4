"""가상계좌 deposits confirmed without an operator: PortOne's `Transaction.Paid` webhook for an order waiting for
its deposit is checked against the payment read back at PortOne (ours, KRW, its amount, PAID) and confirmed through
the operator's own 입금확인 (`order_confirm_deposit`: 결제완료, the payment 승인, `stated` to the provider). Under the
order's row lock, so a second webhook, the browser, an operator or the expiry sweep apply once whichever comes first.
"""

from django.db import transaction
from django.dispatch import receiver

from portal.orders.models import Order, OrderStatus, PaymentMethod
from portal.orders.money import virtual_account_paid
from portal.orders.signals import virtual_account_deposited

from .common import lock_order
from .fulfilment import order_confirm_deposit


def order_virtual_account_deposit(*, order: Order) -> str:
    """입금확인 of a 가상계좌 order whose payment the gateway says is paid; what was done, as a short text.
    GatewayUnavailable (nothing changed) when the gateway does not answer."""
    with transaction.atomic():
        locked = lock_order(order)
        if locked.payment_method != PaymentMethod.VIRTUAL_ACCOUNT:
            return "not a virtual account order"
        if locked.status != OrderStatus.AWAITING_DEPOSIT:
            return f"already recorded ({locked.status})"
        if not virtual_account_paid(order=locked):
            return "not paid at the gateway"
        order_confirm_deposit(order=locked, by=None, paid_at_gateway=True)
    return "deposit confirmed"


@receiver(virtual_account_deposited, dispatch_uid="aftersales.virtual_account_deposit")
def _on_deposit(sender, *, order: Order, **kwargs) -> str:
    return order_virtual_account_deposit(order=order)
