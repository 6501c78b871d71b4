"""Change history (django-auditlog): the request's operator and address on every recorded change.

The address is the one the login throttle uses (portal/accounts/throttle.py): the connection's, or behind the
shop's own proxies the one they saw — never a client's own X-Forwarded-For."""

from dataclasses import dataclass

from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext as _

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


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryRow:
    entry: LogEntry
    changes: list[Change]


def _shown(field: models.Field | None, raw) -> str:
    """One stored value as the screen names it: 예/아니오 for a switch, a rate ×10 as a percentage, a choice by its
    label, nothing as '-'."""
    if raw in (None, "None", ""):
        return "-"
    if isinstance(field, models.BooleanField):
        return _("예") if str(raw) == "True" else _("아니오")
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(raw, raw))
    if field is not None and field.name.endswith("_x10") and str(raw).lstrip("-").isdigit():
        return f"{int(raw) / 10:g}%"
    return str(raw)


def _label(field: models.Field | None, name: str) -> str:
    if field is None:
        return name
    label = str(field.verbose_name)
    return label.replace("(×10)", "").strip() if field.name.endswith("_x10") else label


def history_rows(instance, limit: int = 20) -> list[HistoryRow]:
    """change_history as the 변경 이력 table shows it: each changed field by its label, its values as the screen
    names them (a masked secret as stored)."""
    return _rows(type(instance), change_history(instance, limit))


def histories(instances: list) -> dict[int, list[HistoryRow]]:
    """history_rows of several rows of one model in one query: {pk: rows, newest first}, rows without changes left
    out."""
    if not instances:
        return {}
    model = type(instances[0])
    entries = (LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model),
                                       object_pk__in=[str(i.pk) for i in instances])
               .select_related("actor").order_by("-timestamp"))
    by_pk: dict[str, list[LogEntry]] = {}
    for entry in entries:
        by_pk.setdefault(entry.object_pk, []).append(entry)
    return {i.pk: rows for i in instances if (rows := _rows(model, by_pk.get(str(i.pk), [])))}


def log_change(instance, changes: dict[str, tuple], *, by=None) -> None:
    """A change the services made by hand (not every save of the model is worth a history row): {field: (before,
    after)}, recorded as django-auditlog records any other, with the operator (`by`, else the request's) and the
    request's address."""
    changed = {name: [str(before), str(after)] for name, (before, after) in changes.items() if before != after}
    if changed:
        extra = {"actor": by} if by is not None and getattr(by, "is_authenticated", False) else {}
        LogEntry.objects.log_create(instance, force_log=True, action=LogEntry.Action.UPDATE, changes=changed, **extra)


def _rows(model, entries: list[LogEntry]) -> list[HistoryRow]:
    fields = {field.name: field for field in model._meta.get_fields() if isinstance(field, models.Field)}
    rows = []
    for entry in entries:
        changes = []
        for name, values in (entry.changes_dict or {}).items():
            field = fields.get(name)
            if field is not None and field.primary_key:  # the row's own id, set when it was created: no setting
                continue
            before, after = (list(values) + ["", ""])[:2]
            shown_before, shown_after = _shown(field, before), _shown(field, after)
            if shown_before == shown_after:  # None → "" when the row was created: nothing a reader would call a change
                continue
            changes.append(Change(_label(field, name), shown_before, shown_after))
        if changes:
            rows.append(HistoryRow(entry, changes))
    return rows
