"""The outbox queue for operators (Django admin): failed provider calls, with a retry button."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin

from .models import MileageEvent, OutboxMessage, OutboxStatus
from .services.erasure import masked_invoice_payload
from .services.transactions import outbox_retry_by_hand as retry_by_hand


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "order", "status", "attempts", "next_attempt_at", "last_error", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("idempotency_key", "order__number")
    # the payload as sent, with the invoice recipient masked as everywhere in the back office (issue 25)
    exclude = ("payload",)
    readonly_fields = [f.name for f in OutboxMessage._meta.fields if f.name != "payload"] + ["payload_masked"]
    actions = ["retry"]

    @admin.display(description=_("전송 내용"))
    def payload_masked(self, message: OutboxMessage) -> str:
        shown = json.dumps(masked_invoice_payload(message.payload), ensure_ascii=False, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", shown)

    @admin.action(description=_("다시 보내기"))
    def retry(self, request, queryset):
        for message in queryset.filter(status=OutboxStatus.FAILED):
            result = retry_by_hand(message.pk)
            level = messages.SUCCESS if result and result.status == OutboxStatus.SENT else messages.ERROR
            self.message_user(request, f"{message.idempotency_key}: {result.status if result else '-'}", level)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MileageEvent)
class MileageEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "transaction", "kind", "tx_id", "new_tx_id", "use_won", "earn_won", "result_code")
    readonly_fields = [f.name for f in MileageEvent._meta.fields]
