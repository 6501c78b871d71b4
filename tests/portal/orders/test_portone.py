"""The PortOne adapter (docs/adr/0017) through the real `portone-server-sdk`, over HTTP, against the PortOne
emulator run as its own process: manual confirm after the window's authentication, the amount read back and
checked, cancels whole and partial never beyond what is left nor twice, and the webhook endpoint."""

import json
import uuid

import pytest
import requests
from django.db import transaction
from django.test import Client

from portal.orders.gateway import GatewayUnavailable, get_gateway
from portal.orders.models import PaymentMethod, PortOneWebhook
from portal.orders.money import payment_charged, payment_open
from portal.orders.portone import PortOneGateway
from tests.factories import ProductFactory, order_for
from tests.portone_process import WEBHOOK_SECRET, authorised

CARD = PaymentMethod.CARD


def read(payment_id: str):
    return get_gateway().client.get_payment(payment_id=payment_id)


def first_read_is(gateway, before, monkeypatch) -> None:
    """The gateway's next read of a payment answers `before` (what it read before another cancel landed), later
    reads the payment as it is: a cancel asked on a stale read."""
    reads, real = [], gateway._read
    monkeypatch.setattr(gateway, "_read", lambda tid: reads.append(tid) or (before if len(reads) == 1 else real(tid)))


def test_the_settings_choose_the_adapter(portone, settings):
    assert isinstance(get_gateway(), PortOneGateway) and get_gateway().name == "PortOne"
    settings.PAYMENT_GATEWAY = "test"
    assert get_gateway().name == "TEST-PG (테스트 결제)"


def test_a_charge_is_cancelled_on_the_gateway_that_made_it(portone):
    assert get_gateway("TEST-PG (테스트 결제)").name == "TEST-PG (테스트 결제)"  # a TEST charge after the switch
    assert get_gateway("PortOne").name == "PortOne" and get_gateway("").name == "PortOne"


def test_a_card_payment_is_confirmed_for_its_amount_and_cancelled_in_parts_never_twice(portone):
    gateway = get_gateway()
    payment_id, token = authorised(portone, 19_500)
    result = gateway.charge(method=CARD, amount_won=19_500, payment_id=payment_id, payment_token=token)
    assert result.approved and result.tid == payment_id
    assert type(read(payment_id)).__name__ == "PaidPayment"
    assert gateway.verify(tid=payment_id, amount_won=19_500).approved
    assert not gateway.verify(tid=payment_id, amount_won=19_000).approved

    part = gateway.cancel(tid=payment_id, amount_won=4_500, partial=True, idempotency_key="R1:payout")
    assert part.approved
    again = gateway.cancel(tid=payment_id, amount_won=4_500, partial=True, idempotency_key="R1:payout")
    assert again.approved and again.tid == part.tid  # the first answer; applied once
    assert read(payment_id).amount.cancelled == 4_500

    too_much = gateway.cancel(tid=payment_id, amount_won=15_001, partial=True, idempotency_key="R2:payout")
    assert not too_much.approved and "15,000원" in too_much.message
    rest = gateway.cancel(tid=payment_id, amount_won=15_000, partial=False, idempotency_key="R3:payout")
    assert rest.approved
    payment = read(payment_id)
    assert type(payment).__name__ == "CancelledPayment" and payment.amount.cancelled == 19_500


