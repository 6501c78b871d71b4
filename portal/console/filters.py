"""Filters of the console's lists (django-filter). Every filter is backed by an index."""

from datetime import timedelta

import django_filters as filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from mileage.models import OutboxMessage, OutboxStatus
from mileage.models.outbox import OutboxKind
from mileage.policy.constants import BUSINESS_TZ
from portal.aftersales.models import (
    BuyerRequest,
    BuyerRequestKind,
    BuyerRequestStatus,
    Refund,
    RefundMethod,
    RefundStatus,
)
from portal.orders.models import Order, OrderLine, OrderStatus, PaymentMethod
from portal.parsing import dashed_phone

# the longest search term a list takes: a name, a number, a product's name with room to spare (a longer one is
# refused with the form's message, never sent to the database)
SEARCH_MAX_LENGTH = 100


class SearchFilter(filters.CharFilter):
    """A text search of a console list: at most SEARCH_MAX_LENGTH characters."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", SEARCH_MAX_LENGTH)
        super().__init__(*args, **kwargs)


PERIODS = [("today", _("오늘날짜")), ("3d", _("3일")), ("7d", _("일주일")), ("30d", _("한달"))]
PERIOD_DAYS = {"today": 0, "3d": 2, "7d": 6, "30d": 29}
MILEAGE = "mileage"


def _period_start(value: str):
    today = timezone.now().astimezone(BUSINESS_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=PERIOD_DAYS[value])


# 2026-11-01, 2026.11.01, 2026/11/01 or 20261101: the ways an operator types a day
DAY_FORMATS = ["%Y-%m-%d", "%Y.%m.%d", "%Y/%m/%d", "%Y%m%d"]
DAY_INPUT = {"placeholder": "YYYY-MM-DD", "inputmode": "numeric"}


def day_filter(label, field_name: str, lookup_expr: str) -> filters.DateFilter:
    return filters.DateFilter(label=label, field_name=field_name, lookup_expr=lookup_expr, input_formats=DAY_FORMATS,
                              widget=forms.DateInput(attrs=DAY_INPUT),
                              error_messages={"invalid": _("날짜를 2026-11-01 처럼 입력해 주세요.")})


def phone_prefixes(value: str) -> list[str]:
    """What a typed phone number matches: as typed, and a number typed in digits alone (01012345678) also as the
    shop stores it (010-1234-5678)."""
    digits = "".join(c for c in value if c.isdigit())
    prefixes = [value.strip()]
    if digits == value.strip() and len(digits) >= 4:
        prefixes.append(dashed_phone(digits))
    return prefixes


class DayRangeForm(forms.Form):
    """A list's search form whose period (`day_range`: its first and last day's fields) must not end before it
    starts: such a search would find nothing and say nothing."""

    day_range = ("", "")

    def clean(self):
        data = super().clean()
        first, last = (data.get(name) for name in self.day_range)
        if first and last and first > last:
            self.add_error(self.day_range[1], _("종료일이 시작일보다 앞섭니다. 기간을 확인해 주세요."))
        return data


class OrderSearchForm(DayRangeForm):
    day_range = ("placed_from", "placed_to")


class RefundSearchForm(DayRangeForm):
    day_range = ("created_from", "created_to")


def personal_search(filterset) -> list[str]:
    """The labels of the filters by a buyer's personal data (`personal_fields`) a valid search used: such a search
    finds buyers by their name or number, and is written to the access log (issue 25)."""
    if filterset is None or not filterset.is_bound or not filterset.is_valid():
        return []
    with translation.override("ko"):
        return [str(filterset.filters[name].label) for name in filterset.personal_fields
                if filterset.form.cleaned_data.get(name)]


class OrderFilter(filters.FilterSet):
    personal_fields = ("orderer_name", "depositor_name", "recipient_name", "phone", "member")

    period = filters.ChoiceFilter(label=_("주문검색기간"), choices=PERIODS, method="filter_period", empty_label=_("전체"))
    placed_from = day_filter(_("시작일"), "placed_at", "date__gte")
    placed_to = day_filter(_("종료일"), "placed_at", "date__lte")
    status = filters.ChoiceFilter(label=_("처리상태"), choices=OrderStatus.choices, empty_label=_("전체"))
    payment_method = filters.ChoiceFilter(label=_("결제수단"), method="filter_method", empty_label=_("전체"),
                                          choices=[*PaymentMethod.choices, (MILEAGE, _("네이버 마일리지"))])
    orderer_name = SearchFilter(label=_("주문자명"), lookup_expr="startswith")
    depositor_name = SearchFilter(label=_("입금자명"), lookup_expr="startswith")
    recipient_name = SearchFilter(label=_("상품수령인명"), lookup_expr="startswith")
    number = SearchFilter(label=_("주문번호"), lookup_expr="startswith")
    phone = SearchFilter(label=_("휴대전화"), method="filter_phone")
    member = SearchFilter(label=_("주문자 아이디"), field_name="member__user__username")
    product = SearchFilter(label=_("주문 상품명"), method="filter_product")
    # the buyer's open 취소/반품/교환 신청 (the badge in the status cell): any, or of one kind
    buyer_request = filters.ChoiceFilter(label=_("취소/반품/교환 신청"), method="filter_buyer_request",
                                         empty_label=_("전체"),
                                         choices=[("open", _("신청 있음")), *BuyerRequestKind.choices])

    class Meta:
        model = Order
        form = OrderSearchForm
        fields: list[str] = []

    def filter_period(self, queryset, name, value):
        return queryset.filter(placed_at__gte=_period_start(value)) if value else queryset

    def filter_phone(self, queryset, name, value):
        match = Q()
        for prefix in phone_prefixes(value):
            match |= Q(orderer_phone__startswith=prefix)
        return queryset.filter(match)

    def filter_method(self, queryset, name, value):
        if value == MILEAGE:
            return queryset.filter(uses_mileage=True)
        return queryset.filter(payment_method=value)

    def filter_product(self, queryset, name, value):
        return queryset.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), product_name__startswith=value)))

    def filter_buyer_request(self, queryset, name, value):
        requests = BuyerRequest.objects.filter(order=OuterRef("pk"), status=BuyerRequestStatus.OPEN)
        if value in BuyerRequestKind.values:
            requests = requests.filter(kind=value)
        return queryset.filter(Exists(requests))


REFUND_ITEMS = [("card", _("카드")), ("points", _("적립금")), ("transfer", _("계좌이체")), ("phone", _("핸드폰")),
                ("cash", _("현금환불")), ("mileage", _("네이버마일리지"))]


class RefundFilter(filters.FilterSet):
    personal_fields = ("orderer", "holder")

    status = filters.ChoiceFilter(label=_("환불 기준"), choices=RefundStatus.choices, empty_label=_("전체"))
    item = filters.ChoiceFilter(label=_("환불항목검색"), choices=REFUND_ITEMS, method="filter_item", empty_label=_("전체"))
    period = filters.ChoiceFilter(label=_("기간"), choices=PERIODS, method="filter_period", empty_label=_("전체"))
    created_from = day_filter(_("시작일"), "created_at", "date__gte")
    created_to = day_filter(_("종료일"), "created_at", "date__lte")
    orderer = SearchFilter(label=_("주문자명"), field_name="order__orderer_name", lookup_expr="startswith")
    order = SearchFilter(label=_("주문번호"), field_name="order__number", lookup_expr="startswith")
    holder = SearchFilter(label=_("예금주"), lookup_expr="startswith")

    class Meta:
        model = Refund
        form = RefundSearchForm
        fields: list[str] = []

    def filter_item(self, queryset, name, value):
        match value:
            case "mileage":
                return queryset.filter(mileage_won__gt=0)
            case "points":
                return queryset.filter(store_points_won__gt=0) | queryset.filter(method=RefundMethod.POINTS)
            case _:
                return queryset.filter(method={"card": RefundMethod.CARD, "transfer": RefundMethod.TRANSFER,
                                               "phone": RefundMethod.PHONE, "cash": RefundMethod.CASH}[value])

    def filter_period(self, queryset, name, value):
        return queryset.filter(created_at__gte=_period_start(value)) if value else queryset


class OutboxFilter(filters.FilterSet):
    status = filters.ChoiceFilter(label=_("상태"), choices=OutboxStatus.choices, empty_label=_("확인 필요 (실패·대기)"))
    kind = filters.ChoiceFilter(label=_("요청"), choices=OutboxKind.choices, empty_label=_("전체"))

    class Meta:
        model = OutboxMessage
        fields = ["status", "kind"]
