"""`{% load dates %}`: the three ways a template writes a day or a moment (core/dates.py): `|ymd`, `|ymd_hm`,
`|ymd_hms`. Templates use these rather than `|date:"…"` with a pattern of their own."""

from django import template

from core import dates

register = template.Library()
register.filter("ymd", dates.ymd)
register.filter("ymd_hm", dates.ymd_hm)
register.filter("ymd_hms", dates.ymd_hms)
