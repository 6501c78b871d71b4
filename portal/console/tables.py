"""The console's tables: one BaseTable style, the order queue, the refund queue, the outbox queue."""

import functools
import hashlib

import django_tables2 as tables
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import EmptyPage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_tables2.columns.base import library
from django_tables2.paginators import LazyPaginator

from core.dates import DAY, MINUTE, SECOND, ymd_hm
from mileage.models import OutboxMessage, OutboxStatus
from mileage.templatetags.money import won
from portal.aftersales.models import Refund
from portal.orders.models import Order
from portal.parsing import int_or_none
from portal.privacy import masked_account, masked_name


class WonColumn(tables.Column):
    attrs = {"td": {"class": "won"}, "th": {"class": "text-end"}}

    def render(self, value):
        return won(value)


MAX_PAGE = 1_000_000
PAGE_SIZES = (10, 20, 50, 100)  # 리스트 표시수: the choices every console list offers


def page_size(raw, *, sizes=PAGE_SIZES, default: int = 50) -> int:
    """The rows per page a list shows for the query's `per_page`: one of `sizes`, else `default` (a missing,
    unknown, non-ASCII or huge value never reaches the paginator)."""
    size = int_or_none(raw if isinstance(raw, str) else "", max_value=max(sizes))
    return size if size in sizes else default


class BoundedPagingMixin:
    """django-tables2 reads `page` from the query with a bare int(): 10²⁵ would reach the database as an OFFSET it
    cannot take. An out-of-range or non-ASCII page is dropped before it looks (`per_page` is PageSizeMixin's)."""

    def bound_page(self) -> int:
        """The page asked for (1 if none); an unusable `page` is dropped from the query, for the links too."""
        query = self.request.GET
        if "page" not in query:
            return 1
        number = int_or_none(query["page"], min_value=1, max_value=MAX_PAGE)
        if number is None:
            query = query.copy()
            del query["page"]
            self.request.GET = query
        return number or 1

    def get_table(self, **kwargs):
        self.bound_page()
        return super().get_table(**kwargs)

    def shown_page(self, **kwargs):
        """The context and the page shown of a list whose rows a Jinja2 template writes (jinja_tables): sorted by a
        column, the Table sorts and pages it; as it opens or searched, the rows (`get_table_data()`) are paged in
        their own order as the Table pages them (LazyPaginator; past the end, the last page) without building it.
        Returns (context, the Table or None, page, paginator, the page's records)."""
        if self.table_class._meta.order_by_field in self.request.GET:
            context = super().get_context_data(**kwargs)
            table = context["table"]
            return context, table, table.page, table.paginator, [row.record for row in table.page.object_list]
        paginator = LazyPaginator(self.get_table_data(), self.kept_page_size())
        try:
            page = paginator.page(self.bound_page())
        except EmptyPage:
            page = paginator.page(paginator.num_pages)
        return {"view": self, **kwargs}, None, page, paginator, page.object_list


class PageSizeMixin:
    """리스트 표시수 of a django-tables2 list view: `per_page` read once by `page_size`, kept in the pagination
    links (they keep every query parameter) and handed to the template as `page_sizes` and `per_page` for
    console/includes/page_size.html."""

    page_sizes = PAGE_SIZES
    default_page_size = 50

    def page_size(self) -> int:
        return page_size(self.request.GET.get("per_page"), sizes=self.page_sizes, default=self.default_page_size)

    def get_table_pagination(self, table):
        return {"per_page": self.page_size(), "paginator_class": LazyPaginator}

    def kept_page_size(self) -> int:
        """page_size(), written back into the query where it was given otherwise (the links keep the query)."""
        size, query = self.page_size(), self.request.GET
        if "per_page" in query and query["per_page"] != str(size):
            query = query.copy()
            query["per_page"] = str(size)
            self.request.GET = query
        return size

    def get_table(self, **kwargs):
        # django-tables2 would read `per_page` again with a bare int(): it sees the value page_size chose.
        self.kept_page_size()
        return super().get_table(**kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "page_sizes": self.page_sizes, "per_page": self.page_size()}


