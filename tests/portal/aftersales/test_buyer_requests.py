"""portal/aftersales/buyer_requests.py: the buyer's 취소/반품/교환 신청 — what each status allows, one open request
per order, 반려 with a reason, and the operator's cancel, return or exchange marking it handled in the same
transaction."""

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from portal.aftersales.buyer_requests import buyer_request_create, buyer_request_dismiss
from portal.aftersales.cancellations import order_cancel_after_payment
from portal.aftersales.common import ActionError, RefundInput
from portal.aftersales.exchanges import exchange_complete
from portal.aftersales.models import BuyerRequest, BuyerRequestStatus
from portal.aftersales.returns import return_request
from portal.aftersales.selectors import open_request
from portal.orders.models import Order, OrderStatus, PaymentMethod
from tests.factories import ProductFactory, order_for, paid_order_for

pytestmark = pytest.mark.django_db


def _order(status: str) -> Order:
    """A card order in `status`; paid (its charge taken) unless it is still 입금전."""
    make = order_for if status == OrderStatus.AWAITING_DEPOSIT else paid_order_for
    order = make([(ProductFactory(price_won=5_000), 1)], method=PaymentMethod.CARD)
    Order.objects.filter(pk=order.pk).update(status=status)
    return Order.objects.get(pk=order.pk)


@pytest.mark.parametrize(("status", "allowed", "refused"), [
    (OrderStatus.PAID, "cancel", "return"),
    (OrderStatus.PAID, "cancel", "exchange"),
    (OrderStatus.SHIPPED, "return", "cancel"),
    (OrderStatus.SHIPPED, "return", "exchange"),  # the goods are not with the buyer yet
    (OrderStatus.DELIVERED, "return", "cancel"),
    (OrderStatus.DELIVERED, "exchange", "cancel"),
])
def test_each_status_allows_its_kind_only(status, allowed, refused):
    order = _order(status)
    with pytest.raises(ActionError) as caught:
        buyer_request_create(order=order, kind=refused, reason="사유")
    assert caught.value.field == "kind" and not BuyerRequest.objects.exists()
    assert buyer_request_create(order=order, kind=allowed, reason="  사유  ").reason == "사유"


@pytest.mark.parametrize("status", [OrderStatus.AWAITING_DEPOSIT, OrderStatus.CONFIRMED, OrderStatus.CANCELLED,
                                    OrderStatus.RETURN_REQUESTED])
def test_no_request_where_the_buyer_cancels_at_once_or_nothing_is_left_to_ask(status):
    with pytest.raises(ActionError, match="신청할 수 없습니다"):
        buyer_request_create(order=_order(status), kind="cancel", reason="사유")
    assert not BuyerRequest.objects.exists()


def test_reason_is_required_and_bounded_and_one_request_is_open_at_a_time():
    order = _order(OrderStatus.PAID)
    for reason, text in [("", "신청 사유를 입력해 주세요."), ("   ", "신청 사유를 입력해 주세요."),
                         ("가" * 501, "500자까지")]:
        with pytest.raises(ActionError, match=text):
            buyer_request_create(order=order, kind="cancel", reason=reason)
    first = buyer_request_create(order=order, kind="cancel", reason="변심")
    with pytest.raises(ActionError, match="이미 접수된"):
        buyer_request_create(order=order, kind="cancel", reason="다시")
    # the database keeps it so whatever path writes
    with pytest.raises(IntegrityError), transaction.atomic():
        BuyerRequest.objects.create(order=order, kind="cancel", reason="우회")
    assert open_request(order) == first


def test_dismiss_needs_a_reason_and_happens_once():
    operator = User.objects.create_user("op")
    request = buyer_request_create(order=_order(OrderStatus.PAID), kind="cancel", reason="변심")
    with pytest.raises(ActionError, match="반려 사유를 입력해 주세요."):
        buyer_request_dismiss(request=request, reason=" ", by=operator)
    request.refresh_from_db()
    assert request.status == BuyerRequestStatus.OPEN
    buyer_request_dismiss(request=request, reason="출고 완료", by=operator)
    with pytest.raises(ActionError, match="이미 처리된 신청입니다."):
        buyer_request_dismiss(request=request, reason="또", by=operator)
    request.refresh_from_db()
    assert (request.status, request.dismiss_reason, request.handled_by) == ("dismissed", "출고 완료", operator)
    # and a dismissed request never carries an empty reason, whatever path writes
    with pytest.raises(IntegrityError), transaction.atomic():
        BuyerRequest.objects.filter(pk=request.pk).update(dismiss_reason="")


def _return_its_line(order, operator) -> None:
    """반품접수 of the order's one line, nothing given back yet."""
    return_request(order=order, lines={order.lines.get().pk: 1}, by=operator, reason="파손",
                   data=RefundInput(cash_won=0, store_points_won=0, mileage_won=0))


def test_the_operators_cancel_and_return_mark_the_open_request_handled():
    operator = User.objects.create_user("op")
    paid = _order(OrderStatus.PAID)
    cancel = buyer_request_create(order=paid, kind="cancel", reason="변심")
    order_cancel_after_payment(order=paid, by=operator,
                               data=RefundInput(cash_won=5_000, store_points_won=0, mileage_won=0, method="cash",
                                              bank="농협", account_no="123", holder="홍길동"))
    cancel.refresh_from_db()
    assert cancel.status == BuyerRequestStatus.HANDLED and cancel.handled_by == operator
    delivered = _order(OrderStatus.DELIVERED)
    back = buyer_request_create(order=delivered, kind="return", reason="파손")
    _return_its_line(delivered, operator)
    back.refresh_from_db()
    assert back.status == BuyerRequestStatus.HANDLED and open_request(delivered) is None


def test_the_operators_exchange_marks_the_buyers_exchange_request_handled():
    operator = User.objects.create_user("op")
    delivered = _order(OrderStatus.DELIVERED)
    asked = buyer_request_create(order=delivered, kind="exchange", reason="L 사이즈로 바꿔 주세요")
    line = delivered.lines.get()
    exchange_complete(order=delivered, old_lines={line.pk: 1}, new_products=[(ProductFactory(price_won=5_000), 1)],
                      mileage_returned_won=0, by=operator)
    asked.refresh_from_db()
    assert (asked.status, asked.handled_by) == (BuyerRequestStatus.HANDLED, operator)
    assert open_request(delivered) is None


def test_a_return_or_an_exchange_closes_only_the_request_it_answers():
    operator = User.objects.create_user("op")
    # a buyer who asked for 교환 is not answered by a return of part of the order
    delivered = _order(OrderStatus.DELIVERED)
    asked = buyer_request_create(order=delivered, kind="exchange", reason="L 사이즈로 바꿔 주세요")
    _return_its_line(delivered, operator)
    asked.refresh_from_db()
    assert asked.status == BuyerRequestStatus.OPEN and open_request(delivered) == asked
    # and a buyer who asked for 취소 is never answered by an exchange before shipping: it is refused, the request
    # stays open for the cancel (or its dismissal)
    paid = _order(OrderStatus.PAID)
    cancel = buyer_request_create(order=paid, kind="cancel", reason="변심")
    with pytest.raises(ActionError, match="취소 신청이 있는 주문입니다"):
        exchange_complete(order=paid, old_lines={paid.lines.get().pk: 1},
                          new_products=[(ProductFactory(price_won=5_000), 1)], mileage_returned_won=0, by=operator)
    cancel.refresh_from_db()
    assert cancel.status == BuyerRequestStatus.OPEN and not paid.exchanges.exists()
