from django.contrib import admin

from .models import Erasure


@admin.register(Erasure)
class ErasureAdmin(admin.ModelAdmin):
    """파기 기록: read only (the job writes it)."""

    list_display = ("order", "guest", "last_event_at", "retention_months", "erased_at")
    list_filter = ("guest",)
    search_fields = ("order__number",)
    date_hierarchy = "erased_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
