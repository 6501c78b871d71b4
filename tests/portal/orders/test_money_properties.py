"""For any sequence of refunds (by card, in cash, as points), 결제취소 presses, retries and refused or unanswered
gateway answers, what goes back of a card payment never exceeds the charge — in the shop's books and at the
gateway — and a payment reads 취소 only when nothing is charged any more (Hypothesis, ADR 0012)."""

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.aftersales.common import ActionError, RefundInput, create_refund, validate_refund
from portal.aftersales.models import RefundReason
from portal.aftersales.refunds import RefundNotPaid, refund_complete
from portal.orders import money
from portal.orders.gateway import GatewayResult, GatewayUnavailable, PaymentGateway, get_gateway
from portal.orders.models import GatewayEntry, PaymentCancelStatus, PaymentMethod, PaymentStatus
from tests.factories import ProductFactory, order_for

ACTIONS = st.lists(st.tuples(st.sampled_from(["card", "cash", "button", "retry"]), st.integers(1, 25_000),
                             st.sampled_from(["ok", "ok", "refuse", "lost"])), max_size=8)


REAL_CANCEL = PaymentGateway.cancel


def _at_gateway(payment) -> int:
    return GatewayEntry.objects.filter(parent_tid=payment.gateway_tid, kind="cancel").aggregate(
        s=Sum("amount_won"))["s"] or 0


def _charged_card_order(price: int):
    order = order_for([(ProductFactory(price_won=price), 1)], method=PaymentMethod.CARD)
    charge = get_gateway().charge(method=PaymentMethod.CARD, amount_won=order.payable_won, card_number="4111")
    with transaction.atomic():
        money.payment_open(order=order, method=PaymentMethod.CARD, amount_won=order.payable_won)
        money.payment_charged(order=order, tid=charge.tid)
    return order


@pytest.mark.django_db(transaction=True)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS, price=st.integers(1_000, 30_000))
def test_what_goes_back_never_exceeds_the_charge(actions, price, monkeypatch):
    order = _charged_card_order(price)
    payment = order.payments.get()
    real = REAL_CANCEL
    refunds = []
    for kind, amount, answer in actions:
        def gateway(self, _answer=answer, **kwargs):
            # the shop never asks for money that already went back (in cash or at the gateway), a repeat aside
            repeat = GatewayEntry.objects.filter(idempotency_key=kwargs["idempotency_key"]).exists()
            assert repeat or kwargs["amount_won"] <= payment.amount_won - _at_gateway(payment)
            if _answer == "refuse":
                return GatewayResult(False, "", "거절")
            result = real(self, **kwargs)
            if _answer == "lost":
                raise GatewayUnavailable("timeout")
            return result

        monkeypatch.setattr(PaymentGateway, "cancel", gateway)
        try:
            if kind in ("card", "cash"):
                data = RefundInput(cash_won=amount, store_points_won=0, mileage_won=0, method=kind,
                                   bank="농협", account_no="1", holder="홍")
                validate_refund(order, data)
                refunds.append(create_refund(timezone.now(), order=order,
                                             reason=RefundReason.CANCEL, **data.__dict__))
                refund_complete(refund=refunds[-1], by=None)
            elif kind == "button":
                money.payment_cancel(payment=payment, amount_won=amount, key=f"k{amount}")
            elif refunds:
                refund_complete(refund=refunds[0], by=None)
        except (ActionError, RefundNotPaid, money.PaymentActionError):
            pass
        payment.refresh_from_db()
        kept = payment.cancels.exclude(status=PaymentCancelStatus.FAILED).aggregate(s=Sum("amount_won"))["s"] or 0
        at_gateway = _at_gateway(payment)
        done = payment.cancels.filter(status=PaymentCancelStatus.DONE).aggregate(s=Sum("amount_won"))["s"] or 0
        assert 0 <= kept <= payment.amount_won and at_gateway <= payment.amount_won
        assert (payment.status == PaymentStatus.CANCELLED) == (done >= payment.amount_won)
        # every gateway cancel the shop recorded as done happened at the gateway exactly once
        for cancel in payment.cancels.filter(status=PaymentCancelStatus.DONE).exclude(gateway_tid=""):
            assert GatewayEntry.objects.filter(idempotency_key=cancel.idempotency_key).count() == 1
