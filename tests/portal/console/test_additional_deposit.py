"""추가입금확인 (manual §9): an exchange for a dearer product leaves a 추가 결제예정 금액 the buyer pays into the shop's
account; the operator records its arrival on 주문상세정보, once, and from then the order owes nothing, every
statement shows the 추가입금, and a later refund can pay it back."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from mileage.models import OutboxMessage
from portal.aftersales.common import ActionError
from portal.aftersales.fulfilment import order_confirm_additional_deposit
from portal.aftersales.models import Refund, RefundStatus
from portal.orders.models import Order, PaymentCancel, PaymentMethod, PaymentStatus
from portal.orders.selectors import exchange_due_won

from ..storefront.conftest import GUEST
from .conftest import delivered, place, returned
from .test_payment_cancel import ACCOUNT, gateway_cancelled_won, press_refund_complete

pytestmark = pytest.mark.sandbox
on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="two writers at once need PostgreSQL row locks (make test runs it there)")


def exchanged_up(shop, operator) -> Order:
    """A 5,000원 card order (500원 of mileage, 4,500원 charged), paid, exchanged for the 10,000원 product: 5,000원
    추가 결제예정."""
    order, _buyer = place(shop, code="1", method="card")
    line = order.lines.get()
    response = operator.post(f"/console/orders/{order.number}/exchange/", {
        f"qty_{line.pk}": "1", "new_2": "1", "mileage_returned_won": "0", "action": "complete"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    order.refresh_from_db()
    assert exchange_due_won(order) == 5_000
    return order


def exchanged_up_after_delivery(shop, operator):
    """A 5,000원 card order delivered (invoice 111), then exchanged for the 10,000원 product: 5,000원 추가 결제예정,
    the new goods not sent yet. Returns the order and its exchange."""
    from portal.aftersales.models import Exchange

    order, _buyer = place(shop, code="1", method="card")
    delivered(operator, order, invoice_no="111")
    line = order.lines.get()
    assert operator.post(f"/console/orders/{order.number}/exchange/", {
        f"qty_{line.pk}": "1", "new_2": "1", "mileage_returned_won": "0", "action": "complete"}).status_code == 302
    return order, Exchange.objects.get(order=order)


def returned_and_refunded(operator, order, line, *, cash: int) -> Refund:
    """The whole `line` returned with `cash` 현금환불 to the account and the 500원 of mileage, 반송중, 반송완료, then
    환불완료 pressed: the refund as it ended."""
    returned(operator, order, {
        f"qty_{line.pk}": "1", "cash_won": str(cash), "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "cash", **ACCOUNT})
    refund = Refund.objects.get(order=order)
    press_refund_complete(operator, refund)
    refund.refresh_from_db()
    return refund


def press(operator, order) -> str:
    response = operator.post(f"/console/orders/{order.number}/action/confirm_additional_deposit/", follow=True)
    return response.content.decode()


def test_the_additional_deposit_is_recorded_once_and_the_order_owes_nothing_more(shop, operator):
    order = exchanged_up(shop, operator)
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert 'id="additional-deposit-form"' in detail and "추가입금확인" in detail
    # 실 결제금액 is what was taken (4,500원 by card), the 5,000원 still to come beside it: 9,500원 with the mileage
    assert '<tr id="collected"><th>실 결제금액</th><td class="won">4,500원</td></tr>' in detail
    # when the operator confirms the 추가입금
    page = press(operator, order)
    assert "추가입금확인 처리했습니다." in page
    # then it is a payment of its own, 무통장입금 of the 5,000원 owed, charged, and nothing is owed any more
    first, extra = order.payments.order_by("id")
    assert (extra.method, extra.amount_won, extra.status) == (PaymentMethod.BANK_TRANSFER, 5_000,
                                                               PaymentStatus.APPROVED)
    assert extra.state_changes.get().note == "추가입금확인"
    assert first.amount_won == 4_500 and first.status == PaymentStatus.APPROVED
    assert exchange_due_won(order) == 0
    assert 'id="exchange-due"' not in page and 'class="additional-deposit"' in page and "5,000원" in page
    assert '<tr id="collected"><th>실 결제금액</th><td class="won">9,500원</td></tr>' in page
    # and pressing again (a second tab) records nothing more
    again = press(operator, order)
    assert "받을 추가입금이 없습니다." in again
    assert order.payments.count() == 2
    # the buyer's statement shows the 추가입금 instead of the amount still to pay
    buyer = Client()
    found = buyer.post("/shop/guest/", {"number": order.number, "password": GUEST["guest_password"]})
    statement = buyer.get(found["Location"]).content.decode()
    assert 'id="exchange-due"' not in statement and 'class="additional-deposit"' in statement
    # and the receipt's lines add up to its total: the goods as ordered less the mileage, and the 추가입금 above it
    from portal.receipts.render import receipt_html

    receipt = receipt_html(Order.objects.get(pk=order.pk))
    payment_block = receipt.split('id="receipt-goods">', 1)[1].split("</table>", 1)[0]
    assert payment_block.startswith("5,000원")
    assert payment_block.index('class="additional-deposit"') < payment_block.index('id="total"')
    assert '<td class="won">+5,000원' in payment_block and 'id="total">9,500원' in payment_block



def _queue_and_export(operator, order) -> tuple[str, list[str]]:
    """주문조회's row of `order` and its line of the CSV export (by header)."""
    page = operator.get("/console/orders/", {"number": order.number}).content.decode()
    row = next(r for r in page.split("<tbody>", 1)[1].split("<tr>") if order.number in r)
    export = operator.post(f"/console/orders/?number={order.number}&export=csv", {"reason": "입금 대조"})
    lines = export.content.decode("utf-8-sig").splitlines()
    header, line = lines[0].split(","), next(line for line in lines[1:] if order.number in line).split(",")
    return row, dict(zip(header, line, strict=True))


