"""The manual's §6–§9 scenarios end to end, checked on both sides: the portal's ledger and the sandbox balance."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from mileage.models import MileageEvent, MileageTransaction, OutboxMessage
from portal.aftersales.cancellations import orders_expire_unpaid
from portal.aftersales.models import Refund, RefundStatus, ReturnRequest
from portal.aftersales.refunds import refund_complete
from portal.orders.models import OrderStatus

from .conftest import place

pytestmark = pytest.mark.sandbox


def kinds(order):
    return list(MileageEvent.objects.filter(transaction__order=order).values_list("kind", "result_code"))


def test_cancel_before_payment_returns_500_at_once(shop, operator):
    order, buyer = place(shop)
    assert shop.balance(buyer)["available"] == 15_000
    page = operator.get(f"/console/orders/{order.number}/cancel/").content.decode()
    assert "주문시 사용한 네이버 마일리지" in page and "500원 (최대 500원 까지 환원 가능)" in page
    assert "4,500원" in page
    response = operator.post(f"/console/orders/{order.number}/cancel/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert shop.balance(buyer)["available"] == 15_500 and shop.balance(buyer)["pending"] == 0
    assert kinds(order) == [("approve", "1000"), ("cancel", "1000")]
    assert MileageEvent.objects.filter(kind="cancel").get().created_by.username == "operator"


def test_cancel_after_payment_moves_nothing_until_refund_done(shop, operator):
    order, buyer = place(shop)
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    assert shop.balance(buyer)["pending"] == 45
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert "-500원 사용 · 1% 적립" in detail
    page = operator.get(f"/console/orders/{order.number}/cancel/").content.decode()
    assert "배송전 주문 취소 하기" in page and "최대 500원 까지 환불가능" in page
    response = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "4500", "store_points_won": "0", "mileage_won": "500", "shipping_deduction_won": "0",
        "method": "cash", "bank": "농협", "account_no": "123", "holder": "홍길동"})
    assert response.status_code == 302
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.BEFORE and (refund.cash_won, refund.mileage_won) == (4_500, 500)
    # the provider is not told yet
    assert shop.balance(buyer)["available"] == 15_000 and shop.balance(buyer)["pending"] == 45
    queue = operator.get("/console/refunds/").content.decode()
    assert refund.number in queue and "환불전" in queue
    operator.post("/console/refunds/?status=before", {"selection": [refund.pk], "confirm": "1"})
    assert shop.balance(buyer)["available"] == 15_500 and shop.balance(buyer)["pending"] == 0
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE and refund.completed_by.username == "operator"
    # pressing 환불완료 again changes nothing
    operator.post("/console/refunds/?status=done", {"selection": [refund.pk], "confirm": "1"})
    assert OutboxMessage.objects.filter(order=order, kind="cancel").count() == 1
    assert [k for k, _ in kinds(order)] == ["approve", "stated", "cancel"]


def test_refund_above_the_caps_is_refused_and_changes_nothing(shop, operator):
    order, buyer = place(shop, method="card")
    url = f"/console/orders/{order.number}/cancel/"
    base = {"cash_won": "4500", "store_points_won": "0", "mileage_won": "500", "shipping_deduction_won": "0",
            "method": "card"}
    for change, text in [({"mileage_won": "501"}, "최대 500원"), ({"cash_won": "4501"}, "최대 4,500원"),
                         ({"cash_won": "-1"}, "0원 이상"), ({"mileage_won": "abc"}, "숫자"),
                         ({"shipping_deduction_won": "5000"}, "배송비")]:
        response = operator.post(url, {**base, **change})
        assert response.status_code == 400, change
        assert text in response.content.decode(), change
    assert Refund.objects.count() == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def _deliver(operator, order):
    operator.post(f"/console/orders/{order.number}/action/ship/", {"carrier": "cj", "invoice_no": "6541111"})
    operator.post(f"/console/orders/{order.number}/action/deliver/")
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED


def test_full_return(shop, operator):
    order, buyer = place(shop, method="card")
    _deliver(operator, order)
    assert ("invoice", "1000") in kinds(order)
    line = order.lines.get()
    response = operator.post(f"/console/orders/{order.number}/return/", {
        f"qty_{line.pk}": "1", "cash_won": "4500", "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "card"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    request = ReturnRequest.objects.get()
    operator.post(f"/console/returns/{request.pk}/shipping/")
    operator.post(f"/console/returns/{request.pk}/complete/")
    refund = Refund.objects.get(order=order)
    assert shop.balance(buyer)["available"] == 15_000
    assert refund_complete(refund=refund, by=User.objects.get(username="operator"))
    assert shop.balance(buyer)["available"] == 15_500 and shop.balance(buyer)["pending"] == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.RETURNED


def test_partial_returns_never_return_more_mileage_than_used(shop, operator):
    # given two sample products (5,000원 × 2) with 1,000원 used, paid by card
    order, buyer = place(shop, method="card", quantity="2", use=1_000)
    assert order.mileage.expected_earn_won == 90
    _deliver(operator, order)
    line = order.lines.get()
    url = f"/console/orders/{order.number}/return/"
    base = {"cash_won": "4500", "store_points_won": "0", "shipping_deduction_won": "0", "method": "card"}
    # more than bought is refused
    response = operator.post(url, {**base, f"qty_{line.pk}": "3", "mileage_won": "500"})
    assert response.status_code == 400 and "구매한 수량" in response.content.decode()
    # the first partial return gives back 700원 of the 1,000원
    assert operator.post(url, {**base, f"qty_{line.pk}": "1", "mileage_won": "700"}).status_code == 302
    first = ReturnRequest.objects.get()
    operator.post(f"/console/returns/{first.pk}/shipping/")
    operator.post(f"/console/returns/{first.pk}/complete/")
    first.refresh_from_db()
    operator.post("/console/refunds/", {"selection": [first.refund.pk], "confirm": "1"})
    mileage = MileageTransaction.objects.get(order=order)
    assert mileage.use_remaining_won == 300
    # then the re-approval has a new txId, the remaining use and the earn on the remaining base at 1%
    balance = shop.balance(buyer)
    assert balance["available"] == 15_500 - 300
    assert balance["pending"] == 47  # (5,000 − 300) × 1%
    assert [t["state"] for t in balance["transactions"]] == ["SUPERSEDED", "APPROVED"]  # card: isConfirmed=Y
    # a second partial return may give back at most the 300원 that remain
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    response = operator.post(url, {**base, f"qty_{line.pk}": "1", "mileage_won": "301"})
    assert response.status_code == 400 and "최대 300원" in response.content.decode()
    assert operator.post(url, {**base, f"qty_{line.pk}": "1", "mileage_won": "300"}).status_code == 302


def test_exchange_up_keeps_the_original_basis(shop, operator):
    order, buyer = place(shop, method="card")
    _deliver(operator, order)
    line = order.lines.get()
    url = f"/console/orders/{order.number}/exchange/"
    page = operator.post(url, {f"qty_{line.pk}": "1", "new_6": "1", "mileage_returned_won": "500",
                               "action": "quote"}).content.decode()
    assert 'id="additional">25,500원' in page and 'id="earn-basis">4,500원' in page
    assert "최초 주문한 금액 기준" in page
    response = operator.post(url, {f"qty_{line.pk}": "1", "new_6": "1", "mileage_returned_won": "500",
                                   "action": "complete"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    balance = shop.balance(buyer)
    assert balance["available"] == 15_500
    assert balance["transactions"][-1]["earn"] == 45 and balance["transactions"][-1]["amount"] == 4_500
    assert balance["transactions"][-1]["baseRate"] == 10


def test_exchange_down_earns_on_the_lower_amount(shop, operator):
    order, buyer = place(shop, code="2", method="card")  # 10,000원, 500 used, paid 9,500
    _deliver(operator, order)
    line = order.lines.get()
    response = operator.post(f"/console/orders/{order.number}/exchange/", {
        f"qty_{line.pk}": "1", "new_1": "1", "mileage_returned_won": "500", "action": "complete"})
    assert response.status_code == 302
    assert shop.balance(buyer)["transactions"][-1]["earn"] == 50
    refund = Refund.objects.get(order=order)
    assert refund.cash_won == 4_500 and refund.status == RefundStatus.BEFORE


def test_unpaid_bank_transfer_is_cancelled_after_15_days(shop, sandbox_clock):
    order, buyer = place(shop)
    assert orders_expire_unpaid(now=timezone.now() + timedelta(days=15) - timedelta(seconds=1)) == 0
    shop.advance(15 * 24 * 3600)
    assert orders_expire_unpaid(now=timezone.now() + timedelta(days=15)) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert shop.balance(buyer)["available"] == 15_500
    assert shop.balance(buyer)["transactions"][0]["state"] == "AUTO_CANCELLED"
    assert kinds(order)[-1] == ("auto_cancel", "E8")


@pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                    reason="two writers at once need PostgreSQL row locks; the in-memory SQLite test database "
                           "cannot take concurrent writers (make test runs this on PostgreSQL)")
def test_double_refund_done_at_the_same_moment_reverses_once(shop, operator):
    order, buyer = place(shop, method="card")
    operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "4500", "store_points_won": "0", "mileage_won": "500", "shipping_deduction_won": "0",
        "method": "card"})
    refund = Refund.objects.get()
    users = [User.objects.get(username="operator"), User.objects.get(username="admin")]

    def press(user):
        try:
            return refund_complete(refund=refund, by=user)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(press, users))
    assert sorted(results) == [False, True]
    assert OutboxMessage.objects.filter(order=order, kind="cancel").count() == 1
    assert MileageEvent.objects.filter(transaction__order=order, kind="cancel").count() == 1
    assert shop.balance(buyer)["available"] == 15_500