@functools.cache
def rendering_version() -> str:
    """What the console's cached HTML was rendered with: a digest of the templates and the compiled translations this
    process runs (their contents, read once per process: the same on every node of a release). Part of every cached
    fragment's key, so that a deploy changing a label or the markup never serves the old HTML."""
    roots = [settings.BASE_DIR / "templates", settings.BASE_DIR / "jinja2", settings.BASE_DIR / "locale"]
    files = sorted(path for root in roots for pattern in ("*.html", "*.mo") for path in root.rglob(pattern))
    return hashlib.sha256(b"".join(hashlib.sha256(path.read_bytes()).digest() for path in files)).hexdigest()[:16]


class CachedSearchFormMixin:
    """A list's search form (its filter's widgets, 리스트 표시수 and buttons: `search_template`), rendered once per
    language, page size and distinct query — its widgets cost more than a page of rows — and kept in the cache (with
    the templates' and translations' version: a deploy renders it anew).
    `search_key_extra()`: what else the form shows that can change (the choices a model gives)."""

    search_template = ""
    search_cache_seconds = 3600

    def search_key_extra(self) -> str:
        return ""

    def search_form_html(self, filterset=None) -> str:
        params = sorted((k, v) for k, v in self.request.GET.items() if k in self.filterset_class.base_filters)
        per_page = self.page_size()
        key = "console:search:" + hashlib.sha256(
            f"{rendering_version()}|{self.search_template}|{get_language()}|{per_page}|{params}|"
            f"{self.search_key_extra()}".encode()).hexdigest()
        html = cache.get(key)
        if html is None:
            filterset = filterset or self.get_filterset(self.filterset_class)
            html = render_to_string(self.search_template, {
                "filter": filterset, "page_sizes": self.page_sizes, "per_page": per_page}, request=self.request)
            cache.set(key, html, self.search_cache_seconds)
        return mark_safe(html)  # rendered by our own template with autoescaping


@library.register  # also the column of a DateTimeField a table's Meta.fields names
class DateTimeColumn(tables.DateTimeColumn):
    """django-tables2's DateTimeColumn with its cell formatted in Python: the library compiles its
    `{{ value|date:"…"|default:default }}` template anew for every cell (a third of a fifty-row 환불관리's
    rendering). The same text: the value in the current time zone, formatted as the `date` filter formats it; an
    empty value shows the column's default, as the template's `|default:default` did."""

    empty_values = (None, "")  # the column's default, without a render

    def __init__(self, format=None, short=True, *args, **kwargs):
        super().__init__(format, short, *args, **kwargs)
        self.date_format = format or ("SHORT_DATETIME_FORMAT" if short else "DATETIME_FORMAT")

    def render(self, value):
        return date_format(template_localtime(value), self.date_format)


def status_column(verbose_name, template_name: str = "console/cells/status_badge.html") -> tables.TemplateColumn:
    """A status as a coloured badge (static/css/console.css colours each `status-<value>`)."""
    return tables.TemplateColumn(template_name=template_name, verbose_name=verbose_name, order_by="status")


class BaseTable(tables.Table):
    class Meta:
        attrs = {"class": "console-table table table-sm table-hover align-middle"}
        template_name = "console/table.html"
        empty_text = _("조건에 맞는 항목이 없습니다.")
        default = "-"  # an empty cell, the same on every console table


class OrderTable(BaseTable):
    placed_at = DateTimeColumn(verbose_name=_("주문일"), format=SECOND)
    orderer_name = tables.Column(verbose_name=_("주문자"))
    number = tables.Column(verbose_name=_("주문번호"))
    goods_won = WonColumn(verbose_name=_("총주문금액"))
    collected_won = WonColumn(verbose_name=_("실결제금액"))
    payment_method = tables.Column(verbose_name=_("결제수단"))
    status = tables.Column(verbose_name=_("처리상태"))

    class Meta(BaseTable.Meta):
        model = Order
        fields = ("placed_at", "orderer_name", "number", "goods_won", "collected_won", "payment_method", "status")
        empty_text = _("조건에 맞는 주문이 없습니다.")
        # Its columns give the headings and the ordering; the rows (plain values, portal/console/views.queue_rows)
        # are written by templates/console/includes/order_table.html.


