"""`{% console_sidebar %}` and `{% console_breadcrumb %}`: the menu of portal/console/menu.py, no query."""

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from portal.console.menu import MENU, MENU_PERMISSIONS, locate
from portal.privacy import masked_free_text

register = template.Library()


def _url_name(context) -> str:
    match = getattr(context.get("request"), "resolver_match", None)
    return f"{match.namespace}:{match.url_name}" if match else ""


# the menu is code: one rendering per screen, language, prefix and the menu permissions the person holds
_sidebars: dict[tuple[str, str, str, frozenset[str]], str] = {}


@register.simple_tag(takes_context=True)
def console_sidebar(context):
    current = _url_name(context)
    user = getattr(context.get("request"), "user", None)
    held = frozenset(perm for perm in MENU_PERMISSIONS if user is not None and user.has_perm(perm))
    key = (current, get_language() or "", get_script_prefix(), held)
    html = _sidebars.get(key)
    if html is None:
        _group, active = locate(current)
        groups = [{"crumbs": group.crumbs, "items": items} for group in MENU if (items := [
            {"url": reverse(item.url_name), "title": item.title, "active": item is active}
            for item in group.items if item.permission is None or item.permission in held])]
        html = _sidebars[key] = render_to_string("console/includes/sidebar.html", {"groups": groups})
    return mark_safe(html)  # rendered by our template with autoescaping


@register.inclusion_tag("includes/breadcrumb.html", takes_context=True)
def console_breadcrumb(context, *extra):
    group, item = locate(_url_name(context))
    crumbs = []
    if group is not None:
        crumbs = [(name, None) for name in group.crumbs if name != item.title]
        crumbs.append((item.title, reverse(item.url_name)))
    crumbs += [(name, None) for name in extra if name]
    return {"crumbs": crumbs}


@register.filter
def bs_widget(field):
    """A bound field's widget with Bootstrap's small control classes (the search grids label the cell themselves)."""
    input_type = getattr(field.field.widget, "input_type", "")
    if input_type == "select" or field.field.widget.__class__.__name__.endswith("Select"):
        css = "form-select form-select-sm"
    elif input_type in ("checkbox", "radio"):
        css = "form-check-input"
    else:
        css = "form-control form-control-sm"
    return field.as_widget(attrs={"class": css})


@register.filter
def buyer_text(text: str, revealed: bool = False) -> str:
    """A buyer's free text (신청 사유) with its phone numbers, e-mails and account numbers masked, or in full after a
    logged 개인정보 보기 (pass the detail's `contact.revealed`)."""
    return text if revealed else masked_free_text(text)
