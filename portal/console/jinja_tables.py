"""The console's busiest tables (주문조회, 예외상품설정) through Jinja2: a django-tables2 Table gives the headings, the
sorting and the paging; the page's rows are read as plain values and written by a Jinja2 template extending
jinja2/console/table.html (the markup of console/table.html), which compiles to Python — the library's per-cell
template lookups cost more than the rows' SQL on a page of fifty."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar
from urllib.parse import urlencode

from django.template import engines
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django_tables2.templatetags.django_tables2 import table_page_range
from django_tables2.utils import AttributeDict

T = TypeVar("T")


class JinjaTableSpec:
    """What a Table class gives its Jinja2 template, per language and script prefix: the table's attributes, its
    columns' headings (text, `<th>` attributes, the sort a click asks for) and its empty text. A column named in
    `selection` is the select box, written by the template itself."""

    _cache: ClassVar[dict[tuple[str, str, str, str], "JinjaTableSpec"]] = {}

    def __init__(self, table, selection: str = ""):
        attrs = dict(table.attrs)
        attrs["class"] = " ".join(dict.fromkeys(["table", *attrs.get("class", "").split()]))
        self.attrs = AttributeDict(attrs).as_html()
        self.selection = selection
        self.columns, self.empty_text = len(table.columns), table.empty_text
        self.sort_field = table.prefixed_order_by_field
        self.headings = [(str(column.header), column.attrs["th"].as_html(),
                          column.order_by_alias.next if column.orderable else None)
                         for column in self.shown(table)]

    def shown(self, table) -> list:
        return [column for column in table.columns if column.name != self.selection]

    @classmethod
    def of(cls, table_class, selection: str = "") -> "JinjaTableSpec":
        key = (f"{table_class.__module__}.{table_class.__qualname__}", selection, get_language() or "",
               get_script_prefix())
        found = cls._cache.get(key)
        if found is None:
            found = cls._cache[key] = cls(table_class([]), selection)  # two threads may build it: the same value
        return found

    def headings_for(self, request, table) -> list[dict]:
        """The headings with their sort links, keeping the rest of the query (the sort parameter last). A sorted
        table's columns know their class (the sorted one asc/desc) and next sort themselves; without a table (a page
        read without one) the spec's."""
        rest = [(k, v) for k, values in request.GET.lists() if k != self.sort_field for v in values]
        headings = []
        columns = self.shown(table) if table is not None else [None] * len(self.headings)
        for (header, attrs, next_sort), column in zip(self.headings, columns, strict=True):
            if column is not None:  # the sorted column's heading says so (asc/desc: console.css's ▲/▼)
                attrs = column.attrs["th"].as_html()
                next_sort = column.order_by_alias.next if column.orderable else None
            link = "?" + urlencode([*rest, (self.sort_field, next_sort)]) if next_sort is not None else None
            headings.append({"header": header, "attrs": attrs, "link": link})
        return headings


def page_links(request, page, paginator) -> list[dict]:
    """The pagination's items (이전, the page numbers with … gaps, 다음), each link keeping the rest of the query as
    `{% querystring page=n %}` does."""
    if not page or paginator.num_pages <= 1:
        return []

    def link(number) -> str:
        query = request.GET.copy()
        query["page"] = number
        return "?" + query.urlencode()

    items = [{"kind": "previous", "link": link(page.previous_page_number()) if page.has_previous() else None}]
    for number in table_page_range(page, paginator):
        if number == "...":
            items.append({"kind": "gap"})
        elif number == page.number:
            items.append({"kind": "current", "number": number})
        else:
            items.append({"kind": "page", "number": number, "link": link(number)})
    items.append({"kind": "next", "link": link(page.next_page_number()) if page.has_next() else None})
    return items


@dataclass(frozen=True)
class TableWords:
    """The frame's labels in one language, translated once per process."""

    pages: str
    previous: str
    next: str

    _by_language: ClassVar[dict[str, "TableWords"]] = {}

    @classmethod
    def now(cls) -> "TableWords":
        return per_language(cls._by_language, lambda: cls(pages=_("페이지 이동"), previous=_("이전"), next=_("다음")))


def per_language(memo: dict, build: Callable[[], T]) -> T:
    """`build()` in the active language, built once per language and kept in `memo` (a handful of languages: two
    threads may both build one, the same value)."""
    language = get_language() or ""
    found = memo.get(language)
    if found is None:
        found = memo[language] = build()
    return found


def render_table(template: str, *, spec: JinjaTableSpec, request, table, page, paginator, rows, select_all: str = "",
                 **context) -> SafeString:
    """`template` (a Jinja2 template extending console/table.html) with the page's `rows` and the frame around
    them; `select_all`: the select-all box's label, when the table has a selection column. `context`: what the
    rows' markup needs besides (labels, link prefixes)."""
    html = engines["jinja2"].get_template(template).render({
        "rows": rows, "headings": spec.headings_for(request, table), "table_attrs": spec.attrs,
        "column_count": spec.columns + (1 if select_all and not spec.selection else 0),
        "empty_text": spec.empty_text, "select_all": select_all, "labels": TableWords.now(),
        "pages": page_links(request, page, paginator), **context})
    return mark_safe(html)  # autoescaped by Jinja2
