"""The manual's §6–§9 scenarios end to end, checked on both sides: the portal's ledger and the sandbox balance."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from mileage.models import MileageEvent, MileageTransaction, OutboxMessage
from portal.aftersales.cancellations import orders_expire_unpaid
from portal.aftersales.exchanges import ExchangeChanged, exchange_complete
from portal.aftersales.models import Refund, RefundStatus, ReturnRequest
from portal.aftersales.refunds import refund_complete
from portal.aftersales.selectors import refund_limits
from portal.catalog.models import Product
from portal.orders.models import Order, OrderStatus
from portal.orders.money import still_charged_won

from .conftest import place, returned

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


def test_a_cancel_from_a_second_tab_of_a_cancelled_order_says_so_and_changes_nothing(shop, operator):
    order, buyer = place(shop)
    url = f"/console/orders/{order.number}/cancel/"
    assert operator.post(url).status_code == 302
    events = list(MileageEvent.objects.filter(transaction__order=order).values_list("pk", flat=True))
    opened = operator.get(url, follow=True)
    assert opened.redirect_chain[-1][0] == f"/console/orders/{order.number}/"
    assert "이 주문은 취소할 수 없습니다 (처리상태: 주문취소)" in opened.content.decode()
    pressed = operator.post(url, {"cash_won": "4500", "store_points_won": "0", "mileage_won": "500",
                                  "shipping_deduction_won": "0", "method": "card"}, follow=True)
    assert "이 주문은 취소할 수 없습니다 (처리상태: 주문취소)" in pressed.content.decode()
    assert list(MileageEvent.objects.filter(transaction__order=order).values_list("pk", flat=True)) == events
    assert shop.balance(buyer)["available"] == 15_500


def test_cancel_after_payment_moves_nothing_until_refund_done(shop, operator):
    order, buyer = place(shop)
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    assert shop.balance(buyer)["pending"] == 45
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert "-500원 사용 · 1% 적립" in detail
    page = operator.get(f"/console/orders/{order.number}/cancel/").content.decode()
    assert "배송전 주문 취소 하기" in page and "최대 500원 까지 환불가능" in page
    # the manual's lines under the amounts: 총 환불액, 배송비적용, 카드취소/현금환불액, 적립금 반환액, 마일리지 반환액
    summary = re.findall(r'data-sum="(\w+)">([^<]*)<', page)
    assert summary == [("total", "4,500원"), ("shipping", "0원"), ("payout", "4,500원"), ("points", "0원"),
                       ("mileage", "500원")]
    refused = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "4500", "store_points_won": "0", "mileage_won": "400", "shipping_deduction_won": "2,500",
        "method": "cash"}).content.decode()  # as typed, when the form comes back with its error
    assert re.findall(r'data-sum="(\w+)">([^<]*)<', refused)[1:3] == [("shipping", "-2,500원"), ("payout", "2,000원")]
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
    # the provider calls sent are listed when 완료 is asked for (the screen opens on those needing an eye)
    assert order.number in operator.get("/console/outbox/", {"status": "sent"}).content.decode()
    assert order.number not in operator.get("/console/outbox/").content.decode()
    line = order.lines.get()
    returned(operator, order, {
        f"qty_{line.pk}": "1", "cash_won": "4500", "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "card"})
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
    # the first partial return gives back 700원 of the 1,000원 (and 4,300원 of the card: the item's 5,000원 in all)
    assert operator.post(url, {**base, f"qty_{line.pk}": "1", "mileage_won": "700", "cash_won": "4300"}).status_code == 302
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
    # and every statement reads the mileage the order used and what the exchange gave back of it, as for a return
    from portal.receipts.render import receipt_html

    order.refresh_from_db()
    assert order.mileage_use_won == 500 and refund_limits(order)["mileage"] == 0
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    summary = re.search(r'<td id="mileage-summary">.*?</td>', detail, re.S).group(0)
    assert "-500원 사용" in summary and "500원 반환" in summary
    assert "-500원 (500원 반환)" in receipt_html(order)
    export = operator.post("/console/orders/?export=csv", {"reason": "점검"}).content.decode("utf-8-sig")
    row = next(line for line in export.splitlines() if order.number in line)
    assert ",500," in row
    # no more mileage may go back than the order used
    page = operator.get(f"/console/orders/{order.number}/return/").content.decode()
    assert "최대 0원" in page


def _refund_done(operator, refund):
    assert operator.post("/console/refunds/", {"selection": [refund.pk], "confirm": "1"}).status_code == 302
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE


def test_an_exchange_after_a_partial_return_counts_only_what_the_shop_still_holds(shop, operator):
    # given 샘플상품 2 ×2 and 샘플상품 3 (35,000원 with 1,000원 of mileage: 34,000원 on the card), one 샘플상품 2
    # returned with 9,700원 and 300원 of mileage back
    order, buyer = place(shop, code="2", quantity="2", extra=("3",), use=1_000, method="card")
    _deliver(operator, order)
    two, three = order.lines.get(product_code="2"), order.lines.get(product_code="3")
    request = returned(operator, order, {
        f"qty_{two.pk}": "1", "cash_won": "9700", "store_points_won": "0", "mileage_won": "300",
        "shipping_deduction_won": "0", "method": "card"})
    request.refresh_from_db()
    _refund_done(operator, request.refund)
    # when 샘플상품 3 is exchanged for 샘플상품 1 (5,000원) with no mileage given back
    url = f"/console/orders/{order.number}/exchange/"
    form = {f"qty_{three.pk}": "1", "new_1": "1", "mileage_returned_won": "0"}
    page = operator.post(url, {**form, "action": "quote"}).content.decode()
    # then what was paid is the 24,300원 the shop still holds, and 10,000원 go back (15,000 − 700 used − 24,300)
    assert '기존 결제금액</th><td class="won">24,300원' in page
    assert operator.post(url, {**form, "action": "complete"}).status_code == 302
    exchange_refund = Refund.objects.get(order=order, reason="exchange")
    assert exchange_refund.cash_won == 10_000
    _refund_done(operator, exchange_refund)
    # and what may still go back is what is still charged and the mileage still used, each counted once
    order.refresh_from_db()
    limits = refund_limits(order)
    assert limits["cash"] == still_charged_won(order.payments.get()) == 14_300
    assert limits["mileage"] == MileageTransaction.objects.get(order=order).use_remaining_won == 700
    page = operator.get(f"/console/orders/{order.number}/return/").content.decode()
    assert "최대 14,300원" in page and "최대 700원" in page


def test_a_cancel_after_an_exchange_refund_gives_back_the_rest_of_the_charge(shop, operator):
    # given 샘플상품 5 (25,000원, 500원 of mileage, 24,500원 on the card) exchanged before shipping for 샘플상품 1:
    # 20,000원 go back
    order, buyer = place(shop, code="5", method="card")
    line = order.lines.get()
    assert operator.post(f"/console/orders/{order.number}/exchange/", {
        f"qty_{line.pk}": "1", "new_1": "1", "mileage_returned_won": "0", "action": "complete"}).status_code == 302
    _refund_done(operator, Refund.objects.get(order=order))
    # when the order is then cancelled before shipping: the rest of the charge may go back, whole
    page = operator.get(f"/console/orders/{order.number}/cancel/").content.decode()
    assert "최대 4,500원" in page
    assert operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "4500", "store_points_won": "0", "mileage_won": "500", "shipping_deduction_won": "0",
        "method": "card"}).status_code == 302
    _refund_done(operator, Refund.objects.filter(order=order).latest("id"))
    # then nothing is left on the card and the mileage is back
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert still_charged_won(order.payments.get()) == 0
    assert shop.balance(buyer)["available"] == 15_500


def test_the_mileage_kept_in_an_exchange_never_pays_for_excluded_goods(shop, operator):
    # given 샘플상품 2 (10,000원, 500원 of mileage) exchanged for a 문화상품권 (excluded from the mileage, U2)
    order, buyer = place(shop, code="2", method="card")
    _deliver(operator, order)
    line = order.lines.get()
    url = f"/console/orders/{order.number}/exchange/"
    form = {f"qty_{line.pk}": "1", "new_GIFT-50000": "1", "action": "complete"}
    # when the 500원 of mileage would stay used: refused, nothing changes
    response = operator.post(url, {**form, "mileage_returned_won": "0"})
    assert response.status_code == 400
    assert "500원 이상 입력해 주세요" in response.content.decode()
    assert not order.exchanges.exists()
    # then with the 500원 given back the exchange is made and the provider holds no use on it
    assert operator.post(url, {**form, "mileage_returned_won": "500"}).status_code == 302
    assert shop.balance(buyer)["available"] == 15_500


def test_a_partial_return_never_leaves_the_mileage_on_excluded_goods(shop, operator):
    # given a 문화상품권 and 샘플상품 3 bought with 1,000원 of mileage (it paid for 샘플상품 3 only, U2)
    order, buyer = place(shop, code="GIFT-50000", extra=("3",), use=1_000, method="card")
    _deliver(operator, order)
    three = order.lines.get(product_code="3")
    url = f"/console/orders/{order.number}/return/"
    form = {f"qty_{three.pk}": "1", "cash_won": "14000", "store_points_won": "0", "shipping_deduction_won": "0",
            "method": "card"}
    # when 샘플상품 3 is returned keeping the mileage: refused (only the 상품권 would be left to carry it)
    response = operator.post(url, {**form, "mileage_won": "0"})
    assert response.status_code == 400 and "1,000원 더 입력해 주세요" in response.content.decode()
    assert not ReturnRequest.objects.filter(order=order).exists()
    # then with the mileage given back the return is taken
    assert operator.post(url, {**form, "mileage_won": "1000"}).status_code == 302


def _quoted(operator, url, form) -> str:
    page = operator.post(url, {**form, "action": "quote"}).content.decode()
    return re.search(r'name="seen" value="(\w+)"', page).group(1)


def test_exchange_complete_does_what_its_quote_showed_and_only_once(shop, operator):
    # given 샘플상품 2 ×2 delivered, one of them quoted for an exchange to 샘플상품 1 (5,000원 back)
    order, buyer = place(shop, code="2", quantity="2", method="card")
    _deliver(operator, order)
    line = order.lines.get()
    url = f"/console/orders/{order.number}/exchange/"
    form = {f"qty_{line.pk}": "1", "new_1": "1", "mileage_returned_won": "0"}
    seen = _quoted(operator, url, form)
    # when the products are changed after 금액 계산 and 상품교환완료 pressed: shown again with the new figures
    changed = operator.post(url, {**form, "new_1": "", "new_8": "2", "action": "complete", "seen": seen})
    assert changed.status_code == 409
    page = changed.content.decode()
    assert "상품교환완료를 다시 눌러 주세요" in page and 'id="additional">70,000원' in page
    assert not order.exchanges.exists()
    # then the quoted exchange is made once, however often its page is pressed (a second tab, a double press)
    assert operator.post(url, {**form, "action": "complete", "seen": seen}).status_code == 302
    assert operator.post(url, {**form, "action": "complete", "seen": seen}).status_code == 409
    assert order.exchanges.count() == 1 and Refund.objects.filter(order=order).count() == 1
    line.refresh_from_db()
    assert line.returned_quantity == 1


@pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                    reason="two writers at once need PostgreSQL row locks (make test runs this on PostgreSQL)")
def test_one_quoted_exchange_completed_from_two_tabs_at_once_is_made_once(shop, operator):
    order, buyer = place(shop, code="2", quantity="2", method="card")
    _deliver(operator, order)
    line = order.lines.get()
    form = {f"qty_{line.pk}": "1", "new_1": "1", "mileage_returned_won": "0"}
    seen = _quoted(operator, f"/console/orders/{order.number}/exchange/", form)
    product = Product.objects.get(code="1")

    def press(username):
        try:
            exchange_complete(order=order, old_lines={line.pk: 1}, new_products=[(product, 1)], mileage_returned_won=0,
                              by=User.objects.get(username=username), seen=seen)
            return "done"
        except ExchangeChanged:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(press, ["operator", "admin"]))
    assert results == ["done", "refused"]
    assert order.exchanges.count() == 1 and Refund.objects.filter(order=order).count() == 1
    assert order.lines.count() == 2


def test_a_transfer_past_its_deposit_deadline_is_not_confirmed_and_its_cancel_returns_the_mileage(shop, operator):
    # given a bank transfer with 500원 of mileage past its deposit deadline, still open at the provider
    order, buyer = place(shop)
    Order.objects.filter(pk=order.pk).update(deposit_deadline=timezone.now() - timedelta(minutes=1))
    # when the operator presses 입금확인: refused, nothing changes, the provider is not told
    page = operator.post(f"/console/orders/{order.number}/action/confirm_deposit/", follow=True).content.decode()
    assert "입금확인할 수 없고, 주문은 자동으로 취소됩니다" in page
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DEPOSIT
    assert not OutboxMessage.objects.filter(order=order, kind="stated").exists()
    # then 입금전 취소 asks the provider for the automatic cancel (E8) once, and the buyer has the 500원 back
    assert operator.post(f"/console/orders/{order.number}/cancel/").status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert kinds(order)[-1] == ("auto_cancel", "1000")
    assert OutboxMessage.objects.filter(order=order, kind__in=("cancel", "auto_cancel")).count() == 1
    assert shop.balance(buyer)["available"] == 15_500


def test_unpaid_bank_transfer_is_cancelled_after_15_days(shop, sandbox_clock):
    order, buyer = place(shop)
    assert orders_expire_unpaid(now=timezone.now() + timedelta(days=15) - timedelta(seconds=1)) == 0
    shop.advance(15 * 24 * 3600)
    assert orders_expire_unpaid(now=timezone.now() + timedelta(days=15)) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert shop.balance(buyer)["available"] == 15_500
    assert shop.balance(buyer)["transactions"][0]["state"] == "AUTO_CANCELLED"
    assert kinds(order)[-1] == ("auto_cancel", "3092")  # the provider's own cancel came first: "already done"


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
