"""The receipt batch is a task: the operator's request records it and returns at once, a worker builds it with its
progress saved, and the zip is downloaded from private storage by operators only."""

import io
import zipfile

import pytest
from django.contrib.auth.models import User
from django.test import Client

from portal.console import receipt_batches as batches
from portal.console.models import ReceiptBatch, ReceiptBatchStatus
from portal.console.receipt_batches import receipt_batch_build
from portal.receipts import render
from tests.factories import ProductFactory, order_for
from tests.portal.console.downloads import download
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def private(settings, tmp_path):
    settings.RECEIPTS_ROOT = tmp_path / "receipts"
    return settings.RECEIPTS_ROOT


@pytest.fixture
def operator(db):
    load_demo()
    client = Client()
    client.force_login(User.objects.get(username="operator"))
    return client


def no_render(html):
    raise AssertionError("a receipt was rendered inside the request")


def test_the_request_records_the_batch_and_renders_nothing(operator, private, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    orders = [order_for([(ProductFactory(), 1)]) for _ in range(2)]
    monkeypatch.setattr(render, "html_to_pdf", no_render)
    queued = []

    class Worker:  # the task is enqueued after the commit, for a worker to run later
        @staticmethod
        def enqueue(batch_id):
            queued.append(batch_id)

    monkeypatch.setattr("portal.console.receipt_batches.build_receipt_batch", Worker)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post("/console/receipts/", {"query": ""})
    batch = ReceiptBatch.objects.get()
    assert response.status_code == 302 and batch.status == ReceiptBatchStatus.QUEUED
    assert sorted(batch.order_ids) == sorted(o.pk for o in orders) and batch.total == 2
    assert queued == [str(batch.pk)]
    page = operator.get(f"/console/receipts/{batch.pk}/").content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page and 'value="0"' in page
    assert "/download/" not in page
    assert operator.get(f"/console/receipts/{batch.pk}/download/").status_code == 404


def test_the_worker_saves_its_progress_and_the_zip(operator, private, monkeypatch):
    orders = [order_for([(ProductFactory(), 1)]) for _ in range(7)]
    batch = ReceiptBatch.objects.create(order_ids=[o.pk for o in orders], total=7)
    monkeypatch.setattr(render, "html_to_pdf", lambda html: b"%PDF-1.7 fake")
    seen = []
    original = batches.receipt_pdf

    def watching(order):
        seen.append(ReceiptBatch.objects.get(pk=batch.pk).done)
        return original(order)

    monkeypatch.setattr(batches, "receipt_pdf", watching)
    built = receipt_batch_build(batch_id=str(batch.pk))
    assert built.status == ReceiptBatchStatus.READY and built.done == 7 and built.finished_at
    assert seen == [0, 0, 0, 0, 0, 5, 5]  # saved every PROGRESS_EVERY receipts
    page = operator.get(f"/console/receipts/{batch.pk}/").content.decode()
    assert "refresh" not in page and 'value="7"' in page
    zipped = download(operator, f"/console/receipts/{batch.pk}/download/")
    names = zipfile.ZipFile(io.BytesIO(b"".join(zipped.streaming_content))).namelist()
    assert sorted(names) == sorted(f"receipt-{o.number}.pdf" for o in orders)


def test_a_failed_build_is_shown_and_can_be_asked_again(operator, private, monkeypatch):
    order = order_for([(ProductFactory(), 1)])
    batch = ReceiptBatch.objects.create(order_ids=[order.pk], total=1, query="status=paid")

    def broken(html):
        raise OSError("disk full")

    monkeypatch.setattr(render, "html_to_pdf", broken)
    with pytest.raises(OSError):
        receipt_batch_build(batch_id=str(batch.pk))
    batch.refresh_from_db()
    assert (batch.status, batch.error) == (ReceiptBatchStatus.FAILED, "OSError")
    page = operator.get(f"/console/receipts/{batch.pk}/").content.decode()
    assert 'id="batch-error"' in page and "refresh" not in page and "/console/receipts/?status=paid" in page
    operator.cookies["django_language"] = "en"
    english = operator.get(f"/console/receipts/{batch.pk}/").content.decode()
    assert "The receipts could not be made. Please ask again." in english


def test_only_operators_reach_batches(operator, private):
    batch = ReceiptBatch.objects.create(order_ids=[], total=0, status=ReceiptBatchStatus.READY, file_name="x.zip")
    member = Client()
    member.force_login(User.objects.get(username="hong"))
    assert member.get(f"/console/receipts/{batch.pk}/").status_code == 403
    assert member.get(f"/console/receipts/{batch.pk}/download/").status_code == 403
    assert Client().get(f"/console/receipts/{batch.pk}/download/").status_code == 302  # to the login
    assert member.post("/console/receipts/", {"query": ""}).status_code == 403


def test_nothing_matched_is_said_and_records_nothing(operator, private):
    response = operator.post("/console/receipts/", {"query": "number=NOPE"}, follow=True)
    assert "조건에 맞는 주문이 없습니다." in response.content.decode()
    assert not ReceiptBatch.objects.exists()


@pytest.mark.parametrize("query", ["placed_from=2026-02-30", "status=bogus", "period=forever"])
def test_a_search_the_order_list_refuses_builds_no_batch_of_every_order(operator, private, query):
    # given orders, and a search 주문조회 would refuse (an impossible date, an unknown status)
    for _ in range(3):
        order_for([(ProductFactory(), 1)])
    # when the operator opens the batch page with it, or posts it
    page = operator.get(f"/console/receipts/?{query}", follow=True)
    made = operator.post("/console/receipts/", {"query": query}, follow=True)
    # then nothing is made, and the order list says what to correct
    for response in (page, made):
        text = response.content.decode()
        assert response.redirect_chain[-1][0].startswith("/console/orders/?")
        assert "검색 조건이 올바르지 않아 영수증을 만들지 않았습니다" in text
    assert not ReceiptBatch.objects.exists()
