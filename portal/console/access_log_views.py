"""The 개인정보 보호책임자's screen: the access log, filtered by who, action, dates and order number."""

import django_filters as filters
import django_tables2 as tables
from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.utils.translation import gettext_lazy as _
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.dates import ymd_hms
from portal.accesslog.models import AccessAction, AccessRecord

from .tables import BaseTable, BoundedPagingMixin

OVERSEE_PERMISSION = "accesslog.oversee_access_log"


class AccessRecordFilter(filters.FilterSet):
    actor = filters.CharFilter(label=_("처리자"), field_name="actor_name", lookup_expr="icontains")
    action = filters.ChoiceFilter(label=_("수행업무"), choices=AccessAction.choices, empty_label=_("전체"))
    since = filters.DateFilter(label=_("시작일"), field_name="at", lookup_expr="date__gte",
                               widget=forms.DateInput(attrs={"type": "date"}))
    until = filters.DateFilter(label=_("종료일"), field_name="at", lookup_expr="date__lte",
                               widget=forms.DateInput(attrs={"type": "date"}))
    order = filters.CharFilter(label=_("주문번호"), method="filter_order")

    class Meta:
        model = AccessRecord
        fields: list[str] = []

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
        return ", ".join(value[:10]) + (" …" if len(value) > 10 else "")


class AccessLogView(LoginRequiredMixin, PermissionRequiredMixin, BoundedPagingMixin, SingleTableMixin, FilterView):
    permission_required = OVERSEE_PERMISSION
    template_name = "console/access_log.html"
    table_class = AccessRecordTable
    filterset_class = AccessRecordFilter
    table_pagination = {"per_page": 50}

    def get_queryset(self):
        return AccessRecord.objects.order_by("-seq")
