"""Demo orders that tell the story (`make run`): three months of orders in every state, placed through the real
services against the running provider sandbox, so that the console shows every screen populated and the sandbox's
transactions and the monthly settlement reconcile to the won.

Each story is stamped in its past month on both sides: the portal's clock is moved with the story (everything the
services write — events, settlement lines, status history — carries that time) and the sandbox's test clock is
moved with it. Outbox calls are delivered at once, inside the story's time. Idempotent: the stories are placed
once (their orders carry DEMO_NOTE); a second run finds them and does nothing.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone

from mileage.models import MileageSettings
from mileage.policy.constants import BUSINESS_TZ
from mileage.services.transactions import outbox_deliver_due
from portal.accounts.models import Member
from portal.aftersales import cancellations, exchanges, fulfilment, refunds, returns
from portal.aftersales.common import RefundInput
from portal.aftersales.models import Refund
from portal.catalog.models import Product
from portal.orders.checkout import Buyer, cart_lines, order_place, quote
from portal.orders.models import Carrier, Order

DEMO_NOTE = "데모 주문"


class SandboxUnavailable(Exception):
    pass


@dataclass
class Sandbox:
    base: str
    api_id: str  # the shop's merchant at the provider (the settings screen's, else the environment's)

    def control(self, path: str, **data) -> dict:
        response = requests.post(f"{self.base}/_control/{path}", json=data, timeout=10)
        if response.status_code == 404:
            raise SandboxUnavailable("the sandbox's test controls are off (SANDBOX_TEST_CONTROLS=1)")
        response.raise_for_status()
        return response.json()

    def set_clock(self, moment: datetime) -> None:
        offset = int((moment - timezone.now()).total_seconds())
        self.control("clock", reset=True)
        self.control("clock", advance_seconds=offset)

    def choice(self, login: str, use: int, max_use: int, ncisy: str = "") -> dict:
        params = self.control("popup", api_id=self.api_id, login_id=login, use=use, max_use=max_use, ncisy=ncisy,
                              done_url="http://127.0.0.1/mileage/popup/done/")
        return {"req_tx_id": params["reqTxId"], "use_won": use, "params": params}

    def ad_token(self) -> str:
        response = requests.get(f"{self.base}/ad/{self.api_id}/", params={"to": "http://127.0.0.1/shop/"},
                                allow_redirects=False, timeout=10)
        return dict(parse_qsl(urlsplit(response.headers["Location"]).query))["NaPm"]


@contextmanager
def at(moment: datetime, sandbox: Sandbox):
    """Run a story at `moment` on both sides (the portal's clock patched, the sandbox's test clock set)."""
    sandbox.set_clock(moment)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield
        outbox_deliver_due(now=moment)
    sandbox.control("clock", reset=True)


def _buyer(method: str, name: str = "홍길동") -> Buyer:
    return Buyer(orderer_name=name, orderer_phone="010-1234-5678", orderer_email="hong@example.com",
                 recipient_name=name, recipient_phone="010-1234-5678", zipcode="07071",
                 address="서울 동작구 신대방2동 전문건설회관빌딩", address_detail="28층", shipping_message=DEMO_NOTE,
                 depositor_name=name, payment_method=method, card_number="4111-1111-1111-1111",
                 guest_password="demo1234")


def _place(sandbox: Sandbox, cart: dict[str, int], *, use: int, method: str = "card", member: Member | None = None,
           ncisy: str = "", login: str = "", name: str = "홍길동") -> Order:
    lines = cart_lines(cart)
    choice = None
    if use or login:
        max_use = quote(lines, member=member).max_use_won
        choice = sandbox.choice(login, use, max_use, ncisy)
    return order_place(lines=lines, buyer=_buyer(method, name), member=member, store_points_won=0, choice=choice,
                       inflow_token=ncisy)


def _ship(order: Order, operator: User, invoice: str) -> Order:
    return fulfilment.order_ship(order=order, invoice_no=invoice, carrier=Carrier.CJ, by=operator)


def _deliver(order: Order, operator: User) -> Order:
    return fulfilment.order_deliver(order=Order.objects.get(pk=order.pk), by=operator)


def _exchange(order: Order, code: str, *, mileage_back: int, by: User) -> None:
    """상품교환 of the order's only line for one `code`."""
    exchanges.exchange_complete(order=Order.objects.get(pk=order.pk), old_lines={order.lines.get().pk: 1},
                                new_products=[(Product.objects.get(code=code), 1)], mileage_returned_won=mileage_back,
                                by=by)


