"""Periodic work safe on every node: ten schedulers sweeping at once cancel an expired order once and send a due
message once; a node that does not get the sweep lock skips the tick."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from mileage.models import MileageEvent, OutboxMessage, OutboxStatus
from portal.ops.periodic import SWEEP_LOCK, SweepResult, lock_key, periodic_sweep
from portal.orders.models import Order, OrderStatus, OrderStatusChange
from tests.portal.console.conftest import operator, place  # noqa: F401  (fixture)
from tests.portal.storefront.conftest import shop  # noqa: F401  (fixture)

on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="advisory and row locks between concurrent sweeps need PostgreSQL "
                                        "(make test runs this there)")
NODES = 10


@on_postgres
@pytest.mark.sandbox
def test_ten_nodes_sweeping_at_once_cancel_once_and_send_once(shop, operator, monkeypatch):  # noqa: F811
    # given an unpaid bank transfer past its deadline
    expired, expired_buyer = place(shop)
    Order.objects.filter(pk=expired.pk).update(deposit_deadline=timezone.now() - timedelta(seconds=1))
    # and a paid order whose 거래완료 call is due but was not handed to a worker (the worker was down)
    paid, _ = place(shop)
    monkeypatch.setattr("mileage.provider.outbox._schedule", lambda message_id: None)
    operator.post(f"/console/orders/{paid.number}/action/confirm_deposit/")
    due = OutboxMessage.objects.get(order=paid, kind="stated")
    assert due.status == OutboxStatus.PENDING
    start = threading.Barrier(NODES)

    def node(_):
        start.wait()
        try:
            return periodic_sweep()
        finally:
            connection.close()

    # when ten schedulers sweep at the same moment
    with ThreadPoolExecutor(max_workers=NODES) as pool:
        results = list(pool.map(node, range(NODES)))

    # then the work was done once
    done = [r for r in results if r is not None]
    # (the sends: the paid order's 거래완료 and the expired one's cancel at the provider)
    assert sum(r.expired for r in done) == 1 and sum(r.sent for r in done) == 2
    expired.refresh_from_db()
    assert expired.status == OrderStatus.CANCELLED
    assert OrderStatusChange.objects.filter(order=expired, to_status=OrderStatus.CANCELLED).count() == 1
    assert MileageEvent.objects.filter(transaction__order=expired, kind="auto_cancel").count() == 1
    cancel = OutboxMessage.objects.get(order=expired, kind="auto_cancel")
    assert (cancel.status, cancel.attempts) == (OutboxStatus.SENT, 1)
    assert shop.balance(expired_buyer)["available"] == 15_500
    due.refresh_from_db()
    assert (due.status, due.attempts) == (OutboxStatus.SENT, 1)
    assert MileageEvent.objects.filter(transaction__order=paid, kind="stated").count() == 1


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_node_without_the_sweep_lock_skips_the_tick():
    # given another node holding the sweep lock
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key(SWEEP_LOCK)])
        # then this node skips
        assert periodic_sweep() is None
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key(SWEEP_LOCK)])
        # and sweeps at the next tick, releasing the lock afterwards
        assert periodic_sweep() == SweepResult(expired=0, abandoned=0, sent=0)
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(SWEEP_LOCK)])
            assert cursor.fetchone()[0] is True
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_runs_one_sweep(capsys):
    call_command("outbox_scheduler", "--once")
    assert periodic_sweep() == SweepResult(expired=0, abandoned=0, sent=0)


def test_lock_keys_are_stable_signed_64_bit():
    key = lock_key(SWEEP_LOCK)
    assert key == lock_key("portal.periodic.sweep") and -(2**63) <= key < 2**63 and key != lock_key("other")


@pytest.mark.django_db(transaction=True)  # the sweep takes its lock outside any transaction, as the scheduler does
def test_a_page_an_editor_scheduled_goes_live_and_one_set_to_expire_goes_with_the_sweep():
    from cms_pages.models import HelpPage
    from tests.support.db_state import load_demo

    load_demo()
    # given a help page whose new title an editor scheduled for a moment now past, and another set to expire then
    scheduled, expiring = HelpPage.objects.live()[:2]
    draft = scheduled.get_latest_revision_as_object()
    draft.title = "바뀐 도움말"
    draft.go_live_at = timezone.now() + timedelta(seconds=2)
    draft.save_revision().publish()  # with a go-live moment to come, publishing schedules it (Wagtail's 게시 예약)
    scheduled.refresh_from_db()
    assert scheduled.title != "바뀐 도움말"
    expiring.expire_at = timezone.now() + timedelta(seconds=2)
    expiring.save_revision().publish()
    time.sleep(2.5)  # the moments come
    # when the scheduler sweeps
    periodic_sweep()
    # then the one is live with its new title, and the other is no longer public
    scheduled.refresh_from_db()
    expiring.refresh_from_db()
    assert scheduled.title == "바뀐 도움말" and scheduled.live
    assert not expiring.live and expiring.expired
