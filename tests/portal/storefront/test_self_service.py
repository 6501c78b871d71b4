"""Buyer self-service (issue 24): a member or a guest cancels an order still 입금전 (the use returns at once at the
provider, §6), and asks for 취소/반품 of a paid order, which the operator sees in 주문조회 and acts on."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import translation

from mileage.models import MileageEvent
from portal.aftersales.models import BuyerRequest, BuyerRequestStatus, Refund
from portal.orders.models import Order, OrderStatus, PaymentStatus

from .conftest import GUEST, MEMBER, choose_mileage

pytestmark = pytest.mark.sandbox


@pytest.fixture(autouse=True)
def _default_language_after():
    """A request through the language switch leaves English active in this thread: later tests expect Korean."""
    yield
    translation.deactivate()
on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="concurrent writers need PostgreSQL row locks (make test runs it there)")

CONFIRM = {"confirm": "on"}


def _place(shop, client: Client, *, member: bool, method: str = "bank", use: int = 500,
           quantity: str = "1") -> tuple[Order, str]:
    buyer = shop.new_buyer(15_500)
    client.post("/shop/cart/add/", {"code": "1", "quantity": quantity})
    client.get("/shop/order/")
    choose_mileage(client, shop, buyer, use)
    data = {**(MEMBER if member else GUEST), "payment_method": method}
    if member:
        data["store_points"] = "0"
    if method != "bank":
        data["card_number"] = "4111111111111111"
    response = client.post("/shop/order/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    return Order.objects.order_by("-id").first(), buyer


def _row(listing: str, number: str) -> str:
    """The order queue's row of `number` (the table body only: the filter form may hold the number too)."""
    return next(r for r in listing.split("<tbody>", 1)[1].split("<tr>") if number in r)


def _operator() -> Client:
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    return operator


def test_member_cancels_an_unpaid_order_from_my_page_and_the_use_returns_at_once(shop):
    # given hong's bank-transfer order with 500원 of mileage, still 입금전
    client = Client()
    client.force_login(User.objects.get(username="hong"))
    order, buyer = _place(shop, client, member=True)
    assert order.status == OrderStatus.AWAITING_DEPOSIT
    assert shop.balance(buyer)["available"] == 15_000
    mypage = client.get("/shop/mypage/").content.decode()
    assert f"/shop/orders/{order.number}/#self-service" in mypage and "주문취소" in mypage
    detail = client.get(f"/shop/orders/{order.number}/").content.decode()
    assert 'id="cancel-form"' in detail and "취소하는 즉시 반환" in detail and 'name="password"' not in detail
    # unconfirmed, nothing happens
    unconfirmed = client.post(f"/shop/orders/{order.number}/cancel/")
    assert unconfirmed.status_code == 400 and "주문을 취소하려면 확인란을 선택해 주세요." in unconfirmed.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_DEPOSIT
    # when the member cancels it
    response = client.post(f"/shop/orders/{order.number}/cancel/", CONFIRM)
    # then the order is 주문취소 and the provider has the 500원 back at once (the operator's own service ran)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    balance = shop.balance(buyer)
    assert (balance["available"], balance["pending"]) == (15_500, 0)
    assert list(MileageEvent.objects.filter(transaction__order=order).values_list("kind", "result_code")) == [
        ("approve", "1000"), ("cancel", "1000")]
    assert order.status_changes.last().changed_by.username == "hong"
    page = client.get(f"/shop/orders/{order.number}/").content.decode()
    assert "사용하신 네이버 마일리지 500원은 네이버에 바로 반환을 요청했습니다" in page and 'id="cancel-form"' not in page
    assert "적립 취소" in page
    # and a second cancel is refused with a message, changing nothing
    again = client.post(f"/shop/orders/{order.number}/cancel/", CONFIRM)
    assert again.status_code == 400 and "입금전 주문만 바로 취소할 수 있습니다" in again.content.decode()
    assert MileageEvent.objects.filter(transaction__order=order, kind="cancel").count() == 1


