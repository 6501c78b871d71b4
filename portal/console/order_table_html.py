"""The order queue's table written out in Python: the markup of console/table.html (Bootstrap table, sortable
headings, the M badge, status badges, Korean pagination that keeps every other query parameter), without a
template node per cell.

The order queue is the console's busiest screen: a page of 50 orders through the template engine cost several
times the query that reads them. Here the labels, the link prefix and the query string are resolved once per
request, and each row is one f-string with every value escaped. The queue as it opens (no filter, no sort, any
page) does without the django-tables2 Table too (`plain_order_table_html`): its headings come from the
OrderTable's columns once per language, and the page from the same LazyPaginator.
"""

from html import escape as esc  # what django.utils.html.escape does, without its lazy-string wrapper
from urllib.parse import urlencode

from django.core.paginator import EmptyPage
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django_tables2.paginators import LazyPaginator
from django_tables2.templatetags.django_tables2 import table_page_range

from portal.aftersales.models import BuyerRequestKind
from portal.orders.models import OrderStatus, PaymentMethod
from portal.privacy import masked_name


def _querystring(params: dict, **updates) -> str:
    return escape("?" + urlencode({**params, **updates}, doseq=True))


_labels: dict[tuple[str, str], tuple[dict, dict, str]] = {}


def _labels_now() -> tuple[dict, dict, str]:
    """The statuses' and payment methods' labels (escaped) and the link prefix of 주문상세정보, per language."""
    key = (get_language(), get_script_prefix())
    found = _labels.get(key)
    if found is None:
        found = ({value: esc(str(label)) for value, label in OrderStatus.choices},
                 {value: esc(str(label)) for value, label in PaymentMethod.choices},
                 esc(reverse("console:order", args=["0"]).removesuffix("0/")))
        _labels[key] = found  # a few languages and prefixes: never more than a handful of entries
    return found


_request_badges: dict[str, dict[str, str]] = {}


def _request_badges_now() -> dict[str, str]:
    """The badge an open 취소/반품 신청 puts in the status cell, per kind, in the active language."""
    language = get_language()
    found = _request_badges.get(language)
    if found is None:
        found = _request_badges[language] = {
            kind: f' <span class="badge request-badge request-{esc(kind)}">{esc(_("%(kind)s 신청") % {"kind": label})}'
                  f'</span>' for kind, label in BuyerRequestKind.choices}
    return found


def _rows(orders) -> str:
    statuses, methods, prefix = _labels_now()
    requests = _request_badges_now()
    badge = '<span class="mileage-badge" title="네이버 마일리지">M</span> '
    tz = timezone.get_current_timezone()
    out = []
    select = esc(_("%(number)s 선택"))
    for o in orders:  # rows of OrderListView's TABLE_FIELDS, as dicts
        number, status, method = esc(o["number"]), esc(o["status"]), o["payment_method"]
        out.append(
            f'<tr><td class="select"><input type="checkbox" name="selection" value="{o["id"]}" '
            f'class="form-check-input" aria-label="{select % {"number": number}}"></td>'
            f'<td>{o["placed_at"].astimezone(tz):%Y-%m-%d %H:%M:%S}</td><td>{esc(masked_name(o["orderer_name"]))}</td>'
            f'<td><a href="{prefix}{number}/">{number}</a></td>'
            f'<td class="won">{o["goods_won"]:,}원</td><td class="won">{o["payable_won"]:,}원</td>'
            f'<td>{badge if o["uses_mileage"] else ""}{methods.get(method) or esc(method)}</td>'
            f'<td><span class="badge status-badge status-{status}">{statuses.get(o["status"], status)}</span>'
            f'{requests.get(o.get("buyer_request") or "", "")}</td></tr>')
    return "".join(out)


def _pagination(page, paginator, field: str, params: dict) -> str:
    if not page or paginator.num_pages <= 1:
        return ""
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


