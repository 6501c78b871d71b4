"""입금확인 and 미입금상태로 전환 undo each other: a press from a page opened before another operator moved the order
(even back to the status the page shows) moves nothing and says so, so that a transfer is never set back to 입금전
by an operator who saw an older state of it."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from mileage.models import OutboxMessage
from portal.orders.models import Order, OrderStatus

from .conftest import place

pytestmark = pytest.mark.sandbox


def seen_on(page: str, action: str) -> str:
    form = page.split(f"/action/{action}/", 1)[1].split("</form>", 1)[0]
    return re.search(r'name="seen" value="(\d*)"', form).group(1)


def test_a_press_from_a_page_older_than_two_moves_is_refused(shop, operator):
    # given a paid bank transfer, open on two operators' screens
    order, _buyer = place(shop, method="bank")
    operator.post(f"/console/orders/{order.number}/action/confirm_deposit/")
    other = Client()
    other.force_login(User.objects.get(username="operator"))
    stale = seen_on(other.get(f"/console/orders/{order.number}/").content.decode(), "mark_unpaid")
    # when the first sets it back to 입금전 and confirms the deposit again (the order reads 결제완료 as before)
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert operator.post(f"/console/orders/{order.number}/action/mark_unpaid/",
                         {"seen": seen_on(page, "mark_unpaid")}).status_code == 302
    page = operator.get(f"/console/orders/{order.number}/").content.decode()
    assert operator.post(f"/console/orders/{order.number}/action/confirm_deposit/",
                         {"seen": seen_on(page, "confirm_deposit")}).status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    calls = OutboxMessage.objects.filter(order=order).count()
    # then the second operator's 미입금상태로 전환, pressed on the older page, moves nothing and says why
    page = other.post(f"/console/orders/{order.number}/action/mark_unpaid/", {"seen": stale},
                      follow=True).content.decode()
    assert "이 화면을 연 뒤에 주문 상태가 바뀌었습니다 (지금: 결제완료)" in page
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert OutboxMessage.objects.filter(order=order).count() == calls  # nothing more asked of the provider
    # and pressed again from the page it was shown, it goes
    assert other.post(f"/console/orders/{order.number}/action/mark_unpaid/",
                      {"seen": seen_on(page, "mark_unpaid")}).status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_DEPOSIT


@pytest.mark.parametrize("answered", [False, True])
def test_a_refund_completed_while_the_confirmation_is_built_is_listed_as_done_not_a_500(shop, operator, rf,
                                                                                      monkeypatch, answered):
    """환불완료 of a selection: the list read the refunds 환불전, and another operator completed one of them before
    its line of the confirmation was worked out (its mileage already given back at the provider's side of the
    ledger). The confirmation lists it as done meanwhile and the others as they are; it used to raise PolicyError
    (최대 0원까지) and answer 500 (a concurrent-users probe, 8 of 20 rounds)."""
    from portal.aftersales.cancellations import order_cancel_after_payment
    from portal.aftersales.common import RefundInput
    from portal.aftersales.models import Refund, RefundStatus
    from portal.aftersales.refunds import refund_complete
    from portal.console.aftersales_views import refund_confirmation

    by = User.objects.get(username="operator")
    orders = [place(shop, method="card")[0] for _ in range(2)]
    for order in orders:
        order_cancel_after_payment(order=order, by=by, data=RefundInput(
            cash_won=order.payable_won, store_points_won=0, mileage_won=order.mileage_use_won))
    read = list(Refund.objects.filter(order__in=orders).select_related("order").order_by("id"))
    assert [r.status for r in read] == [RefundStatus.BEFORE] * 2
    # another operator completes the first one after the list was read (its provider call answered, or not yet)
    if not answered:
        monkeypatch.setattr("mileage.provider.outbox._schedule", lambda message_id: None)
    assert refund_complete(refund=Refund.objects.get(pk=read[0].pk), by=by)
    request = rf.post("/console/refunds/")
    request.user = by
    shown = refund_confirmation(read, "/console/refunds/", request=request)
    assert [p.refund.pk for p in shown["previews"]] == [read[1].pk]
    assert [r.pk for r in shown["already_done"]] == [read[0].pk]
    assert shown["totals"]["mileage"] == orders[1].mileage_use_won
    if not answered:  # read 환불전 and completed before its own line was worked out: none, not a PolicyError
        from portal.aftersales.refunds import refund_preview

        assert refund_preview(read[0]) is None
