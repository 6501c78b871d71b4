"""The 개인정보 보호책임자's screen: the access log, filtered by who, action, dates and order number, and its
CSV/XLSX export (after a 다운로드 사유, itself one 다운로드 record)."""

import django_filters as filters
import django_tables2 as tables
from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.dates import ymd_hms
from portal.accesslog.models import AccessAction, AccessRecord
from portal.accesslog.services import shown

from .downloads import ExportMixin
from .exports import export_response
from .filters import DayRangeForm, SearchFilter
from .tables import BaseTable, BoundedPagingMixin, PageSizeMixin

OVERSEE_PERMISSION = "accesslog.oversee_access_log"


class AccessLogSearchForm(DayRangeForm):
    day_range = ("since", "until")


class AccessRecordFilter(filters.FilterSet):
    actor = SearchFilter(label=_("처리자"), field_name="actor_name", lookup_expr="icontains")
    action = filters.ChoiceFilter(label=_("수행업무"), choices=AccessAction.choices, empty_label=_("전체"))
    since = filters.DateFilter(label=_("시작일"), field_name="at", lookup_expr="date__gte",
                               widget=forms.DateInput(attrs={"type": "date"}))
    until = filters.DateFilter(label=_("종료일"), field_name="at", lookup_expr="date__lte",
                               widget=forms.DateInput(attrs={"type": "date"}))
    order = SearchFilter(label=_("주문번호"), method="filter_order")

    class Meta:
        model = AccessRecord
        fields: list[str] = []
        form = AccessLogSearchForm

    def filter_order(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(targets__icontains=f'"{value}"') if value else queryset


class AccessRecordTable(BaseTable):
    seq = tables.Column(verbose_name=_("순번"))
    at = tables.Column(verbose_name=_("일시"))
    actor_name = tables.Column(verbose_name=_("처리자"))
    address = tables.Column(verbose_name=_("접속지 주소"))
    action = tables.Column(verbose_name=_("수행업무"))
    targets = tables.Column(verbose_name=_("대상"), orderable=False)
    count = tables.Column(verbose_name=_("건수"))
    reason = tables.Column(verbose_name=_("사유"))

    class Meta(BaseTable.Meta):
        model = AccessRecord
        fields = ("seq", "at", "actor_name", "address", "action", "targets", "count", "reason")

    def render_at(self, value):
        return ymd_hms(value)

    def render_targets(self, value):
        return ", ".join(shown(target) for target in value[:10]) + (" …" if len(value) > 10 else "")

    def render_reason(self, value):
        return shown(value)


class AccessLogView(LoginRequiredMixin, PermissionRequiredMixin, ExportMixin, BoundedPagingMixin, PageSizeMixin,
                    SingleTableMixin, FilterView):
    permission_required = OVERSEE_PERMISSION
    template_name = "console/access_log.html"
    table_class = AccessRecordTable
    filterset_class = AccessRecordFilter

    def get_queryset(self):
        return AccessRecord.objects.order_by("-seq")

    def export_title(self, kind: str) -> str:
        return gettext("접속기록 %(kind)s") % {"kind": kind.upper()}

    def export_build(self, records, kind: str):
        return export_access_log(records.order_by("-seq")[:EXPORT_MAX], kind)


EXPORT_MAX = 100_000
EXPORT_COLUMNS = [_("순번"), _("일시"), _("처리자"), _("접속지 주소"), _("수행업무"), _("대상"), _("건수"), _("사유"),
                  "prev_hash", "hash"]


def export_access_log(records, kind: str):
    """The filtered log as CSV/XLSX with each record's hashes (a copy kept elsewhere can be checked against the
    chain); the record of the export names no orders, only how many records it holds."""
    labels = dict(AccessAction.choices)
    rows = [[r.seq, ymd_hms(r.at), r.actor_name, r.address, str(labels.get(r.action, r.action)),
             ", ".join(shown(target) for target in r.targets), r.count, shown(r.reason), r.prev_hash, r.hash] for r in records.iterator(chunk_size=2000)]
    response = export_response([EXPORT_COLUMNS, *rows], kind=kind, filename="access-log", sheet=gettext("접속기록"))
    return response, [], len(rows)