def load_demo_orders(sandbox_base: str | None = None) -> int:
    """Place the demo stories if they are not there yet. Returns how many orders were placed."""
    if Order.objects.filter(shipping_message=DEMO_NOTE).exists():
        return 0
    sandbox = Sandbox((sandbox_base or settings.MILEAGE_API_BASE).rstrip("/"),
                      MileageSettings.load().effective_credentials()[0])
    try:
        requests.get(sandbox.base + "/", timeout=3).raise_for_status()
    except requests.RequestException as exc:
        raise SandboxUnavailable(f"the sandbox does not answer at {sandbox.base}") from exc
    cache.clear()
    operator = User.objects.get(username="operator")
    hong = Member.objects.get(user__username="hong")
    login = "demobuyer"
    sandbox.control("buyer", login_id=login, password="demo1234!", opening_balance=200_000, name="데모구매자")
    today = timezone.now().astimezone(BUSINESS_TZ).replace(hour=10, minute=0, second=0, microsecond=0)

    def month_ago(months: int, day: int) -> datetime:
        year, month = today.year, today.month - months
        while month < 1:
            year, month = year - 1, month + 12
        return today.replace(year=year, month=month, day=min(day, 28))

    placed = 0
    # two months ago: confirmed purchases, a partial return, an exchange up and one down
    with at(month_ago(2, 5), sandbox):
        order = _place(sandbox, {"1": 1}, use=500, member=hong, login=login)  # the manual's example
        _deliver(_ship(order, operator, "100000000001"), operator)
        fulfilment.order_confirm_purchase(order=Order.objects.get(pk=order.pk), by=operator)
        placed += 1
    with at(month_ago(2, 12), sandbox):
        order = _place(sandbox, {"2": 1, "3": 1, "4": 1}, use=1_000, login=login, name="김민지")
        _deliver(_ship(order, operator, "100000000002"), operator)
        line = order.lines.get(product_code="2")
        request = returns.return_request(order=Order.objects.get(pk=order.pk), lines={line.pk: 1}, by=operator,
                                       data=RefundInput(cash_won=9_700, store_points_won=0, mileage_won=300,
                                                        method="card"),
                                       reason="사이즈 교환 불가")
        returns.return_mark_shipping(request=request, by=operator)
        refund = returns.return_complete(request=request, by=operator)
        refunds.refund_complete(refund=refund, by=operator)
        placed += 1
    with at(month_ago(2, 20), sandbox):
        order = _place(sandbox, {"1": 1}, use=500, login=login, name="박서준")
        _deliver(_ship(order, operator, "100000000003"), operator)
        _exchange(order, "6", mileage_back=500, by=operator)  # up: 5,000원 → 30,000원, the 500원 returned
        placed += 1
    # last month: an exchange down, a cancellation after payment refunded, an ad-inflow order, a gift certificate
    with at(month_ago(1, 3), sandbox):
        order = _place(sandbox, {"6": 1}, use=2_000, login=login, name="이서연")
        _deliver(_ship(order, operator, "100000000004"), operator)
        _exchange(order, "2", mileage_back=0, by=operator)  # down: 30,000원 → 10,000원
        placed += 1
    with at(month_ago(1, 9), sandbox):
        order = _place(sandbox, {"4": 1}, use=1_500, login=login, name="최우진")
        refund = cancellations.order_cancel_after_payment(order=order, by=operator, data=RefundInput(
            cash_won=order.payable_won, store_points_won=0, mileage_won=1_500, method="card"))
        refunds.refund_complete(refund=refund, by=operator)
        placed += 1
    with at(month_ago(1, 15), sandbox):
        order = _place(sandbox, {"D0SELF0012179": 1}, use=0, login=login, name="정하은", ncisy=sandbox.ad_token())
        _deliver(_ship(order, operator, "100000000005"), operator)
        fulfilment.order_confirm_purchase(order=Order.objects.get(pk=order.pk), by=operator)
        placed += 1
    with at(month_ago(1, 22), sandbox):
        order = _place(sandbox, {"GIFT-50000": 1, "3": 1}, use=1_000, login=login, name="강도윤")
        _ship(order, operator, "100000000006")
        placed += 1
    # this month: 결제완료, 배송중, 입금전, 입금전 취소, and a 배송전 취소 whose refund waits (환불전)
    with at(timezone.now(), sandbox):  # today's orders on the dashboard
        _place(sandbox, {"5": 1}, use=500, login=login, name="윤지아")  # 결제완료
        _place(sandbox, {"2": 2}, use=1_000, method="bank", login=login, name="한소희")  # 입금전
    with at(today - timedelta(days=2), sandbox):
        order = _place(sandbox, {"7": 1}, use=700, login=login, name="임준호")
        _ship(order, operator, "100000000007")  # 배송중
        order = _place(sandbox, {"3": 1}, use=500, method="bank", login=login, name="오세훈")
        cancellations.order_cancel_before_payment(order=order, by=operator)  # 입금전 취소
        order = _place(sandbox, {"8": 1}, use=3_000, login=login, name="서예린")
        cancellations.order_cancel_after_payment(order=order, by=operator, data=RefundInput(
            cash_won=order.payable_won, store_points_won=0, mileage_won=3_000, method="card"))  # 환불전 waits
        placed += 5
    assert Refund.objects.filter(status="before").exists()
    return placed
