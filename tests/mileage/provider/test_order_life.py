"""The full life of an order at the provider, over real HTTP against the sandbox process."""

import pytest

from mileage.policy.constants import PENDING_PERIOD, UNPAID_TRANSFER_PERIOD
from mileage.provider import ProviderError
from mileage.provider.client import ALREADY_DONE

from .helpers import approved, client_for, order_no, payment, popup_choice, sample_items

pytestmark = pytest.mark.sandbox
DAY = 24 * 3600


def test_bank_transfer_order_approve_stated_confirmed(sandbox_clock, merchant):
    sandbox, client = sandbox_clock, client_for(sandbox_clock, merchant)
    buyer = sandbox.new_buyer(15_500)
    # given the buyer uses 500원 on sample product 1 (5,000원) paid by bank transfer
    done, order, result = approved(sandbox, client, buyer)
    # then the use is reserved at once and the earn is not pending yet (unpaid bank transfer, E7)
    assert result.code == "1000" and result.tx_id
    assert result.base_rate_x10 == 10 and result.earn_won == 45
    assert sandbox.balance(buyer)["available"] == 15_000
    assert sandbox.balance(buyer)["pending"] == 0
    # when the deposit is confirmed
    stated = client.stated(result.tx_id, idempotency_key=f"{order}:stated")
    # then 45원 is pending for 15 days, then available
    assert stated.code == "1000"
    assert sandbox.balance(buyer)["pending"] == 45
    sandbox.advance(int(PENDING_PERIOD.total_seconds()) - 60)
    assert sandbox.balance(buyer) | {"transactions": None, "held": 0} == {
        "login_id": buyer, "available": 15_000, "pending": 45, "transactions": None, "held": 0}
    sandbox.advance(60)
    assert sandbox.balance(buyer)["available"] == 15_045
    assert sandbox.balance(buyer)["pending"] == 0
    assert client.confirmed(result.tx_id, idempotency_key=f"{order}:confirmed").code == "1000"
    assert sandbox.balance(buyer)["transactions"][-1]["state"] == "CONFIRMED"


