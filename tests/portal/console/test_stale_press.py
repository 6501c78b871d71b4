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
