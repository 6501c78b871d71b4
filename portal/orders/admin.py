"""The Django admin of orders, for superusers: read-only, since an order's status moves only through the services and
their state machine (ADR 0010). It is also the baseline the order-queue benchmark compares against."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Order


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("placed_at", "orderer_name", "number", "goods_won", "payable_won", "payment_method", "status")
    list_filter = ("status", "payment_method", "placed_at")
    search_fields = ("number", "orderer_name", "depositor_name", "recipient_name", "orderer_phone")
    list_per_page = 50
