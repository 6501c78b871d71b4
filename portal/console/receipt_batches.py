"""Receipt batches: asked for in a request, built by a django-tasks worker, downloaded when ready.

`receipt_batch_request` records the batch (the orders the filter matched, at most MAX_BATCH) and enqueues the task
after the commit; `receipt_batch_build` is the task's body: each receipt comes from the receipt cache or is rendered
(WeasyPrint) and cached, the progress is saved as it goes, and the zip is written to private storage
(RECEIPTS_ROOT/batches/), which no URL serves: the operator downloads it through a permission-checked view.
A worker that dies mid-batch leaves it RUNNING; building again starts over and reuses the receipts already cached.
"""

import io
import logging
import zipfile

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from core.state_machine import move_where
from portal.orders.models import Order
from portal.receipts.render import receipt_pdf, receipt_storage

from .models import ReceiptBatch, ReceiptBatchStatus

log = logging.getLogger(__name__)
MAX_BATCH = 1_000
PROGRESS_EVERY = 5  # receipts between two progress saves


def batch_path(batch: ReceiptBatch) -> str:
    return f"batches/{batch.pk}.zip"


def receipt_batch_request(*, order_ids: list[int], query: str, by) -> ReceiptBatch:
    """Record a batch of these orders and have a worker build it."""
    ids = list(order_ids)[:MAX_BATCH]
    with transaction.atomic():
        batch = ReceiptBatch.objects.create(requested_by=by if by.is_authenticated else None, query=query[:2000],
                                            order_ids=ids, total=len(ids))
        transaction.on_commit(lambda: build_receipt_batch.enqueue(str(batch.pk)))
    return batch


def receipt_batch_set_status(*, batch_id, to_status: str, **values) -> bool:
    """Move a batch along RECEIPT_BATCH_TRANSITIONS (a compare-and-set: a worker and another worker may race) with
    `values` written beside; False when its status may not move there."""
    return bool(move_where(ReceiptBatch.objects.filter(pk=batch_id), to_status, **values))


def receipt_batch_build(*, batch_id: str) -> ReceiptBatch:
    """Render the batch's receipts into one zip in private storage; READY afterwards, or FAILED with the reason."""
    batch = ReceiptBatch.objects.get(pk=batch_id)
    if batch.status == ReceiptBatchStatus.READY:
        return batch
    if not receipt_batch_set_status(batch_id=batch.pk, to_status=ReceiptBatchStatus.RUNNING, done=0, error=""):
        return batch  # made ready meanwhile by another worker
    try:
        orders = Order.objects.in_bulk(batch.order_ids)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for done, order_id in enumerate(batch.order_ids, start=1):
                order = orders.get(order_id)
                if order is not None:  # an order deleted meanwhile is left out
                    archive.writestr(f"receipt-{order.number}.pdf", receipt_pdf(order))
                if done % PROGRESS_EVERY == 0 or done == batch.total:
                    ReceiptBatch.objects.filter(pk=batch.pk).update(done=done)
        storage = receipt_storage()
        path = batch_path(batch)
        if storage.exists(path):
            storage.delete(path)
        name = storage.save(path, ContentFile(buffer.getvalue()))
    except Exception as exc:
        log.exception("receipt batch %s failed", batch.pk)
        receipt_batch_set_status(batch_id=batch.pk, to_status=ReceiptBatchStatus.FAILED, error=type(exc).__name__,
                                 finished_at=timezone.now())
        raise
    receipt_batch_set_status(batch_id=batch.pk, to_status=ReceiptBatchStatus.READY, file_name=name, done=batch.total,
                             finished_at=timezone.now())
    batch.refresh_from_db()
    return batch


@task()
def build_receipt_batch(batch_id: str) -> str:
    """The background task (django-tasks) that builds a batch outside the operator's request."""
    return receipt_batch_build(batch_id=batch_id).status
