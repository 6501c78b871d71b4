"""`{% load dates %}`: the three ways a template writes a day or a moment (core/dates.py): `|ymd`, `|ymd_hm`,
`|ymd_hms`. Templates use these rather than `|date:"…"` with a pattern of their own. `|minutes`: a length of time
(a timedelta) in whole minutes, rounded up."""

from django import template

from core import dates

register = template.Library()
register.filter("ymd", dates.ymd)
register.filter("ymd_hm", dates.ymd_hm)
register.filter("ymd_hms", dates.ymd_hms)


@register.filter
def minutes(length) -> int:
    return -(-int(length.total_seconds()) // 60) if length else 0
