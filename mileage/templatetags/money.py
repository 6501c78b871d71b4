"""The one place amounts are formatted: `{{ amount|won }}` → "1,000원", `{{ deduction|won_minus }}` → "-1,000원",
`{{ rate_x10|rate }}` → "1.5"."""

from django import template
from django.utils.translation import gettext

from mileage import wire

register = template.Library()


@register.simple_tag
def won_format() -> str:
    """The money format of the active language, "%(amount)s원" or "%(amount)s won": for code that formats many amounts
    at once (the queue's rows) or hands the format to a script (the charts)."""
    return gettext("%(amount)s원")


@register.filter
def won(value) -> str:
    """"1,000원" in Korean, "1,000 won" in English (the one money format, in the reader's language)."""
    try:
        amount = int(value)
    except (TypeError, ValueError):
        return ""
    return won_format() % {"amount": f"{amount:,}"}


@register.filter
def won_minus(value) -> str:
    """An amount taken off (a cancellation, a discount), its minus sign before the money format ("-1,000원",
    "-1,000 won"); 0 stays "0원" ("0 won")."""
    try:
        amount = abs(int(value))
    except (TypeError, ValueError):
        return ""
    return f"-{won(amount)}" if amount else won(0)


@register.filter
def rate(value) -> str:
    try:
        return wire.rate_to_wire(int(value))
    except (TypeError, ValueError):
        return ""


@register.filter
def label(labels: dict, value) -> str:
    """`{{ labels|label:value }}`: a choice's label from a dict resolved once per request."""
    return labels.get(value, value)