class RefundTable(BaseTable):
    selection = tables.CheckBoxColumn(accessor="pk", attrs={
        "th__input": {"id": "select-all", "aria-label": _("전체 선택"), "class": "form-check-input"},
        # each box named by its refund, so that a screen reader tells the rows apart
        "td__input": {"aria-label": lambda record: _("%(number)s 선택") % {"number": record.number},
                      "class": "form-check-input"}})
    returned_at = DateTimeColumn(verbose_name=_("반송완료일"), format=DAY, default="-")
    order = tables.Column(verbose_name=_("주문번호"), accessor="order__number",
                          linkify=lambda record: reverse("console:order", args=[record.order.number]))
    number = tables.Column(verbose_name=_("환불정보"))
    # 환불금액: the money going back (payout_won), the figure 주문상세정보's 환불금액 adds up; the store points and the
    # mileage given back have their own columns
    total = WonColumn(verbose_name=_("환불금액"), accessor="cash_won", orderable=False)
    store_points_won = WonColumn(verbose_name=_("적립금 반환"))
    mileage_won = WonColumn(verbose_name=_("네이버 마일리지"))
    method = tables.TemplateColumn(template_name="console/cells/refund_method.html", verbose_name=_("환불방식"),
                                   order_by="method")
    bank = tables.Column(verbose_name=_("환불은행"))
    account_no = tables.Column(verbose_name=_("환불 계좌번호"))
    holder = tables.Column(verbose_name=_("예금주"))
    status = status_column(_("환불상태"), "console/cells/refund_status.html")  # with why the money did not move
    reason = tables.Column(verbose_name=_("사유"))

    class Meta(BaseTable.Meta):
        model = Refund
        fields = ("selection", "returned_at", "order", "number", "total", "store_points_won", "mileage_won", "method", "bank",
                  "account_no", "holder", "status", "reason")
        order_by = ("-created_at",)

    def render_total(self, record):
        return won(record.payout_won)

    def render_reason(self, record):
        return record.get_reason_display()

    def render_account_no(self, value):
        return masked_account(value)  # the payout reads the stored account, never this text

    def render_holder(self, value):
        return masked_name(value)


class OutboxTable(BaseTable):
    id = tables.Column(verbose_name=_("번호"))
    created_at = DateTimeColumn(verbose_name=_("요청 시각"), format=MINUTE)
    next_attempt_at = DateTimeColumn(verbose_name=_("다음 시도"), format=MINUTE)
    last_error = tables.Column(verbose_name=_("마지막 오류"), default="")
    status = status_column(_("상태"))
    retry = tables.TemplateColumn(template_name="console/outbox_retry.html", verbose_name="", orderable=False)

    class Meta(BaseTable.Meta):
        model = OutboxMessage
        fields = ("id", "kind", "order", "status", "attempts", "last_error", "created_at", "next_attempt_at")

    def render_kind(self, record):
        return record.get_kind_display()

    def render_next_attempt_at(self, record, value):
        """Only a call still to be sent has a next try; a failed one waits for an operator's 다시 보내기."""
        return ymd_hm(value) if record.status == OutboxStatus.PENDING else "—"


class InvoiceRowTable(BaseTable):
    """송장 일괄등록's preview: each row of the file as read, with its result."""

    row = tables.Column(verbose_name=_("행"), attrs={"td": {"class": "won"}, "th": {"class": "won"}})
    number = tables.TemplateColumn(template_name="console/cells/invoice_order.html", verbose_name=_("주문번호"))
    carrier_raw = tables.Column(verbose_name=_("택배사"))
    invoice_no = tables.Column(verbose_name=_("송장번호"))
    result = tables.TemplateColumn(template_name="console/cells/invoice_result.html", verbose_name=_("결과"))

    class Meta(BaseTable.Meta):
        orderable = False
        empty_text = _("표시할 행이 없습니다.")
        row_attrs = {"class": lambda record: "table-danger" if record["errors"] else ""}



class BulkFailureTable(BaseTable):
    """The orders a bulk action or an upload could not move, each with the reason."""

    number = tables.TemplateColumn(template_name="console/cells/order_link.html",  # "#id": an id naming no order
                                   verbose_name=_("주문번호"))
    status = tables.Column(verbose_name=_("처리상태"))
    reason = tables.Column(verbose_name=_("사유"))

    class Meta(BaseTable.Meta):
        orderable = False
        empty_text = _("실패한 주문이 없습니다.")
