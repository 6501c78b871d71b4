"""Filters of the console's lists (django-filter). Every filter is backed by an index."""

from datetime import timedelta

import django_filters as filters
from django.db.models import Exists, OuterRef
from django.utils import timezone
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

PERIODS = [("today", _("오늘날짜")), ("3d", _("3일")), ("7d", _("일주일")), ("30d", _("한달"))]
PERIOD_DAYS = {"today": 0, "3d": 2, "7d": 6, "30d": 29}
MILEAGE = "mileage"


def _period_start(value: str):
    today = timezone.now().astimezone(BUSINESS_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=PERIOD_DAYS[value])


class OrderFilter(filters.FilterSet):
    period = filters.ChoiceFilter(label=_("주문검색기간"), choices=PERIODS, method="filter_period", empty_label=_("전체"))
    placed_from = filters.DateFilter(label=_("시작일"), field_name="placed_at", lookup_expr="date__gte")
    placed_to = filters.DateFilter(label=_("종료일"), field_name="placed_at", lookup_expr="date__lte")
    status = filters.ChoiceFilter(label=_("처리상태"), choices=OrderStatus.choices, empty_label=_("전체"))
    payment_method = filters.ChoiceFilter(label=_("결제수단"), method="filter_method", empty_label=_("전체"),
                                          choices=[*PaymentMethod.choices, (MILEAGE, _("네이버 마일리지"))])
    orderer_name = filters.CharFilter(label=_("주문자명"), lookup_expr="startswith")
    depositor_name = filters.CharFilter(label=_("입금자명"), lookup_expr="startswith")
    recipient_name = filters.CharFilter(label=_("상품수령인명"), lookup_expr="startswith")
    number = filters.CharFilter(label=_("주문번호"), lookup_expr="startswith")
    phone = filters.CharFilter(label=_("휴대전화"), field_name="orderer_phone", lookup_expr="startswith")
    member = filters.CharFilter(label=_("주문자 아이디"), field_name="member__user__username")
    product = filters.CharFilter(label=_("주문 상품명"), method="filter_product")
    # the buyer's open 취소/반품 신청 (the badge in the status cell): any, or of one kind
    buyer_request = filters.ChoiceFilter(label=_("취소/반품 신청"), method="filter_buyer_request",
                                         empty_label=_("전체"),
                                         choices=[("open", _("신청 있음")), *BuyerRequestKind.choices])

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_period(self, queryset, name, value):
        return queryset.filter(placed_at__gte=_period_start(value)) if value else queryset

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
                ("mileage", _("네이버마일리지"))]


class RefundFilter(filters.FilterSet):
    status = filters.ChoiceFilter(label=_("환불 기준"), choices=RefundStatus.choices, empty_label=_("전체"))
    item = filters.ChoiceFilter(label=_("환불항목검색"), choices=REFUND_ITEMS, method="filter_item", empty_label=_("전체"))
    period = filters.ChoiceFilter(label=_("기간"), choices=PERIODS, method="filter_period", empty_label=_("전체"))
    created_from = filters.DateFilter(label=_("시작일"), field_name="created_at", lookup_expr="date__gte")
    created_to = filters.DateFilter(label=_("종료일"), field_name="created_at", lookup_expr="date__lte")
    orderer = filters.CharFilter(label=_("주문자명"), field_name="order__orderer_name", lookup_expr="startswith")
    order = filters.CharFilter(label=_("주문번호"), field_name="order__number", lookup_expr="startswith")
    holder = filters.CharFilter(label=_("예금주"), lookup_expr="startswith")

    class Meta:
        model = Refund
        fields: list[str] = []

    def filter_item(self, queryset, name, value):
        match value:
            case "mileage":
                return queryset.filter(mileage_won__gt=0)
            case "points":
                return queryset.filter(store_points_won__gt=0) | queryset.filter(method=RefundMethod.POINTS)
            case _:
                return queryset.filter(method={"card": RefundMethod.CARD, "transfer": RefundMethod.TRANSFER,
                                               "phone": RefundMethod.PHONE}[value])

    def filter_period(self, queryset, name, value):
        return queryset.filter(created_at__gte=_period_start(value)) if value else queryset


class OutboxFilter(filters.FilterSet):
    status = filters.ChoiceFilter(label=_("상태"), choices=OutboxStatus.choices, empty_label=_("전체"))
    kind = filters.ChoiceFilter(label=_("요청"), choices=OutboxKind.choices, empty_label=_("전체"))

    class Meta:
        model = OutboxMessage
        fields = ["status", "kind"]