def test_the_queue_and_its_export_show_what_an_exchange_still_awaits_as_the_order_does(shop, operator):
    # given an order exchanged for a dearer product: 4,500원 taken, 5,000원 추가 결제예정 (주문상세정보's figure)
    order = exchanged_up(shop, operator)
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert '<tr id="exchange-due"><th>추가 결제예정 금액</th><td class="won">5,000원' in detail
    # then 주문조회 and its export say the same beside 실결제금액, so that the bank's deposit can be matched there
    row, line = _queue_and_export(operator, order)
    assert '<td class="won">4,500원<small class="d-block text-muted due">추가 결제예정 5,000원</small></td>' in row
    assert (line["실결제금액"], line["결제예정금액"]) == ("4500", "5000")
    # and once the 추가입금 is confirmed, nothing is awaited on any of them
    press(operator, order)
    row, line = _queue_and_export(operator, order)
    assert '<td class="won">9,500원</td>' in row and "결제예정" not in row
    assert (line["실결제금액"], line["결제예정금액"]) == ("9500", "0")

def test_my_page_lists_the_additional_deposit_beside_the_amount_paid_at_the_order(shop, operator):
    # given hong's order exchanged for a dearer product, its 5,000원 추가입금 still to come
    from portal.accounts.models import Member

    order = exchanged_up(shop, operator)
    hong = User.objects.get(username="hong")
    Order.objects.filter(pk=order.pk).update(member=Member.objects.get(user=hong))
    member = Client()
    member.force_login(hong)

    def row() -> str:
        page = member.get("/shop/mypage/").content.decode()
        return next(r for r in page.split("<tr>") if order.number in r)

    assert "추가 결제예정 금액 5,000원" in row() and "additional-deposit" not in row()
    # when it comes in, My Page says so beside the 4,500원 paid at the order, as the statement does
    press(operator, order)
    listed = row()
    assert "4,500원" in listed and 'class="text-body-secondary additional-deposit">추가입금 5,000원' in listed
    assert "추가 결제예정 금액" not in listed


def test_nothing_to_confirm_without_an_exchange_that_left_money_owed(shop, operator):
    order, _buyer = place(shop, code="1", method="card")
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert 'id="additional-deposit-form"' not in detail
    assert "받을 추가입금이 없습니다." in press(operator, order)
    assert order.payments.count() == 1


