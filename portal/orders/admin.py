"""The Django admin of orders, for superusers: read-only, since an order's status moves only through the services and
their state machine (ADR 0010), and without the buyer's personal data: the orderer masked in the list, the personal
fields left out of the detail (a buyer's data is seen on 주문상세정보, through 개인정보 보기 and the access log, ADR 0016).
It is also the baseline the order-queue benchmark compares against."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from portal.privacy import masked_name

from .models import Order

PERSONAL_FIELDS = ("orderer_name", "orderer_phone", "orderer_email", "recipient_name", "recipient_phone", "zipcode",
                   "address", "address_detail", "shipping_message", "depositor_name", "guest_password_hash")


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("placed_at", "orderer", "number", "goods_won", "payable_won", "payment_method", "status")
    exclude = PERSONAL_FIELDS
    list_filter = ("status", "payment_method", "placed_at")
    search_fields = ("number", "orderer_name", "depositor_name", "recipient_name", "orderer_phone")
    list_per_page = 50

    @admin.display(description=_("주문자"), ordering="orderer_name")
    def orderer(self, order: Order) -> str:
        return masked_name(order.orderer_name)
