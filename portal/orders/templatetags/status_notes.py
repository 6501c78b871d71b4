"""`{{ change.note|status_note }}`: a status change's note (kept in the shop's language, portal.orders.models
STATUS_CHANGE_NOTES) in the reader's; a note that carries a reference after its words ("PortOne 승인 pg-…") has its
words translated and the reference kept as it is."""

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def status_note(note: str) -> str:
    if not note:
        return ""
    translated = gettext(note)
    if translated != note:
        return translated
    words, _space, reference = note.rpartition(" ")
    if words and (said := gettext(words)) != words:
        return f"{said} {reference}"
    return note
