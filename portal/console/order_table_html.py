"""The order queue's table written out in Python: the markup of console/table.html (Bootstrap table, sortable headings, the M badge, status badges, Korean pagination that keeps every other
query parameter), without a template node per cell.

The order queue is the console's busiest screen: a page of 50 orders through the template engine cost several
times the query that reads them. Here the labels, the link prefix and the query string are resolved once per
request, and each row is one f-string with every value escaped.
"""

from html import escape as esc  # what django.utils.html.escape does, without its lazy-string wrapper
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django_tables2.templatetags.django_tables2 import table_page_range

from portal.orders.models import OrderStatus, PaymentMethod


def _querystring(params: dict, **updates) -> str:
    return escape("?" + urlencode({**params, **updates}, doseq=True))


def _rows(orders) -> str:
    statuses = {value: esc(str(label)) for value, label in OrderStatus.choices}
    methods = {value: esc(str(label)) for value, label in PaymentMethod.choices}
    prefix = esc(reverse("console:order", args=["0"]).removesuffix("0/"))
    badge = '<span class="mileage-badge" title="네이버 마일리지">M</span> '
    tz = timezone.get_current_timezone()
    out = []
    for o in orders:  # rows of OrderListView's TABLE_FIELDS, as dicts
        number, status, method = esc(o["number"]), esc(o["status"]), o["payment_method"]
        out.append(
            f'<tr><td>{o["placed_at"].astimezone(tz):%Y-%m-%d %H:%M:%S}</td><td>{esc(o["orderer_name"])}</td>'
            f'<td><a href="{prefix}{number}/">{number}</a></td>'
            f'<td class="won">{o["goods_won"]:,}원</td><td class="won">{o["payable_won"]:,}원</td>'
            f'<td>{badge if o["uses_mileage"] else ""}{methods.get(method) or esc(method)}</td>'
            f'<td><span class="badge status-badge status-{status}">{statuses.get(o["status"], status)}</span></td></tr>')
    return "".join(out)


def _pagination(table, params: dict) -> str:
    page, paginator = table.page, table.paginator
    if not page or paginator.num_pages <= 1:
        return ""
    field = table.prefixed_page_field
    previous, following = escape(_("이전")), escape(_("다음"))
    items = []
    if page.has_previous():
        items.append(f'<li class="page-item previous"><a class="page-link" href="'
                     f'{_querystring(params, **{field: page.previous_page_number()})}">&lsaquo; {previous}</a></li>')
    else:
        items.append(f'<li class="page-item previous disabled"><span class="page-link">&lsaquo; {previous}</span></li>')
    for p in table_page_range(page, paginator):
        if p == "...":
            items.append('<li class="page-item disabled"><span class="page-link">…</span></li>')
        elif p == page.number:
            items.append(f'<li class="page-item active" aria-current="page"><span class="page-link">{p}</span></li>')
        else:
            items.append(f'<li class="page-item"><a class="page-link" href="{_querystring(params, **{field: p})}">'
                         f'{p}</a></li>')
    if page.has_next():
        items.append(f'<li class="page-item next"><a class="page-link" href="'
                     f'{_querystring(params, **{field: page.next_page_number()})}">{following} &rsaquo;</a></li>')
    else:
        items.append(f'<li class="page-item next disabled"><span class="page-link">{following} &rsaquo;</span></li>')
    return (f'<nav aria-label="{escape(_("페이지 이동"))}" class="table-pagination">'
            f'<ul class="pagination pagination-sm justify-content-center">{"".join(items)}</ul></nav>')


def order_table_html(table, request) -> SafeString:
    params = dict(request.GET.lists())
    headings = []
    for column in table.columns:
        th = column.attrs["th"].as_html()
        header = escape(column.header)
        if column.orderable:
            link = _querystring(params, **{table.prefixed_order_by_field: column.order_by_alias.next})
            header = f'<a href="{link}">{header}</a>'
        headings.append(f'<th {th} scope="col">{header}</th>')
    rows = _rows(row.record for row in (table.page.object_list if table.page else table.rows))
    if not rows and table.empty_text:
        rows = f'<tr><td colspan="{len(table.columns)}">{escape(table.empty_text)}</td></tr>'
    attrs = dict(table.attrs)
    attrs["class"] = " ".join(dict.fromkeys(["table", *attrs.get("class", "").split()]))
    attributes = " ".join(f'{escape(k)}="{escape(v)}"' for k, v in attrs.items())
    return mark_safe(  # every value above is escaped
        f'<div class="table-container"><table {attributes}><thead><tr>{"".join(headings)}</tr></thead>'
        f'<tbody>{rows}</tbody></table>{_pagination(table, params)}</div>')
