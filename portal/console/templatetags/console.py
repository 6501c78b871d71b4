"""`{% console_sidebar %}` and `{% console_breadcrumb %}`: the menu of portal/console/menu.py, no query."""

from django import template
from django.template.base import render_value_in_context
from django.template.loader import render_to_string
from django.templatetags.l10n import localize, unlocalize
from django.urls import get_script_prefix, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django_tables2.utils import signature

from portal.console.menu import MENU, MENU_PERMISSIONS, locate
from portal.orders.banks import BANK_NAMES
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


def _has_callable(attrs) -> bool:
    return any(callable(v) or (isinstance(v, dict) and _has_callable(v)) for v in attrs.values())


class _CellWriter:
    """One column's cells for one rendering: what BoundRow.get_cell and `{{ column.attrs.td.as_html }}` give (the
    value or the column's default, get_FOO_display for a choice, render_<name> or the column's render, its link),
    with the render function's signature read once per column instead of once per cell, and the `<td>` attributes
    computed once when none of them depends on the row."""

    def __init__(self, table, column):
        self.column = column
        self.args, self.catch_all = signature(column.render)
        attrs = {**table.attrs, **column.column.attrs}
        self.td_html = None if _has_callable(attrs.get("td", attrs.get("cell", {}))) else column.attrs["td"].as_html()

    def render(self, row, value=None):
        kwargs = row._optional_cell_arguments(self.column, value)
        if self.catch_all:
            content = self.column.render(**kwargs)
        elif all(arg in kwargs for arg in self.args):
            content = self.column.render(**{arg: kwargs[arg] for arg in self.args})
        else:
            content = None
        return self.column.link(content, **kwargs) if self.column.link else content

    def cell(self, row):
        column = self.column
        value = row._get_and_render_with(column, render_func=lambda _column, *value: self.render(row, *value),
                                         default=column.default)
        column.current_value, column.current_record = value, row.record  # as BoundRow.items() leaves them
        td_html = self.td_html if self.td_html is not None else column.attrs["td"].as_html()
        return value, td_html


@register.simple_tag(takes_context=True)
def console_tbody(context, table):
    """The <tbody> of django_tables2/bootstrap5.html written in Python for every console table (console/table.html):
    the same cells (_CellWriter), `<tr>`/`<td>` attributes, escaping and localisation as `{{ cell }}`, `|localize`
    and `|unlocalize`, the same empty row; without the template's per-cell lookups and the per-cell signature
    reading, which cost more than the cells (a fifty-row page of 예외상품설정: 34 ms → 19 ms).
    tests/portal/console/test_table_body.py holds it to the library's own template."""
    tbody = table.attrs.get("tbody") if hasattr(table.attrs, "get") else None
    parts = [f"<tbody {tbody.as_html() if hasattr(tbody, 'as_html') else ''}>"]
    writers = [_CellWriter(table, column) for column in table.columns]
    for row in table.paginated_rows:
        parts.append(f"<tr {row.attrs.as_html()}>")
        for writer in writers:
            column = writer.column
            cell, td_html = writer.cell(row)
            if column.localize is None:
                text = render_value_in_context(cell, context)
            else:
                text = render_value_in_context(localize(cell) if column.localize else unlocalize(cell), context)
            parts.append(f"<td {td_html}>{text}</td>")
        parts.append("</tr>")
    if not parts[1:] and table.empty_text:
        parts.append(f'<tr><td colspan="{len(table.columns)}">{conditional_escape(table.empty_text)}</td></tr>')
    parts.append("</tbody>")
    return mark_safe("".join(parts))  # every value escaped above, as the template's autoescaping would


@register.filter
def buyer_text(text: str, revealed: bool = False) -> str:
    """A buyer's free text (신청 사유) with its phone numbers, e-mails and account numbers masked, or in full after a
    logged 개인정보 보기 (pass the detail's `contact.revealed`)."""
    return text if revealed else masked_free_text(text)


@register.simple_tag
def refund_banks() -> list[str]:
    """The banks' names a 현금환불's 환불은행 offers to pick from (portal/orders/banks.py)."""
    return sorted(BANK_NAMES.values())
