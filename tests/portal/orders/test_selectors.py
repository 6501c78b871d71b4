"""portal/orders/selectors.py: 주문상세정보 reads everything it shows through one selector."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from mileage.models import MileageTransaction
from portal.aftersales.models import Refund, RefundReason, ReturnRequest
from portal.orders.selectors import order_detail, order_statement
from portal.orders.services import order_set_status
from tests.factories import ProductFactory, order_for


@pytest.mark.django_db
def test_given_an_order_with_its_after_sale_rows_when_its_detail_is_read_then_every_part_of_the_page_is_there():
    # given a paid order with a mileage transaction, a return and a refund
    order = order_for([(ProductFactory(), 2)], mileage_use_won=500)
    order_set_status(order=order, to_status="paid", note="입금확인")
    MileageTransaction.objects.create(order=order, req_tx_id="R1", use_won=500, earn_base_won=9_500)
    refund = Refund.objects.create(number="C20261128-0000001", order=order, reason=RefundReason.RETURN, cash_won=100)
    ReturnRequest.objects.create(order=order, lines={str(order.lines.get().pk): 1}, mileage_won=100, refund=refund)
    # when its detail is read
    detail = order_detail(order.number)
    # then the page's parts are the order's own rows
    assert detail.order == order
    assert detail.mileage.req_tx_id == "R1"
    assert [line.quantity for line in detail.lines] == [2]
    assert [change.note for change in detail.history] == ["입금확인"]
    assert [r.number for r in detail.refunds] == ["C20261128-0000001"]
    assert [r.refund.number for r in detail.returns] == ["C20261128-0000001"]
    assert detail.exchanges == [] and detail.disclosure_revision_id is None
    assert order_statement(order)["mileage"] == detail.mileage


@pytest.mark.django_db
def test_given_no_order_with_that_number_when_its_detail_is_asked_then_none_and_the_console_says_404():
    # given an operator and no order numbered 20991231-9999999
    operator = User.objects.create_user("op")
    operator.user_permissions.add(Permission.objects.get(codename="operate_console"))
    client = Client()
    client.force_login(operator)
    # when it is read, and its page asked for
    # then there is nothing, and the page is a 404, never a 500
    assert order_detail("20991231-9999999") is None
    assert client.get("/console/orders/20991231-9999999/").status_code == 404
