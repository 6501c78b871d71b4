"""The project's one way of writing a day or a moment, on every screen, statement and export, in every language:
2026-12-04 (a day), 2026-12-04 18:37 (a moment), 2026-12-04 18:37:58 (a moment where the order of events matters:
histories, logs, the order queue and its exports). Moments are written in business time (TIME_ZONE, Asia/Seoul)
whatever the server's clock; `core.templatetags.dates` gives templates the same three as filters."""

from datetime import date, datetime

from django.utils import timezone

DAY, MINUTE, SECOND = "Y-m-d", "Y-m-d H:i", "Y-m-d H:i:s"  # Django's date format (django-tables2's columns)
_STRFTIME = {DAY: "%Y-%m-%d", MINUTE: "%Y-%m-%d %H:%M", SECOND: "%Y-%m-%d %H:%M:%S"}  # the same, digits only


def _written(value: date | datetime | None, pattern: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value, timezone.get_default_timezone())
    return value.strftime(_STRFTIME[pattern])


def ymd(value: date | datetime | None) -> str:
    """2026-12-04 (empty for no value)."""
    return _written(value, DAY)


def ymd_hm(value: datetime | None) -> str:
    """2026-12-04 18:37 in business time (empty for no value)."""
    return _written(value, MINUTE)


def ymd_hms(value: datetime | None) -> str:
    """2026-12-04 18:37:58 in business time (empty for no value)."""
    return _written(value, SECOND)