def test_a_cancel_asked_twice_at_once_takes_the_charge_once_and_both_asks_read_it_done(portone, monkeypatch):
    # two presses of 환불완료 ask the same cancel (one key) at the same moment: both read the payment before either
    # cancel lands; the gateway cancels the first and refuses the second (nothing left: already cancelled) — the
    # second ask must read the first's cancel as its own answer, never as a refusal
    gateway = get_gateway()
    payment_id, token = authorised(portone, 9_000)
    assert gateway.charge(method=CARD, amount_won=9_000, payment_id=payment_id, payment_token=token).approved
    before = read(payment_id)
    first = gateway.cancel(tid=payment_id, amount_won=9_000, partial=False, idempotency_key="R7:payout")
    assert first.approved
    first_read_is(gateway, before, monkeypatch)
    second = gateway.cancel(tid=payment_id, amount_won=9_000, partial=False, idempotency_key="R7:payout")
    assert second.approved and second.tid == first.tid
    assert read(payment_id).amount.cancelled == 9_000 and len(read(payment_id).cancellations) == 1
    # another refund's cancel refused for the same reason stays refused
    other = gateway.cancel(tid=payment_id, amount_won=9_000, partial=False, idempotency_key="R8:payout")
    assert not other.approved


def test_two_refunds_of_one_payment_cancelled_at_once_both_land_whatever_lands_first(portone, monkeypatch):
    # two operators complete two different refunds of one order at the same moment: both read the payment before
    # either cancel lands, so PortOne refuses the second's cancellable amount as stale — the second is read again
    # and asked again, never refused for the other's cancel
    gateway = get_gateway()
    payment_id, token = authorised(portone, 30_000)
    assert gateway.charge(method=CARD, amount_won=30_000, payment_id=payment_id, payment_token=token).approved
    before = read(payment_id)
    first = gateway.cancel(tid=payment_id, amount_won=10_000, partial=True, idempotency_key="C1:payout")
    assert first.approved
    first_read_is(gateway, before, monkeypatch)
    second = gateway.cancel(tid=payment_id, amount_won=20_000, partial=False, idempotency_key="C2:payout")
    assert second.approved and second.tid != first.tid
    payment = read(payment_id)
    assert payment.amount.cancelled == 30_000 and len(payment.cancellations) == 2
    # and a cancel beyond what is left stays refused with the amount left, asked no more than it may be
    third = gateway.cancel(tid=payment_id, amount_won=1, partial=True, idempotency_key="C3:payout")
    assert not third.approved


def test_a_double_submit_confirms_once(portone):
    payment_id, token = authorised(portone, 8_000)
    gateway = get_gateway()
    assert gateway.charge(method=CARD, amount_won=8_000, payment_id=payment_id, payment_token=token).approved
    again = gateway.charge(method=CARD, amount_won=8_000, payment_id=payment_id, payment_token=token)
    assert not again.approved  # already paid: not confirmed again, the second order is not placed on it
    assert read(payment_id).amount.paid == 8_000


def test_a_cancel_webhook_is_compared_with_the_shops_books(portone, recorded_payment):
    signed = portone.webhook(recorded_payment.gateway_tid, "Transaction.Cancelled")
    assert deliver(Client(), signed).status_code == 200
    assert PortOneWebhook.objects.get().outcome == "cancel noted (shop's cancels 0원)"


def test_the_window_refuses_an_amount_other_than_the_pre_registered_one(portone):
    payment_id = f"pay-{uuid.uuid4().hex[:16]}"
    get_gateway().prepare(payment_id=payment_id, amount_won=19_500)
    assert portone.authenticate(payment_id, 100).status_code == 400


def test_a_payment_for_another_amount_is_never_confirmed(portone):
    # authenticated for 100원 without the server's pre-registration (a forged return): the read-back refuses it
    payment_id, token = authorised(portone, 100, pre_register=False)
    result = get_gateway().charge(method=CARD, amount_won=19_500, payment_id=payment_id, payment_token=token)
    assert not result.approved and "금액" in result.message
    assert type(read(payment_id)).__name__ == "ReadyPayment"  # never confirmed: nothing charged


def test_a_forged_token_or_no_window_is_refused(portone):
    payment_id, _token = authorised(portone, 5_000)
    forged = get_gateway().charge(method=CARD, amount_won=5_000, payment_id=payment_id, payment_token="ptok-x")
    assert not forged.approved and type(read(payment_id)).__name__ == "ReadyPayment"
    missing = get_gateway().charge(method=CARD, amount_won=5_000, payment_id=payment_id, payment_token="")
    assert not missing.approved and "결제창" in missing.message


