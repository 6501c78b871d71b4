"""The demo tells the story: three months of orders in every state, placed through the real services against the
sandbox, reconciling to the won with the provider's settlement report; a second run duplicates nothing."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from mileage.policy.constants import BUSINESS_TZ
from mileage.services.settlement import monthly_statement, reconcile
from portal.aftersales.models import Refund, RefundStatus
from portal.demo.orders import DEMO_NOTE, load_demo_orders
from portal.orders.models import Order, OrderStatus
from tests.portal.storefront.conftest import shop, use_merchant  # noqa: F401

pytestmark = pytest.mark.sandbox


def _report(sandbox, merchant, month):
    response = requests.post(f"{sandbox.base_url}/v2/partner/{merchant[0]}/settlement/{month}", timeout=10,
                             data={"format": "json", "secret": merchant[1]})
    return response.json()["response"]


@pytest.mark.extended
def test_demo_orders_cover_every_state_and_reconcile(shop, merchant):  # noqa: F811
    # a merchant of its own, so that the provider's report holds only this shop's orders
    use_merchant(*merchant)
    placed = load_demo_orders(shop.base_url)
    assert placed == 12
    statuses = set(Order.objects.filter(shipping_message=DEMO_NOTE).values_list("status", flat=True))
    assert {OrderStatus.AWAITING_DEPOSIT, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
            OrderStatus.CONFIRMED, OrderStatus.CANCELLED} <= statuses
    assert Refund.objects.filter(status=RefundStatus.BEFORE).exists()
    assert Order.objects.filter(exchanges__isnull=False).distinct().count() == 2
    assert Order.objects.filter(returns__isnull=False).exists()
    assert Order.objects.filter(excluded_goods_won__gt=0).exists()
    assert Order.objects.filter(mileage__add_rate_x10__gt=0).exists()  # the ad-inflow order
    manual = Order.objects.get(member__user__username="hong", goods_won=5_000)
    assert (manual.mileage_use_won, manual.payable_won, manual.mileage.expected_earn_won) == (500, 4_500, 45)
    # three months: the portal's statements reconcile with the provider's report for the demo's orders
    numbers = set(Order.objects.values_list("number", flat=True))
    months = {o.placed_at.astimezone(BUSINESS_TZ).strftime("%Y-%m") for o in Order.objects.all()}
    assert len(months) == 3
    for month in months:
        report = _report(shop, merchant, month)
        assert {line["orderNo"] for line in report["lines"]} <= numbers
        assert reconcile(monthly_statement(month), report) == [], month
    # idempotent
    assert load_demo_orders(shop.base_url) == 0
    assert Order.objects.filter(shipping_message=DEMO_NOTE).count() == 12
    assert Order.objects.filter(placed_at__gt=timezone.now() + timedelta(minutes=1)).count() == 0