def test_guest_cancels_with_number_and_password_and_a_wrong_password_changes_nothing(shop):
    # given a guest's unpaid order
    placing = Client()
    order, buyer = _place(shop, placing, member=False)
    guest = Client()
    # a wrong password at 비회원 주문조회 is refused and shows nothing of the order
    wrong = guest.post("/shop/guest/", {"number": order.number, "password": "wrong999"})
    assert wrong.status_code == 400 and "주문번호 또는 비밀번호가 올바르지 않습니다." in wrong.content.decode()
    assert 'role="alert" id="lookup-error"' in wrong.content.decode()  # announced, no field marked right
    assert "is-valid" not in wrong.content.decode()
    assert guest.post(f"/shop/orders/{order.number}/cancel/", {**CONFIRM, "password": "abcd1234"}).status_code == 404
    # the right one opens the order, whose cancel asks for the password again
    found = guest.post("/shop/guest/", {"number": order.number, "password": "abcd1234"})
    assert found.status_code == 302
    detail = guest.get(found["Location"]).content.decode()
    assert 'id="cancel-form"' in detail and 'name="password"' in detail
    refused = guest.post(f"/shop/orders/{order.number}/cancel/", {**CONFIRM, "password": "nope1234"})
    assert refused.status_code == 400
    assert "비밀번호가 올바르지 않습니다. 주문은 바뀌지 않았습니다." in refused.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DEPOSIT and shop.balance(buyer)["available"] == 15_000
    assert not MileageEvent.objects.filter(transaction__order=order, kind="cancel").exists()
    # with the right password the order is cancelled and the use returned
    assert guest.post(f"/shop/orders/{order.number}/cancel/", {**CONFIRM, "password": "abcd1234"}).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and shop.balance(buyer)["available"] == 15_500


def test_a_browser_that_only_saw_a_member_order_cannot_cancel_it(shop):
    # given hong's unpaid order, and a browser not logged in whose session lists it (it may look at it)
    client = Client()
    client.force_login(User.objects.get(username="hong"))
    order, buyer = _place(shop, client, member=True)
    other = Client()
    session = other.session
    session["my_orders"] = [order.number]
    session.save()
    assert other.get(f"/shop/orders/{order.number}/").status_code == 200
    # when it presses 주문취소, it is sent to log in and nothing changes
    response = other.post(f"/shop/orders/{order.number}/cancel/", CONFIRM, follow=True)
    assert "회원 주문은 로그인한 후 취소하거나 신청할 수 있습니다." in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DEPOSIT and shop.balance(buyer)["available"] == 15_000
    # and a browser that never saw it gets no page at all
    assert Client().post(f"/shop/orders/{order.number}/cancel/", CONFIRM).status_code == 404


