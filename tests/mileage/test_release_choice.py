"""A popup choice is given back at the provider when the order form stops offering it — unless an order already
took it (its placement approved it while this session was not saved yet: a reload during 결제하기). Aborting that
reqTxId would give the buyer back mileage the order was paid with."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from mileage import views
from mileage.models import MileageTransaction
from tests.factories import ProductFactory, order_for

pytestmark = pytest.mark.django_db


def _request_with_choice(req_tx_id: str):
    request = RequestFactory().get("/shop/order/")
    request.session = SessionStore()
    request.session[views.OFFER_KEY] = {"max_use_won": 4_500, "earn_base_won": 5_000}
    request.session[views.CHOICE_KEY] = {"req_tx_id": req_tx_id, "use_won": 500}
    return request


@pytest.mark.parametrize(("taken", "aborted"), [(False, ["RFREE"]), (True, [])])
def test_a_changed_offer_gives_back_only_a_choice_no_order_took(monkeypatch, taken, aborted):
    released = []
    monkeypatch.setattr(views, "_release", released.append)
    if taken:
        MileageTransaction.objects.create(order=order_for([(ProductFactory(), 1)]), req_tx_id="RFREE", use_won=500)
    request = _request_with_choice("RFREE")
    # when the offer changes (적립금 typed, the cart changed)
    dropped = views.set_offer(request, max_use_won=3_000, earn_base_won=3_500)
    # then the choice leaves the form either way, and is aborted at the provider only when no order holds it
    assert dropped and views.CHOICE_KEY not in request.session
    assert released == aborted


def test_the_release_worker_reads_whether_an_order_took_the_hold_when_it_runs(monkeypatch):
    from mileage import holds

    aborted = []

    class Client:
        def abort(self, req_tx_id, *, idempotency_key):
            aborted.append((req_tx_id, idempotency_key))

    monkeypatch.setattr(holds, "get_client", Client)
    # asked for while no order had it, run after an order took it (a 결제하기 in another tab): left alone
    MileageTransaction.objects.create(order=order_for([(ProductFactory(), 1)]), req_tx_id="RTAKEN", use_won=500)
    assert holds.release_popup_hold.call("RTAKEN") == "taken"
    assert holds.release_popup_hold.call("RFREE2") == "released"
    assert [req_tx_id for req_tx_id, _key in aborted] == ["RFREE2"]
