"""가상계좌 on the TEST gateway (issue 23): the order is 입금전 with a deterministic TEST account in the shop's name
and E8's 15-day deadline, shown on 주문완료, My Page and 주문상세정보; the operator's 입금확인 sends `stated` as for
무통장입금; past the deadline the order is cancelled, the account closed and the mileage returned. Against the
provider sandbox over HTTP."""

import re
from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.test import Client
from django.utils import timezone

from mileage.models import OutboxMessage
from mileage.policy.constants import BUSINESS_TZ
from portal.aftersales.cancellations import orders_expire_unpaid
from portal.orders.gateway import get_gateway
from portal.orders.models import GatewayEntry, Order, OrderStatus, PaymentStatus
from tests.portal.storefront.conftest import GUEST, choose_mileage

from .test_scenarios import kinds

pytestmark = pytest.mark.sandbox


def place_virtual_account(shop, *, use=500) -> tuple[Order, str, Client]:
    """A guest orders sample 1 (5,000원 + shipping) by 가상계좌 with `use` won of mileage."""
    buyer = shop.new_buyer(15_500)
    client = Client()
    client.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    client.get("/shop/order/")
    if use:
        choose_mileage(client, shop, buyer, use)
    response = client.post("/shop/order/", {**GUEST, "payment_method": "vbank", "depositor_name": ""})
    assert response.status_code == 302, response.content.decode()[-2000:]
    return Order.objects.order_by("-id").first(), buyer, client


def seoul(moment) -> str:
    return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def test_the_order_form_offers_virtual_accounts_with_their_deadline(shop):
    client = Client()
    client.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    page = client.get("/shop/order/").content.decode()
    assert 'value="vbank"' in page and "가상계좌" in page
    assert "가상계좌: 주문 후 발급되는 계좌로 15일 이내에 입금해 주세요." in page


def test_a_virtual_account_is_issued_in_the_shops_name_and_shown_to_the_buyer_and_the_operator(shop, operator):
    order, buyer, client = place_virtual_account(shop)
    payment = order.payments.get()
    assert order.status == OrderStatus.AWAITING_DEPOSIT and payment.status == PaymentStatus.WAITING
    assert (payment.vbank_bank, payment.vbank_holder) == ("TEST은행", "(주)마일리지샵")
    assert re.fullmatch(r"990-\d{6}-\d{5}", payment.vbank_number)
    assert payment.gateway_tid.startswith("TEST-VA-")
    assert order.deposit_deadline == payment.vbank_due_at
    assert timedelta(days=15) - timedelta(seconds=5) < order.deposit_deadline - order.placed_at <= timedelta(days=15)
    assert shop.balance(buyer)["available"] == 15_000  # the use approved at the provider, as for 무통장입금
    assert [k for k, _ in kinds(order)] == ["approve"]

    due = seoul(payment.vbank_due_at)
    for page in (client.get(f"/shop/order/{order.number}/complete/").content.decode(),
                 client.get(f"/shop/orders/{order.number}/").content.decode(),
                 operator.get(f"/console/orders/{order.number}/").content.decode()):
        assert 'id="virtual-account"' in page
        for shown in ("TEST은행", payment.vbank_number, "(주)마일리지샵", due):
            assert shown in page

    mail = next(m for m in django_mail.outbox if order.number in m.subject)
    assert f"가상계좌: TEST은행 {payment.vbank_number} (예금주 (주)마일리지샵)" in mail.body
    assert f"입금기한: {due}" in mail.body

    # the same payment asked again: the same account, nothing issued twice
    again = get_gateway().issue_virtual_account(payment_id=order.number, amount_won=order.payable_won,
                                                due_at=order.deposit_deadline, holder="(주)마일리지샵")
    assert again.approved and again.account_number == payment.vbank_number
    assert GatewayEntry.objects.filter(kind="vbank").count() == 1


def test_the_operators_deposit_confirmation_pays_it_and_tells_the_provider(shop, operator):
    order, buyer, _client = place_virtual_account(shop)
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payments.get().status == PaymentStatus.APPROVED
    assert [k for k, _ in kinds(order)] == ["approve", "stated"]
    assert orders_expire_unpaid(now=timezone.now() + timedelta(days=16)) == 0  # paid: never expired


def test_past_its_deadline_the_order_is_cancelled_the_account_closed_and_the_mileage_returned(shop, sandbox_clock):
    order, buyer, _client = place_virtual_account(shop)
    assert orders_expire_unpaid(now=order.deposit_deadline - timedelta(seconds=1)) == 0
    shop.advance(15 * 24 * 3600)
    assert orders_expire_unpaid(now=order.deposit_deadline) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.payments.get().status == PaymentStatus.CANCELLED
    assert GatewayEntry.objects.filter(kind="vbclose", parent_tid=order.payments.get().gateway_tid).count() == 1
    assert shop.balance(buyer)["available"] == 15_500
    # the provider had cancelled it by itself (its 15 days over): the portal's cancel is answered "already done"
    assert kinds(order)[-1] == ("auto_cancel", "3092")
    assert not OutboxMessage.objects.filter(order=order, kind="stated").exists()
    assert orders_expire_unpaid(now=order.deposit_deadline + timedelta(days=1)) == 0  # once