def _headings(table, params: dict) -> list[str]:
    headings = []
    for column in table.columns:
        th = column.attrs["th"].as_html()
        header = escape(column.header)
        if column.orderable:
            link = _querystring(params, **{table.prefixed_order_by_field: column.order_by_alias.next})
            header = f'<a href="{link}">{header}</a>'
        headings.append(f'<th {th} scope="col">{header}</th>')
    return headings


def _table_attributes(table) -> str:
    attrs = dict(table.attrs)
    attrs["class"] = " ".join(dict.fromkeys(["table", *attrs.get("class", "").split()]))
    return " ".join(f'{escape(k)}="{escape(v)}"' for k, v in attrs.items())


def _select_all() -> str:
    """The heading of the rows' checkboxes: ticks every row of the page (static/js/app.js)."""
    label = escape(_("이 페이지의 주문 전체 선택"))
    return (f'<th class="select" scope="col"><input type="checkbox" id="select-all" class="form-check-input" '
            f'aria-label="{label}"></th>')


def _table_html(attributes: str, headings: list[str], rows: str, pagination: str) -> SafeString:
    return mark_safe(  # every value is escaped by the callers
        f'<div class="table-container"><table {attributes}><thead><tr>{_select_all()}{"".join(headings)}</tr></thead>'
        f'<tbody>{rows}</tbody></table>{pagination}</div>')


def _empty_rows(rows: str, columns: int, empty_text) -> str:
    if not rows and empty_text:
        return f'<tr><td colspan="{columns}" class="text-center text-body-secondary py-4 empty">{escape(empty_text)}</td></tr>'
    return rows


def order_table_html(table, request) -> SafeString:
    params = dict(request.GET.lists())
    rows = _rows(row.record for row in (table.page.object_list if table.page else table.rows))
    return _table_html(_table_attributes(table), _headings(table, params),
                       _empty_rows(rows, len(table.columns) + 1, table.empty_text),
                       _pagination(table.page, table.paginator, table.prefixed_page_field, params))


class _Unsorted:
    """What the unsorted OrderTable's markup needs, per language: its attributes, its headings (written for an
    empty query, the query string put in per request), its page and sort parameters' names and its empty text."""

    _cache: dict[str, "_Unsorted"] = {}

    def __init__(self, table):
        self.attributes, self.columns, self.empty_text = _table_attributes(table), len(table.columns), table.empty_text
        self.page_field, self.sort_field = table.prefixed_page_field, table.prefixed_order_by_field
        self.headings = _headings(table, {})
        self.link = f'href="{_querystring({}, **{self.sort_field: ""})}'  # each sortable heading's link starts so

    @classmethod
    def of(cls, table_class) -> "_Unsorted":
        key = f"{table_class.__qualname__}|{get_language()}"
        found = cls._cache.get(key)
        if found is None:
            found = cls._cache[key] = cls(table_class([]))  # two threads may both build it: the same value
        return found

    def headings_for(self, params: dict) -> list[str]:
        # the sort parameter goes last, as _querystring puts an updated key that was not in the query yet
        rest = {k: v for k, v in params.items() if k != self.sort_field}
        link = f'href="{_querystring(rest, **{self.sort_field: ""})}'
        return [h.replace(self.link, link, 1) for h in self.headings]


def plain_order_table_html(table_class, queryset, request, *, per_page: int, page_number: int):
    """The unsorted order queue's page (no django-tables2 Table built): the same markup as `order_table_html`, and
    the page shown."""
    spec = _Unsorted.of(table_class)
    params = dict(request.GET.lists())
    paginator = LazyPaginator(queryset, per_page)
    try:
        page = paginator.page(page_number)
    except EmptyPage:
        page = paginator.page(paginator.num_pages)
    rows = _empty_rows(_rows(page.object_list), spec.columns + 1, spec.empty_text)
    return _table_html(spec.attributes, spec.headings_for(params), rows,
                       _pagination(page, paginator, spec.page_field, params)), page
