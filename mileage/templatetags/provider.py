"""`{{ event|provider_result }}`: a provider answer as the console reads it — its code and, for the protocol's
success codes, the portal's own word in the reader's language (the provider's message otherwise)."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

MEANINGS = {"1000": _("성공"), "1001": _("접수 (나중에 완료)"), "1002": _("접수 (나중에 완료)"),
            "3092": _("이미 처리됨")}


@register.filter
def provider_result(event) -> str:
    code = str(getattr(event, "result_code", "") or "")
    meaning = MEANINGS.get(code)
    message = str(meaning) if meaning is not None else str(getattr(event, "result_message", "") or "")
    return f"{code} {message}".strip()
