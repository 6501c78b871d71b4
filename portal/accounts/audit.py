"""Change history (django-auditlog): the request's operator and address on every recorded change.

The address is the one the login throttle uses (portal/accounts/throttle.py): the connection's, or behind the
shop's own proxies the one they saw — never a client's own X-Forwarded-For."""

from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from .throttle import client_address


class AuditMiddleware(AuditlogMiddleware):
    @staticmethod
    def _get_remote_addr(request):
        return client_address(request) or None


def change_history(instance, limit: int = 20) -> list[LogEntry]:
    """The latest recorded changes of one row, newest first, with their operators."""
    content_type = ContentType.objects.get_for_model(type(instance))
    return list(LogEntry.objects.filter(content_type=content_type, object_pk=str(instance.pk))
                .select_related("actor").order_by("-timestamp")[:limit])
