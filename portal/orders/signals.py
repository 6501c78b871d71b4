"""What portal.orders tells the layers above it, which it may not import (portal.aftersales keeps the order's way
after placement)."""

from django.dispatch import Signal

# A verified PortOne `Transaction.Paid` webhook for a 가상계좌 order (sent with `order`): the receiver confirms the
# deposit when PortOne says the payment is paid, and answers what it did (a short text the webhook row keeps). It
# raises GatewayUnavailable when PortOne does not answer: the webhook is then answered non-2xx and sent again.
virtual_account_deposited = Signal()