def test_a_whole_return_after_the_additional_deposit_pays_back_both_payments(shop, operator):
    order = exchanged_up(shop, operator)
    press(operator, order)
    delivered(operator, order)
    # when the whole order (now 10,000원: 4,500원 by card, 500원 of mileage, 5,000원 추가입금) comes back
    line = order.lines.get(product__code="2")
    form = operator.get(f"/console/orders/{order.number}/return/").content.decode()
    assert "9,500" in form  # what may go back in money: both payments
    # 금액 계산 fills 9,500원 and turns 카드취소 into 현금환불 (a card cannot pay back the 추가입금)
    quoted = operator.post(f"/console/orders/{order.number}/return/", {
        f"qty_{line.pk}": "1", "method": "card", "action": "quote"}).content.decode()
    assert re.search(r'<option value="cash" selected>', quoted) and 'value="9,500"' in quoted
    response = operator.post(f"/console/orders/{order.number}/return/", {
        f"qty_{line.pk}": "1", "cash_won": "9500", "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "card"})
    # a card cannot pay back the 추가입금: the form says so and nothing is recorded
    assert response.status_code == 400 and "추가입금이 포함된 환불은 현금환불로 처리해 주세요" in response.content.decode()
    assert not Refund.objects.filter(order=order).exists()
    refund = returned_and_refunded(operator, order, line, cash=9_500)
    # then the refund is paid: 4,500원 booked against the card payment, 5,000원 against the 추가입금, to the account
    assert refund.status == RefundStatus.DONE
    booked = {c.payment.amount_won: (c.amount_won, c.status, c.message)
              for c in PaymentCancel.objects.filter(refund_number=refund.number)}
    assert booked == {4_500: (4_500, "done", "농협 302-1234-5678 홍길동"), 5_000: (5_000, "done", "농협 302-1234-5678 홍길동")}
    assert set(order.payments.values_list("status", flat=True)) == {PaymentStatus.CANCELLED}
    assert gateway_cancelled_won(order.payments.order_by("id").first()) == 0  # paid by the shop, not the card
    # and pressing 환불완료 again pays nothing more
    press_refund_complete(operator, refund)
    assert PaymentCancel.objects.filter(refund_number=refund.number).count() == 2


@on_postgres
def test_two_operators_confirming_the_additional_deposit_at_once_record_it_once(shop, operator):
    for _round in range(3):
        order = exchanged_up(shop, operator)
        user = User.objects.get(username="operator")

        def confirm(_i, order=order, user=user):
            try:
                order_confirm_additional_deposit(order=order, by=user)
                return True
            except ActionError:
                return False
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(confirm, range(2)))
        assert sorted(results) == [False, True]
        assert order.payments.count() == 2 and exchange_due_won(order) == 0


def test_the_buyers_statement_marks_the_line_given_back_in_the_exchange(shop, operator):
    order = exchanged_up(shop, operator)
    buyer = Client()
    found = buyer.post("/shop/guest/", {"number": order.number, "password": GUEST["guest_password"]})
    page = buyer.get(found["Location"]).content.decode()
    given_back = order.lines.get(product__code="1")
    row = next(r for r in page.split("<tr") if given_back.product_name in r and "order-line" in r)
    assert "line-replaced" in row and "반품/교환됨" in row and f"<s>{given_back.product_name}</s>" in row


def test_no_purchase_is_confirmed_while_the_exchanges_payment_is_still_to_come(shop, operator):
    # given a delivered order exchanged up, whose 추가 결제예정 금액 the buyer has not paid
    order, _exchange = exchanged_up_after_delivery(shop, operator)
    # when the operator presses 구매확정 on its detail or in the list's bulk action
    one = operator.post(f"/console/orders/{order.number}/action/confirm_purchase/", follow=True).content.decode()
    bulk = operator.post("/console/orders/bulk/", {"action": "confirm_purchase", "selection": [order.pk]},
                         follow=True).content.decode()
    # then it is refused with the amount still owed, and the provider is told nothing
    for page in (one, bulk):
        assert "추가 결제예정 금액" in page and "아직 입금되지 않아 구매확정할 수 없습니다" in page
    order.refresh_from_db()
    assert order.status == "delivered"
    assert not OutboxMessage.objects.filter(order=order, kind="confirmed").exists()
    # once the 추가입금 is confirmed, the exchange's goods are to be sent first: 구매확정 waits for them
    press(operator, order)
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert 'id="confirm-after-exchange-shipping"' in detail and "exchange-ship-form" in detail
    page = operator.post(f"/console/orders/{order.number}/action/confirm_purchase/", follow=True).content.decode()
    assert "교환상품이 아직 배송되지 않아 구매확정할 수 없습니다" in page
    order.refresh_from_db()
    assert order.status == "delivered"
    # and once they are sent, it can be
    ship_exchange(operator, order)
    operator.post(f"/console/orders/{order.number}/action/confirm_purchase/")
    order.refresh_from_db()
    assert order.status == "confirmed"


def ship_exchange(operator, order, invoice_no: str = "EX-1"):
    from portal.aftersales.models import Exchange

    exchange = Exchange.objects.get(order=order)
    response = operator.post(f"/console/exchanges/{exchange.pk}/ship/", {"carrier": "cj", "invoice_no": invoice_no},
                             follow=True)
    assert "교환상품을 배송처리했습니다." in response.content.decode(), response.content.decode()[-2000:]


def test_the_exchanges_goods_ship_with_their_own_invoice_after_the_additional_deposit(shop, operator):
    # given a delivered 5,000원 card order exchanged for the 10,000원 product (5,000원 still to come)
    order, exchange = exchanged_up_after_delivery(shop, operator)
    new_line = order.lines.get(exchange=exchange)
    buyer = Client()
    page = buyer.post("/shop/guest/", {"number": order.number, "password": "abcd1234"}, follow=True).content.decode()
    assert "교환상품 · 배송 준비중" in page and 'id="confirm-form"' not in page
    assert "교환상품이 배송된 뒤에 구매확정할 수 있습니다." in page
    # the new line shows no invoice of its own yet (never the first delivery's)
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    row = next(r for r in detail.split("<tr") if new_line.product_name in r and "order-line" in r)
    assert "교환상품 배송 전" in row and "111" not in row
    # before the 추가입금, 교환상품 배송 is refused and nothing changes; bad input too
    early = operator.post(f"/console/exchanges/{exchange.pk}/ship/", {"carrier": "cj", "invoice_no": "EX-1"},
                          follow=True).content.decode()
    assert "추가 결제예정 금액 5,000원을 받은 뒤에 교환상품을 배송할 수 있습니다." in early
    press(operator, order)
    for data, says in (({"carrier": "cj", "invoice_no": ""}, "운송장번호를 입력해 주세요"),
                       ({"carrier": "nowhere", "invoice_no": "EX-1"}, "택배사를 목록에서 골라 주세요.")):
        assert says in operator.post(f"/console/exchanges/{exchange.pk}/ship/", data, follow=True).content.decode()
    exchange.refresh_from_db()
    assert exchange.shipped_at is None
    # when the operator ships it, the new line reads its carrier and invoice; a second press changes nothing
    ship_exchange(operator, order, invoice_no="EX-777")
    again = operator.post(f"/console/exchanges/{exchange.pk}/ship/", {"carrier": "lotte", "invoice_no": "EX-9"},
                          follow=True).content.decode()
    assert "이미 배송한 교환입니다." in again
    exchange.refresh_from_db()
    assert (exchange.carrier, exchange.invoice_no, exchange.shipped_by.username) == ("cj", "EX-777", "operator")
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    row = next(r for r in detail.split("<tr") if new_line.product_name in r and "order-line" in r)
    assert "EX-777" in row and "CJ대한통운" in row
    # and the buyer's order page says where the new goods are
    buyer = Client()
    page = buyer.post("/shop/guest/", {"number": order.number, "password": "abcd1234"}, follow=True).content.decode()
    assert "교환상품 · CJ대한통운 EX-777" in page
    # and the provider got the new goods' delivery invoice (docs/protocol.md §2, "shipped"), once, on the txId the
    # exchange's re-approval gave — besides the order's own of 111
    invoices = OutboxMessage.objects.filter(order=order, kind="invoice").order_by("id")
    assert [(m.payload["invoice"]["invoice_no"], m.status) for m in invoices] == [("111", "sent"), ("EX-777", "sent")]
    repaid = OutboxMessage.objects.get(order=order, kind="repayment")
    order = Order.objects.select_related("mileage").get(pk=order.pk)
    assert order.mileage.tx_id != repaid.payload["tx_id_before"]  # the exchange's new txId, on which it went
    assert order.mileage.events.filter(kind="invoice", tx_id=order.mileage.tx_id).count() == 1


def test_goods_exchanged_before_the_order_shipped_go_with_the_order(shop, operator):
    # given a paid order exchanged before it shipped, its 추가입금 confirmed
    order = exchanged_up(shop, operator)
    press(operator, order)
    # then its new goods leave with the order: no 교환상품 배송 of their own, and 구매확정 follows the delivery
    delivered(operator, order, invoice_no="222")
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert "exchange-ship-form" not in detail and "주문과 함께 배송" in detail
    new_line = order.lines.exclude(exchange=None).get()
    row = next(r for r in detail.split("<tr") if new_line.product_name in r and "order-line" in r)
    assert "222" in row
    operator.post(f"/console/orders/{order.number}/action/confirm_purchase/")
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_goods_not_shipped_yet_cannot_be_returned_and_a_returned_order_ships_nothing(shop, operator):
    # given a delivered order exchanged up after delivery: its new goods not sent, their 추가입금 not paid
    from portal.aftersales.models import ReturnRequest

    order, exchange = exchanged_up_after_delivery(shop, operator)
    new_line = order.lines.get(exchange=exchange)
    # when the operator tries to return the line the buyer never received
    response = operator.post(f"/console/orders/{order.number}/return/", {
        f"qty_{new_line.pk}": "1", "cash_won": "0", "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "card", "zero_ok": "1"})
    # then it is refused with why, and nothing is recorded
    assert response.status_code == 400
    assert f"{new_line.product_name}: 아직 배송하지 않은 교환상품이라 반품할 수 없습니다." in response.content.decode()
    assert not ReturnRequest.objects.filter(order=order).exists()
    # and an order that is no longer out with the buyer (here set 반송완료 by hand) ships no exchanged goods
    Order.objects.filter(pk=order.pk).update(status="returned")
    response = operator.post(f"/console/exchanges/{exchange.pk}/ship/", {"carrier": "cj", "invoice_no": "R1"},
                             follow=True).content.decode()
    assert "이 주문은 교환상품을 배송할 수 없습니다" in response
    exchange.refresh_from_db()
    assert exchange.shipped_at is None
    # a 운송장번호 over its length says so
    Order.objects.filter(pk=order.pk).update(status="delivered")
    press(operator, order)
    long = operator.post(f"/console/exchanges/{exchange.pk}/ship/", {"carrier": "cj", "invoice_no": "1" * 41},
                         follow=True).content.decode()
    assert "운송장번호는 40자까지 입력할 수 있습니다." in long


def test_a_whole_return_that_leaves_out_money_of_the_additional_deposit_is_refused(shop, operator):
    # given the card order exchanged up, its 5,000원 추가입금 (a deposit: no 결제취소) confirmed, delivered
    order = exchanged_up(shop, operator)
    press(operator, order)
    delivered(operator, order)
    line = order.lines.get(product__code="2")
    # when the whole order comes back with 1,000원 less paid back: the refund pays from the card first, so the
    # 1,000원 would stay on the 추가입금, which nothing could give back later
    response = operator.post(f"/console/orders/{order.number}/return/", {
        f"qty_{line.pk}": "1", "cash_won": "8500", "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "cash", **ACCOUNT})
    # then it is refused with why, and nothing is recorded
    assert response.status_code == 400
    assert "무통장입금은 결제취소가 없어 남긴 금액을 나중에 돌려줄 수 없습니다." in response.content.decode()
    assert not Refund.objects.filter(order=order).exists()