def test_a_declined_confirm_is_refused_and_said(portone):
    payment_id, token = authorised(portone, 7_000)
    portone.control("decline-next-confirm")
    result = get_gateway().charge(method=CARD, amount_won=7_000, payment_id=payment_id, payment_token=token)
    assert not result.approved and "거절" in result.message


def test_a_cancel_of_an_unknown_payment_or_a_pg_that_is_down(portone, settings):
    refused = get_gateway().cancel(tid="pay-unknown", amount_won=1_000, partial=False, idempotency_key="k")
    assert not refused.approved
    settings.PORTONE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    with pytest.raises(GatewayUnavailable):
        get_gateway().cancel(tid="pay-unknown", amount_won=1_000, partial=False, idempotency_key="k")
    down = get_gateway().charge(method=CARD, amount_won=1_000, payment_id="pay-x", payment_token="t")
    assert not down.approved and "응답" in down.message


# --- the webhook endpoint ------------------------------------------------------------------------------------------

WEBHOOK_URL = "/payments/webhooks/portone/"


def deliver(client: Client, signed: dict):
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed["headers"].items()}
    return client.post(WEBHOOK_URL, data=signed["body"], content_type="application/json", **headers)


@pytest.fixture
def recorded_payment(portone, db):
    """An order whose PortOne payment the checkout recorded (paid)."""
    payment_id, token = authorised(portone, 12_000)
    assert get_gateway().charge(method=CARD, amount_won=12_000, payment_id=payment_id, payment_token=token).approved
    order = order_for([(ProductFactory(price_won=12_000), 1)], method=CARD)
    with transaction.atomic():
        payment_open(order=order, method=CARD, amount_won=order.payable_won)
        return payment_charged(order=order, tid=payment_id)


def test_a_signed_webhook_is_stored_once_and_a_replay_applies_nothing(portone, recorded_payment, caplog):
    client = Client()
    signed = portone.webhook(recorded_payment.gateway_tid)
    assert deliver(client, signed).status_code == 200
    stored = PortOneWebhook.objects.get()
    assert stored.payment_id == recorded_payment.gateway_tid and stored.outcome == "already recorded"
    assert deliver(client, signed).status_code == 200  # replayed: answered, applied once
    assert PortOneWebhook.objects.count() == 1


def test_a_bad_signature_is_refused_and_logged_without_the_body(portone, recorded_payment, caplog):
    signed = portone.webhook(recorded_payment.gateway_tid)
    signed["headers"]["webhook-signature"] = "v1,AAAA" + signed["headers"]["webhook-signature"][7:]
    assert deliver(Client(), signed).status_code == 400
    tampered = portone.webhook(recorded_payment.gateway_tid)
    tampered["body"] = tampered["body"].replace("Transaction.Paid", "Transaction.Cancelled")
    assert deliver(Client(), tampered).status_code == 400
    assert not PortOneWebhook.objects.exists()
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "refused" in logged and recorded_payment.gateway_tid not in logged and "storeId" not in logged


def test_a_webhook_for_an_unknown_payment_is_refused_4xx(portone, db):
    signed = portone.webhook("pay-nobody-knows")
    assert deliver(Client(), signed).status_code == 404
    assert not PortOneWebhook.objects.exists()


def test_a_malformed_webhook_is_a_4xx_never_a_500(portone, db):
    from portone_emulator.app import sign

    body = json.dumps({"type": "Transaction.Paid"})  # signed, but no data
    response = deliver(Client(), {"body": body, "headers": sign(body, secret=WEBHOOK_SECRET)})
    assert 400 <= response.status_code < 500
    assert requests.post(f"{portone.base_url}/payments/x/confirm", json={}, timeout=5).status_code == 401
