"""A re-approval of a bank transfer whose deposit was confirmed says the deal is paid (isConfirmed=Y): the provider
was told so with deal done (stated), and the new txId that replaces the old must not read as unpaid — which would
take its earn out of the buyer's pending balance and let the provider's unpaid-transfer rule cancel it (docs/
protocol.md §2). The sandbox's standard profile takes the field at its word and refuses a paid deal re-approved as
unpaid."""

import pytest

from mileage.models import OutboxMessage
from mileage.provider import MileageClient
from portal.aftersales.models import Refund, RefundStatus
from portal.orders.models import Order
from tests.portal.storefront.conftest import use_merchant

from .conftest import delivered, place, returned

pytestmark = pytest.mark.sandbox


@pytest.fixture(params=["extended", "standard"])
def profiled(request, shop):
    api_id, hash_key = shop.new_merchant(rate="1", profile=request.param)
    use_merchant(api_id, hash_key)
    return request.param


@pytest.fixture
def bodies(monkeypatch):
    """The path and the form body of every server-to-server call the portal sends."""
    sent: list[tuple[str, dict]] = []
    original = MileageClient._send

    def record(self, method, path, data=None, *args, **kwargs):
        sent.append((path, dict(data or {})))
        return original(self, method, path, data, *args, **kwargs)

    monkeypatch.setattr(MileageClient, "_send", record)
    return sent


def test_a_return_of_a_deposited_transfer_is_re_approved_as_paid(profiled, shop, operator, bodies):
    # given a guest's bank transfer of 5,000원 + 10,000원 with 500원 of mileage, its deposit confirmed (stated)
    order, buyer = place(shop, code="1", method="bank", extra=("2",))
    assert operator.post(f"/console/orders/{order.number}/action/confirm_deposit/").status_code == 302
    delivered(operator, order)
    # when the 5,000원 line comes back (4,700원 and 300원 of the mileage) and its refund is 환불완료
    first = order.lines.get(product__code="1")
    returned(operator, order, {f"qty_{first.pk}": "1", "cash_won": "4700", "store_points_won": "0",
                               "mileage_won": "300", "shipping_deduction_won": "0", "method": "cash",
                               "bank": "국민은행", "account_no": "302-1234-5678", "holder": "홍길동"})
    refund = Refund.objects.get(order=order)
    operator.post("/console/refunds/?status=before", {"selection": [refund.pk], "confirm": "1"})
    # then the re-approval went out saying the deal is paid, and the provider took it
    repayments = [body for path, body in bodies if path.startswith("repayment/")]
    assert [body["isConfirmed"] for body in repayments] == ["Y"]
    message = OutboxMessage.objects.get(order=order, kind="repayment")
    assert message.status == "sent", message.last_error
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.DONE
    order = Order.objects.select_related("mileage").get(pk=order.pk)
    # the earn of the 10,000원 kept (9,800원 after the 200원 of mileage still used) stands, granted: 98원
    assert order.mileage.expected_earn_won == 98
    assert shop.balance(buyer)["pending"] == 98
    # and 구매확정 afterwards lists, in 네이버 마일리지 이력, the use standing on the new txId (200원), not the first
    assert operator.post(f"/console/orders/{order.number}/action/confirm_purchase/").status_code == 302
    confirmed = order.mileage.events.get(kind="confirmed")
    assert (confirmed.result_code, confirmed.use_won) == ("1000", 200)
