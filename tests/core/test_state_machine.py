"""Every status field of the project has a transition table, and a move its table does not list is refused."""

import itertools
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, models, transaction

from core.state_machine import Gate, TransitionNotAllowed, TransitionTable, move, move_where
from portal.console.models import ReceiptBatch, ReceiptBatchStatus

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("portal", "mileage", "core", "cms_pages")


def status_fields() -> list[tuple[type[models.Model], models.Field]]:
    """The project's models' fields named status or state that have choices (third-party apps left out)."""
    found = []
    for model in apps.get_models():
        if not model.__module__.startswith(PROJECT):
            continue
        for field in model._meta.concrete_fields:
            if field.name in ("status", "state") and field.choices:
                found.append((model, field))
    return found


def test_the_status_fields_are_found():
    names = {f"{model.__name__}.{field.name}" for model, field in status_fields()}
    # the list the introspection must at least find (a new one is covered by the tests below by itself)
    assert names >= {"Order.status", "Payment.status", "PaymentCancel.status", "Refund.status", "ReturnRequest.status",
                     "BuyerRequest.status", "ReceiptBatch.status", "InvoiceUpload.status", "OutboxMessage.status",
                     "MileageTransaction.state"}


@pytest.mark.parametrize(("model", "field"), status_fields(), ids=lambda v: getattr(v, "__name__", getattr(v, "name", "")))
def test_every_status_field_has_its_table(model, field):
    table = getattr(model, "transitions", None)
    assert isinstance(table, TransitionTable), f"{model.__name__}.{field.name} has no transition table"
    assert table.field == field.name
    assert set(table.moves) == {value for value, _label in field.choices}


@pytest.mark.parametrize(("model", "field"), status_fields(), ids=lambda v: getattr(v, "__name__", getattr(v, "name", "")))
def test_a_move_not_in_the_table_is_refused_and_nothing_is_written(model, field):
    table = model.transitions
    states = [value for value, _label in field.choices]
    refused = [(a, b) for a, b in itertools.product(states, states) if not table.allows(a, b)]
    assert refused, f"{model.__name__}: every move allowed is no table"
    saved = []
    for a, b in refused:
        obj = model(**{field.name: a})
        obj.save = lambda **kwargs: saved.append(kwargs)
        with pytest.raises(TransitionNotAllowed) as caught:
            move(obj, b)
        assert getattr(obj, field.name) == a
        assert caught.value.message  # the operator's sentence
    assert saved == []
    allowed = [(a, b) for a, b in itertools.product(states, states) if table.allows(a, b)]
    for a, b in allowed:
        obj = model(**{field.name: a})
        obj.save = lambda **kwargs: saved.append(kwargs)
        assert move(obj, b, fields=("x",)) == a
        assert getattr(obj, field.name) == b
    assert saved == [{"update_fields": [field.name, "x"]}] * len(allowed)


@pytest.mark.django_db
def test_move_where_moves_only_rows_whose_state_may_move_there():
    queued = ReceiptBatch.objects.create(total=1)
    ready = ReceiptBatch.objects.create(total=1, status=ReceiptBatchStatus.READY, done=1, file_name="a.zip")
    assert move_where(ReceiptBatch.objects.filter(pk=ready.pk), ReceiptBatchStatus.RUNNING, done=0) == 0
    ready.refresh_from_db()
    assert (ready.status, ready.done) == (ReceiptBatchStatus.READY, 1)
    assert move_where(ReceiptBatch.objects.filter(pk=queued.pk), ReceiptBatchStatus.RUNNING) == 1
    queued.refresh_from_db()
    assert queued.status == ReceiptBatchStatus.RUNNING
    # a state nothing moves to is refused outright (no row could move there)
    with pytest.raises(TransitionNotAllowed):
        move_where(ReceiptBatch.objects.all(), ReceiptBatchStatus.QUEUED)


def test_a_table_that_misses_a_state_or_a_gate_outside_it_does_not_load():
    with pytest.raises(ValueError):
        TransitionTable("status", {ReceiptBatchStatus.QUEUED: set()}, ReceiptBatchStatus)
    moves = {ReceiptBatchStatus.QUEUED: {ReceiptBatchStatus.RUNNING}, ReceiptBatchStatus.RUNNING: set(),
             ReceiptBatchStatus.READY: set(), ReceiptBatchStatus.FAILED: set()}
    with pytest.raises(ValueError):
        TransitionTable("status", moves, ReceiptBatchStatus,
                        gates={"x": Gate(frozenset({ReceiptBatchStatus.READY}), ReceiptBatchStatus.RUNNING)})


# the owners that write a status field themselves, each checking its table (every other writer goes through them)
OWNERS = {"core/state_machine.py", "portal/orders/services.py", "portal/orders/money.py",
          "mileage/services/transactions.py"}
ASSIGN = re.compile(r"\.(status|state)\b\s*(?:,[^=\n(]*)?=(?!=)|\.update\([^)]*\b(status|state)\s*=", re.S)


def test_no_status_is_written_outside_its_setter():
    offenders = []
    for package in PROJECT:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in OWNERS:
                continue
            for match in ASSIGN.finditer(path.read_text(encoding="utf-8")):
                offenders.append(f"{relative}: {match.group(0)!r}")
    assert offenders == []


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="two writers at once need PostgreSQL row locks (make test runs this on PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_writers_moving_one_row_at_once_move_it_once():
    """The compare-and-set: two workers end one running batch at the same moment (READY and FAILED), two operators
    press 적용 of one upload at the same moment: one of each moves, the other finds the row moved."""
    from portal.console.invoice_uploads import invoice_upload_set_status
    from portal.console.models import InvoiceUpload, InvoiceUploadStatus

    batch = ReceiptBatch.objects.create(total=1, status=ReceiptBatchStatus.RUNNING)
    upload = InvoiceUpload.objects.create(total=1)
    barrier = threading.Barrier(2)

    def end(to_status):
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                moved = move_where(ReceiptBatch.objects.filter(pk=batch.pk), to_status)
                time.sleep(0.2)  # hold the row while the other writer waits on it
                return moved
        finally:
            connection.close()

    def apply(_):
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                moved = invoice_upload_set_status(upload_id=upload.pk, to_status=InvoiceUploadStatus.QUEUED,
                                                  where={"bad": 0})
                time.sleep(0.2)
                return moved
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        ended = list(pool.map(end, [ReceiptBatchStatus.READY, ReceiptBatchStatus.FAILED]))
    assert sorted(ended) == [0, 1]
    batch.refresh_from_db()
    assert batch.status == (ReceiptBatchStatus.READY if ended[0] else ReceiptBatchStatus.FAILED)
    barrier.reset()
    with ThreadPoolExecutor(max_workers=2) as pool:
        queued = list(pool.map(apply, [1, 2]))
    assert sorted(queued) == [0, 1]
    upload.refresh_from_db()
    assert upload.status == InvoiceUploadStatus.QUEUED