def test_a_paid_orders_request_reaches_the_console_list_with_a_badge_and_the_cancel_handles_it(shop):
    # given a guest's card order (결제완료)
    guest = Client()
    order, buyer = _place(shop, guest, member=False, method="card")
    assert order.status == OrderStatus.PAID
    detail = guest.get(f"/shop/orders/{order.number}/").content.decode()
    assert 'id="request-form"' in detail and 'id="cancel-form"' not in detail
    # bad input changes nothing: no reason, a kind the order does not allow, a wrong password
    for data, text in [({"kind": "cancel", "reason": "", "password": "abcd1234"}, "신청 사유를 입력해 주세요."),
                       ({"kind": "return", "reason": "변심", "password": "abcd1234"}, "신청할 수 없는 구분"),
                       ({"kind": "cancel", "reason": "변심", "password": "x"}, "비밀번호가 올바르지 않습니다.")]:
        response = guest.post(f"/shop/orders/{order.number}/request/", data)
        assert response.status_code == 400, data
        assert text in response.content.decode(), data
    assert not BuyerRequest.objects.exists()
    # when the guest asks for 취소 with a reason
    response = guest.post(f"/shop/orders/{order.number}/request/",
                          {"kind": "cancel", "reason": "주문을 잘못했습니다", "password": "abcd1234"})
    assert response.status_code == 302
    request = BuyerRequest.objects.get()
    assert (request.kind, request.status, request.requested_by) == ("cancel", BuyerRequestStatus.OPEN, None)
    page = guest.get(f"/shop/orders/{order.number}/").content.decode()
    assert 'id="open-request"' in page and 'id="request-form"' not in page
    # a second request waits for the first
    second = guest.post(f"/shop/orders/{order.number}/request/",
                        {"kind": "cancel", "reason": "다시", "password": "abcd1234"})
    assert second.status_code == 400 and BuyerRequest.objects.count() == 1
    # then the operator sees it in 주문조회 (as it opens, and filtered/sorted) with a badge, and on the detail
    operator = _operator()
    for url in ("/console/orders/", f"/console/orders/?number={order.number}", "/console/orders/?sort=-placed_at"):
        row = _row(operator.get(url).content.decode(), order.number)
        assert 'class="badge request-badge request-cancel">취소 신청</span>' in row, url
    # the queue's 취소/반품 신청 filter finds it (any open request, or open cancellations) and only it
    for kind in ("open", "cancel"):
        assert order.number in operator.get("/console/orders/", {"buyer_request": kind}).content.decode(), kind
    assert order.number not in operator.get("/console/orders/", {"buyer_request": "return"}).content.decode()
    detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert 'id="open-request"' in detail and "주문을 잘못했습니다" in detail
    assert f"/console/orders/{order.number}/cancel/" in detail
    cancel_screen = operator.get(f"/console/orders/{order.number}/cancel/").content.decode()
    assert 'id="open-request-note"' in cancel_screen and "주문을 잘못했습니다" in cancel_screen
    # and the operator's 배송전 취소 marks it handled; the badge is gone; the provider is still not told (L3)
    response = operator.post(f"/console/orders/{order.number}/cancel/", {
        "cash_won": "4500", "store_points_won": "0", "mileage_won": "500", "shipping_deduction_won": "0",
        "method": "card"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == BuyerRequestStatus.HANDLED and request.handled_by.username == "operator"
    assert Refund.objects.filter(order=order).count() == 1 and shop.balance(buyer)["available"] == 15_000
    assert "request-badge" not in _row(operator.get("/console/orders/").content.decode(), order.number)
    # the buyer reads that the refund is under way, not done, until the money moved
    page = guest.get(f"/shop/orders/{order.number}/").content.decode()
    assert "접수완료 · 환불 진행중" in page and "처리완료" not in page
    refunds = page.split('id="refunds"', 1)[1].split("</section>", 1)[0]
    assert "4,500원" in refunds and "500원" in refunds and "환불 진행중" in refunds and "환불완료 (" not in refunds
    refund = Refund.objects.get(order=order)
    assert operator.post("/console/refunds/", {"selection": [refund.pk], "confirm": "1"}).status_code == 302
    page = guest.get(f"/shop/orders/{order.number}/").content.decode()
    assert "처리완료" in page and "환불완료 (" in page.split('id="refunds"', 1)[1]


def test_the_operator_dismisses_a_request_with_a_reason_the_buyer_reads(shop):
    client = Client()
    client.force_login(User.objects.get(username="hong"))
    order, _buyer = _place(shop, client, member=True, method="card")
    assert client.post(f"/shop/orders/{order.number}/request/",
                       {"kind": "cancel", "reason": "색상이 마음에 들지 않아요"}).status_code == 302
    request = BuyerRequest.objects.get()
    assert request.requested_by.username == "hong"
    operator = _operator()
    # no reason: refused, nothing changed
    operator.post(f"/console/requests/{request.pk}/dismiss/", {"dismiss_reason": " "})
    request.refresh_from_db()
    assert request.status == BuyerRequestStatus.OPEN
    response = operator.post(f"/console/requests/{request.pk}/dismiss/", {"dismiss_reason": "이미 출고되었습니다"},
                             follow=True)
    assert "취소 신청을 반려했습니다." in response.content.decode()
    request.refresh_from_db()
    assert request.status == BuyerRequestStatus.DISMISSED and request.handled_by.username == "operator"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    page = client.get(f"/shop/orders/{order.number}/").content.decode()
    assert "반려 사유: 이미 출고되었습니다" in page and 'id="request-form"' in page  # the buyer may ask again
    # and in English the section speaks English
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/shop/"}).status_code == 302
    english = client.get(f"/shop/orders/{order.number}/").content.decode()
    assert "Send request" in english and "Cancellation" in english and "Reason" in english
    assert "신청하기" not in english and "신청 사유" not in english


@on_postgres
def test_the_buyers_cancel_and_the_operators_deposit_at_once_never_cancel_a_paid_order(shop):
    # given a guest's unpaid order with 500원 of mileage, looked up with its password
    order, buyer = _place(shop, Client(), member=False)
    guest = Client()
    assert guest.post("/shop/guest/", {"number": order.number, "password": "abcd1234"}).status_code == 302
    operator = _operator()

    def act(who):
        try:
            if who == "buyer":
                return guest.post(f"/shop/orders/{order.number}/cancel/", {**CONFIRM, "password": "abcd1234"}).status_code
            return operator.post(f"/console/orders/{order.number}/action/confirm_deposit/").status_code
        finally:
            connection.close()

    # when the buyer cancels while the operator confirms the deposit
    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = dict(zip(("buyer", "operator"), pool.map(act, ("buyer", "operator")), strict=True))
    # then exactly one of them won, and the order, its payment and the provider agree
    order.refresh_from_db()
    payment = order.payments.get()
    kinds = list(MileageEvent.objects.filter(transaction__order=order).values_list("kind", flat=True))
    if order.status == OrderStatus.CANCELLED:
        assert codes["buyer"] == 302 and payment.status == PaymentStatus.CANCELLED
        assert kinds == ["approve", "cancel"] and shop.balance(buyer)["available"] == 15_500
    else:
        assert order.status == OrderStatus.PAID and codes["buyer"] == 400
        assert payment.status == PaymentStatus.APPROVED and "cancel" not in kinds
        assert shop.balance(buyer)["available"] == 15_000


def test_bad_input_gets_a_message_and_changes_nothing(shop):
    guest = Client()
    order, _buyer = _place(shop, guest, member=False, method="card")
    url = f"/shop/orders/{order.number}/request/"
    for data in ({}, {"kind": "x" * 5000, "reason": "r", "password": "abcd1234"},
                 {"kind": "cancel", "reason": "가" * 501, "password": "abcd1234"},
                 {"kind": "cancel", "reason": "r", "password": "p" * 5000},
                 {"kind": ["cancel", "return"], "reason": ["a", "b"]}):
        response = guest.post(url, data)
        assert response.status_code == 400, data
    assert guest.post(f"/shop/orders/{order.number}/cancel/", {"confirm": "on", "password": "abcd1234"}).status_code \
        == 400  # paid: nothing to cancel at once
    assert guest.get(url).status_code == 405 and guest.get(f"/shop/orders/{order.number}/cancel/").status_code == 405
    assert Client().post("/shop/orders/nope/request/", {"kind": "cancel"}).status_code == 404
    operator = _operator()
    assert operator.post("/console/requests/999999/dismiss/", {"dismiss_reason": "x"}).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and not BuyerRequest.objects.exists()
    # a reason over 300 characters for 반려 is refused with a message
    request = BuyerRequest.objects.create(order=order, kind="cancel", reason="변심")
    response = operator.post(f"/console/requests/{request.pk}/dismiss/", {"dismiss_reason": "가" * 301}, follow=True)
    assert "반려 사유는 300자까지 입력할 수 있습니다." in response.content.decode()
    request.refresh_from_db()
    assert request.status == BuyerRequestStatus.OPEN


def _delivered_asked_to_return(shop, guest: Client, operator: Client, *, quantity: str = "1",
                               reason: str = "사이즈가 맞지 않아요") -> Order:
    """A guest's delivered card order whose guest asked to return it (반품 신청)."""
    order, _buyer = _place(shop, guest, member=False, method="card", quantity=quantity)
    for action in ("ship", "deliver"):
        operator.post(f"/console/orders/{order.number}/action/{action}/", {"carrier": "cj", "invoice_no": "1"})
    assert guest.post(f"/shop/orders/{order.number}/request/",
                      {"kind": "return", "reason": reason, "password": "abcd1234"}).status_code == 302
    return order


def test_a_return_request_reads_under_way_from_반품접수_until_the_refund_is_done(shop):
    # given a guest's delivered card order and the guest's 반품 신청
    guest, operator = Client(), _operator()
    order = _delivered_asked_to_return(shop, guest, operator)
    # when the operator registers the return (반품접수), then the goods are on their way back (반송중)
    line = order.lines.get()
    assert operator.post(f"/console/orders/{order.number}/return/", {
        f"qty_{line.pk}": "1", "cash_won": "4500", "store_points_won": "0", "mileage_won": "500",
        "shipping_deduction_won": "0", "method": "card"}).status_code == 302

    def state() -> str:
        page = guest.get(f"/shop/orders/{order.number}/").content.decode()
        return page.split('id="buyer-requests"', 1)[1].split("</table>", 1)[0]

    # then the buyer reads that the return is under way, never 처리완료, while nothing came back yet
    assert "접수완료 · 반품 진행중" in state() and "처리완료" not in state()
    from portal.aftersales.models import ReturnRequest

    returning = ReturnRequest.objects.get(order=order)
    operator.post(f"/console/returns/{returning.pk}/shipping/")
    assert "접수완료 · 반품 진행중" in state()
    # at 반송완료 the refund waits; after 환불완료 the request reads 처리완료
    operator.post(f"/console/returns/{returning.pk}/complete/")
    assert "접수완료 · 환불 진행중" in state()
    refund = Refund.objects.get(order=order)
    assert operator.post("/console/refunds/", {"selection": [refund.pk], "confirm": "1"}).status_code == 302
    assert "처리완료" in state()


def test_a_finished_request_is_not_reopened_by_what_the_operator_does_later_on_their_own(shop):
    from django.utils import timezone

    from portal.aftersales.common import create_refund
    from portal.aftersales.models import RefundReason, ReturnRequest

    # given a guest's delivered card order of two items, one returned at the guest's request and refunded
    guest, operator = Client(), _operator()
    order = _delivered_asked_to_return(shop, guest, operator, quantity="2", reason="하나만 반품합니다")
    line = order.lines.get()
    form = {f"qty_{line.pk}": "1", "cash_won": "4500", "store_points_won": "0", "mileage_won": "500",
            "shipping_deduction_won": "0", "method": "card"}
    assert operator.post(f"/console/orders/{order.number}/return/", form).status_code == 302
    first = ReturnRequest.objects.get(order=order)
    operator.post(f"/console/returns/{first.pk}/shipping/")
    operator.post(f"/console/returns/{first.pk}/complete/")
    operator.post("/console/refunds/", {"selection": [Refund.objects.get(order=order).pk], "confirm": "1"})

    def state() -> str:
        page = guest.get(f"/shop/orders/{order.number}/").content.decode()
        return page.split('id="buyer-requests"', 1)[1].split("</table>", 1)[0]

    assert "처리완료" in state()
    # when the operator registers a return of the other item on their own, and later a refund of another kind
    assert operator.post(f"/console/orders/{order.number}/return/", {**form, "mileage_won": "0", "cash_won": "5000"}
                         ).status_code == 302
    # then the guest's finished request still reads 처리완료, not the new return's progress
    assert "처리완료" in state() and "진행중" not in state()
    create_refund(timezone.now(), order=order, reason=RefundReason.EXCHANGE, cash_won=1_000,
                  created_by=User.objects.get(username="operator"))
    assert "처리완료" in state() and "진행중" not in state()
    # and the note under 환불 내역 promises back only what the refunds waiting carry (money, no Naver Mileage)
    page = guest.get(f"/shop/orders/{order.number}/").content.decode()
    assert "환불 진행중인 금액은 환불완료 때 돌려드립니다." in page and "금액과 네이버 마일리지는" not in page


def test_an_order_opened_while_logged_out_leads_to_the_login_then_back(shop):
    # given hong's order, opened from a link while logged out
    member_client = Client()
    member_client.force_login(User.objects.get(username="hong"))
    order, _buyer = _place(shop, member_client, member=True)
    stranger = Client()
    response = stranger.get(f"/shop/orders/{order.number}/")
    # then it is not shown, and the page leads to the login and back to the order; a number that is no order
    # answers the same
    page = response.content.decode()
    assert response.status_code == 404 and order.number not in page.split('id="order-login"', 1)[0]
    login_link = page.split('id="order-login" href="', 1)[1].split('"', 1)[0]
    assert login_link == f"/accounts/login/?next=/shop/orders/{order.number}/"
    other = stranger.get("/shop/orders/20990101-9999999/")
    assert other.status_code == 404 and 'id="order-login"' in other.content.decode()
    # and after logging in, the order
    login = stranger.post("/accounts/login/", {"username": "hong", "password": "hong1234!",
                                               "next": f"/shop/orders/{order.number}/"})
    assert login.status_code == 302 and stranger.get(login["Location"]).status_code == 200


def test_a_delivered_orders_exchange_request_reaches_the_console_and_the_exchange_handles_it(shop):
    # given a guest's delivered card order
    guest = Client()
    order, _buyer = _place(shop, guest, member=False, method="card")
    operator = _operator()
    for action in ("ship", "deliver"):
        operator.post(f"/console/orders/{order.number}/action/{action}/", {"carrier": "cj", "invoice_no": "1"})
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    # the buyer is offered 반품 and 교환 (never 취소 of delivered goods), with the exchange policy linked
    detail = guest.get(f"/shop/orders/{order.number}/").content.decode()
    form = detail.split('id="request-form"', 1)[1].split("</form>", 1)[0]
    assert 'value="return"' in form and 'value="exchange"' in form and 'value="cancel"' not in form
    assert "/exchange-policy/" in detail.split('id="self-service"', 1)[1].split("</section>", 1)[0]
    # when the guest asks for 교환 with what to exchange for
    response = guest.post(f"/shop/orders/{order.number}/request/",
                          {"kind": "exchange", "reason": "L 사이즈로 바꿔 주세요", "password": "abcd1234"}, follow=True)
    assert "교환 신청을 접수했습니다." in response.content.decode()
    request = BuyerRequest.objects.get(order=order)
    assert (request.kind, request.status) == ("exchange", BuyerRequestStatus.OPEN)
    # then 주문조회 shows the badge, its filter finds it, and the detail leads to 상품교환
    row = _row(operator.get("/console/orders/").content.decode(), order.number)
    assert 'class="badge request-badge request-exchange">교환 신청</span>' in row
    assert order.number in operator.get("/console/orders/", {"buyer_request": "exchange"}).content.decode()
    assert order.number not in operator.get("/console/orders/", {"buyer_request": "return"}).content.decode()
    console_detail = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert f"/console/orders/{order.number}/exchange/" in console_detail.split('id="open-request"', 1)[1]
    assert "상품교환으로 처리" in console_detail
    # 구매확정 waits for the request, as for a return
    assert 'id="confirm-form"' not in guest.get(f"/shop/orders/{order.number}/").content.decode()
    # and the operator's 상품교환완료 marks it handled; the badge is gone
    line = order.lines.get()
    response = operator.post(f"/console/orders/{order.number}/exchange/", {
        f"qty_{line.pk}": "1", "new_1": "1", "mileage_returned_won": "0", "action": "complete"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    request.refresh_from_db()
    assert request.status == BuyerRequestStatus.HANDLED and request.handled_by.username == "operator"
    assert "request-badge" not in _row(operator.get("/console/orders/").content.decode(), order.number)
    page = guest.get(f"/shop/orders/{order.number}/").content.decode()
    assert "처리완료" in page.split('id="buyer-requests"', 1)[1].split("</table>", 1)[0]


def test_an_exchange_quoted_before_the_buyer_asked_for_a_return_is_not_completed(shop):
    """금액 계산 of an exchange, then the buyer's 반품 신청 (the operator's page never showed it), then 상품교환완료 from
    that page: nothing is exchanged, the operator is told why, and the request stays open for its own handling; a
    교환 신청 is what 상품교환완료 handles, so it never stands in the way."""
    from portal.aftersales.models import Exchange

    guest = Client()
    order, _buyer = _place(shop, guest, member=False, method="card")
    operator = _operator()
    for action in ("ship", "deliver"):
        operator.post(f"/console/orders/{order.number}/action/{action}/", {"carrier": "cj", "invoice_no": "1"})
    line = order.lines.get()
    form = {f"qty_{line.pk}": "1", "new_1": "1", "mileage_returned_won": "0"}
    quoted = operator.post(f"/console/orders/{order.number}/exchange/", {**form, "action": "quote"}).content.decode()
    seen = quoted.split('name="seen" value="', 1)[1].split('"', 1)[0]
    assert seen
    asked = guest.post(f"/shop/orders/{order.number}/request/",
                       {"kind": "return", "reason": "마음이 바뀌었어요", "password": "abcd1234"}, follow=True)
    assert "반품 신청을 접수했습니다." in asked.content.decode()
    pressed = operator.post(f"/console/orders/{order.number}/exchange/", {**form, "action": "complete", "seen": seen})
    assert pressed.status_code in (400, 409)
    assert "반품 신청이 있는 주문입니다" in pressed.content.decode()
    # and the screen says so before any press, offering no 상품교환완료 while the request is open
    screen = operator.post(f"/console/orders/{order.number}/exchange/", {**form, "action": "quote"}).content.decode()
    assert "이 신청이 열려 있는 동안에는 교환할 수 없습니다" in screen and 'id="exchange-complete"' not in screen
    assert not Exchange.objects.filter(order=order).exists()
    assert BuyerRequest.objects.get(order=order).status == BuyerRequestStatus.OPEN
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    # without the page's figures (a form posted without 금액 계산) the same
    again = operator.post(f"/console/orders/{order.number}/exchange/", {**form, "action": "complete"})
    assert again.status_code == 400 and not Exchange.objects.filter(order=order).exists()