def test_card_order_is_pending_at_once_and_abort_returns_everything(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    done, order, result = approved(sandbox, client, buyer, confirmed=True)
    assert sandbox.balance(buyer)["pending"] == 45
    assert sandbox.balance(buyer)["available"] == 15_000
    # when the card payment fails after the popup, the approval is aborted
    aborted = client.abort(done.req_tx_id, idempotency_key=f"{order}:abort")
    assert aborted.code == "1000"
    assert sandbox.balance(buyer)["available"] == 15_500
    assert sandbox.balance(buyer)["pending"] == 0
    # aborting again is "already done", not an error
    assert client.abort(done.req_tx_id, idempotency_key=f"{order}:abort-2").code == ALREADY_DONE


def test_cancel_before_payment_returns_the_use_at_once(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    _done, order, result = approved(sandbox, client, buyer)
    assert client.cancel(result.tx_id, idempotency_key=f"{order}:cancel").code == "1000"
    assert sandbox.balance(buyer)["available"] == 15_500
    assert sandbox.balance(buyer)["pending"] == 0
    with pytest.raises(ProviderError) as caught:
        client.stated(result.tx_id, idempotency_key=f"{order}:stated")
    assert caught.value.code == "3002"


def test_cancel_stated_moves_back_to_unpaid(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    _done, order, result = approved(sandbox, client, buyer)
    client.stated(result.tx_id, idempotency_key=f"{order}:stated")
    assert sandbox.balance(buyer)["pending"] == 45
    client.cancel_stated(result.tx_id, idempotency_key=f"{order}:cancel-stated")
    assert sandbox.balance(buyer)["pending"] == 0
    assert sandbox.balance(buyer)["available"] == 15_000


def test_partial_return_reapproves_with_a_new_tx_id(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    # given two sample products (10,000원) with 1,000원 used, paid
    done = popup_choice(sandbox, client, buyer, 1_000, 10_000)
    order = order_no()
    first = client.approve(payment(done, order=order, order_amount=10_000, amount=9_000, confirmed=True,
                                   items=sample_items(5_000, 5_000)), idempotency_key=f"{order}:approve")
    assert first.earn_won == 90
    # when one is returned with 500원 of the mileage given back
    request = payment(done, order=order, order_amount=5_000, amount=4_500, confirmed=True,
                      items=sample_items(5_000))
    request = request.__class__(**{**request.__dict__, "mileage_use_won": 500, "req_tx_id": ""})
    second = client.repayment(first.tx_id, request, idempotency_key=f"{order}:repayment:1")
    # then a new txId replaces the old one and the earn is recomputed on the remaining base
    assert second.tx_id and second.tx_id != first.tx_id
    assert second.earn_won == 45
    assert sandbox.balance(buyer)["available"] == 15_000
    assert sandbox.balance(buyer)["pending"] == 45
    # and the old txId can no longer be acted on; a use above what was used is refused
    with pytest.raises(ProviderError) as caught:
        client.cancel(first.tx_id, idempotency_key=f"{order}:cancel-old")
    assert caught.value.code == "3002"
    more = request.__class__(**{**request.__dict__, "mileage_use_won": 600})
    with pytest.raises(ProviderError) as caught:
        client.repayment(second.tx_id, more, idempotency_key=f"{order}:repayment:2")
    assert caught.value.code == "3003"


@pytest.mark.parametrize(("new_total", "new_basis", "expected_earn"), [(30_000, 4_500, 45), (5_000, 5_000, 50)])
def test_exchange_up_keeps_the_basis_and_down_lowers_it(sandbox, merchant, new_total, new_basis, expected_earn):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(15_500)
    price = 5_000 if new_total > 5_000 else 10_000
    done, order, first = approved(sandbox, client, buyer, price=price, confirmed=True)
    request = payment(done, order=order, order_amount=new_total, amount=new_basis, confirmed=True,
                      items=sample_items(new_total))
    request = request.__class__(**{**request.__dict__, "mileage_use_won": 0, "req_tx_id": ""})
    second = client.repayment(first.tx_id, request, idempotency_key=f"{order}:exchange")
    assert second.earn_won == expected_earn
    assert second.base_rate_x10 == first.base_rate_x10
    assert sandbox.balance(buyer)["available"] == 15_500


def test_unpaid_bank_transfer_is_auto_cancelled_after_15_days(sandbox_clock, merchant):
    sandbox, client = sandbox_clock, client_for(sandbox_clock, merchant)
    buyer = sandbox.new_buyer(15_500)
    _done, order, result = approved(sandbox, client, buyer)
    sandbox.advance(int(UNPAID_TRANSFER_PERIOD.total_seconds()) - 1)
    assert sandbox.balance(buyer)["available"] == 15_000
    sandbox.advance(1)
    balance = sandbox.balance(buyer)
    assert balance["available"] == 15_500 and balance["pending"] == 0
    assert balance["transactions"][-1]["state"] == "AUTO_CANCELLED"
    with pytest.raises(ProviderError) as caught:
        client.stated(result.tx_id, idempotency_key=f"{order}:stated")
    assert caught.value.code == "3002"


def test_the_providers_sweep_and_the_shops_cancel_at_once_return_the_use_once(sandbox_clock):
    # the 15th day passes at the provider (its own sweep) while the shop cancels the same unpaid orders: each use
    # comes back once, whichever got there first, never twice (on PostgreSQL the two really run at once)
    from tests.support.concurrency import at_once

    sandbox = sandbox_clock
    orders = []
    for _ in range(16):  # each at its own shop, so that the cancels run side by side too
        shop, buyer = sandbox.new_merchant(rate="1"), sandbox.new_buyer(15_500)
        _done, order, result = approved(sandbox, client_for(sandbox, shop), buyer)
        orders.append((shop, buyer, order, result.tx_id))
    sandbox.advance(int(UNPAID_TRANSFER_PERIOD.total_seconds()) - 1)

    def cancel(shop, order, tx_id):
        return lambda: client_for(sandbox, shop).cancel(tx_id, idempotency_key=f"{order}:cancel").code

    answers = at_once(lambda: sandbox.advance(1), *[cancel(shop, order, tx_id) for shop, _b, order, tx_id in orders])
    assert set(answers[1:]) <= {"1000", ALREADY_DONE}
    for _shop, buyer, _order, _tx_id in orders:
        balance = sandbox.balance(buyer)
        assert (balance["available"], balance["pending"]) == (15_500, 0), balance
        assert balance["transactions"][-1]["state"] in ("CANCELLED", "AUTO_CANCELLED")


def test_per_order_cap_20000(sandbox, merchant):
    client = client_for(sandbox, merchant)
    buyer = sandbox.new_buyer(0)
    _done, _order, result = approved(sandbox, client, buyer, price=3_000_000, use=0, confirmed=True)
    assert result.earn_won == 20_000


def test_per_buyer_cap_500000(sandbox, merchant):
    client = client_for(sandbox, merchant)
    near = sandbox.new_buyer(495_000)
    _d, _o, result = approved(sandbox, client, near, price=1_000_000, use=0, confirmed=True)
    assert result.earn_won == 5_000
    assert sandbox.balance(near)["available"] + sandbox.balance(near)["pending"] == 500_000
    full = sandbox.new_buyer(500_000)
    _d, _o, result = approved(sandbox, client, full, price=100_000, use=0, confirmed=True)
    assert result.earn_won == 0
    # a buyer at the cap can still use
    _d, _o, result = approved(sandbox, client, full, price=10_000, use=1_000, confirmed=True)
    assert sandbox.balance(full)["available"] == 499_000
