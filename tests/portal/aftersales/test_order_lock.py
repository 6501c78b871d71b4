"""An operator's screen holds the order's row lock while it waits for the order's mileage row; the outbox worker
holds that mileage row and records the provider's answer in rows that refer to the order (settlement lines, status
changes). On PostgreSQL those rows' foreign keys are checked at commit with a KEY SHARE lock on the order: had the
screen locked the order FOR UPDATE, the worker's commit would wait for the screen and the screen for the worker — a
deadlock, one side aborted (a 500 on the screen, or the worker's record of an answer the provider applied rolled
back). The order is locked FOR NO KEY UPDATE: a row referring to it commits while the screen holds it."""

import threading
import time

import pytest
from django.conf import settings
from django.db import connection, transaction

from portal.aftersales.common import lock_order
from portal.orders.models import OrderStatusChange
from tests.factories import ProductFactory, paid_order_for
from tests.support.concurrency import at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                       reason="row lock modes and deferred foreign keys: PostgreSQL"),
]


def test_a_row_referring_to_a_locked_order_commits_while_the_lock_is_held():
    order = paid_order_for([(ProductFactory(), 1)])
    locked, inserted, worker_done = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def screen():
        try:
            with transaction.atomic():
                lock_order(order)
                locked.set()
                inserted.wait(5)
                # the screen now waits (as for the mileage row the worker holds) until the worker has committed
                seen["worker_committed_while_locked"] = worker_done.wait(3)
        finally:
            connection.close()

    def worker():
        try:
            locked.wait(5)
            started = time.monotonic()
            with transaction.atomic():
                OrderStatusChange.objects.create(order=order, from_status="paid", to_status="paid", note="answer")
                inserted.set()
            seen["commit_seconds"] = time.monotonic() - started
            worker_done.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=screen), threading.Thread(target=worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert seen["worker_committed_while_locked"], seen
    assert seen["commit_seconds"] < 2


def test_a_cancel_that_waited_for_the_lock_is_recorded_after_what_held_it():
    """배송전 취소 pressed while another operator's action holds the order: its time in the history is taken once it
    has the lock, so the history lists the two in the order they happened."""
    from django.utils import timezone

    from portal.aftersales.cancellations import order_cancel_after_payment
    from portal.aftersales.common import RefundInput
    from portal.aftersales.models import Refund

    order = paid_order_for([(ProductFactory(price_won=5_000), 1)])
    locked, seen = threading.Event(), {}

    def other_operator():
        with transaction.atomic():
            lock_order(order)
            locked.set()
            time.sleep(0.5)  # the other action's work, the lock held
            seen["released_at"] = timezone.now()

    def cancel():
        locked.wait(5)
        return order_cancel_after_payment(order=order, by=None, data=RefundInput(
            cash_won=order.payable_won, store_points_won=0, mileage_won=0, method="cash", bank="국민은행",
            account_no="123-4567-8901", holder="홍길동"))

    at_once(other_operator, cancel)
    change = OrderStatusChange.objects.get(order=order, to_status="cancelled")
    refund = Refund.objects.get(order=order)
    assert change.changed_at >= seen["released_at"] and refund.created_at >= seen["released_at"]
