"""A receipt batch: the operator asks for the receipts of a filtered order list, a task worker renders them into one
zip in private storage, and the operator downloads it when it is ready (the page shows the progress)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.choices import ChoiceLabels
from core.state_machine import TransitionTable


class ReceiptBatchStatus(models.TextChoices):
    QUEUED = "queued", _("대기 중")  # recorded, waiting for a task worker
    RUNNING = "running", _("만드는 중")  # a worker is rendering the receipts
    READY = "ready", _("완료")  # the zip is in private storage, ready to download
    FAILED = "failed", _("실패")  # the worker could not finish; the operator asks again


_B = ReceiptBatchStatus
# a worker claims a batch not ready yet (again after a failure, or after a worker died while running it)
RECEIPT_BATCH_TRANSITIONS = {
    _B.QUEUED: {_B.RUNNING},
    _B.RUNNING: {_B.RUNNING, _B.READY, _B.FAILED},
    _B.FAILED: {_B.RUNNING},
    _B.READY: set(),
}


class ReceiptBatch(ChoiceLabels, models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # not guessable: it names a file
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    query = models.CharField(_("검색 조건"), max_length=2000, blank=True)
    order_ids = models.JSONField(default=list)  # the orders the filter matched when it was asked for
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=ReceiptBatchStatus.choices, default=ReceiptBatchStatus.QUEUED)
    transitions = TransitionTable("status", RECEIPT_BATCH_TRANSITIONS, ReceiptBatchStatus)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("영수증 일괄 다운로드")
        verbose_name_plural = _("영수증 일괄 다운로드")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(done__lte=F("total")), name="receipt_batch_done_within_total"),
            models.CheckConstraint(condition=Q(status__in=ReceiptBatchStatus.values), name="receipt_batch_status_valid"),
        ]

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.done * 100 // self.total


class SettlementMonthTotal(models.Model):
    """The settlement lines of one month and kind, summed: what the dashboard's 정산 card and its twelve-month chart
    read instead of aggregating the ledger (a million lines a month at shop scale) on every visit.

    Kept by database triggers on mileage_settlementline (migration 0002), in the same transaction as the line
    itself, so a figure here is always the ledger's own sum to the won, whoever writes the line (the services, a
    bulk insert or a hand-written statement). Never written by the application.
    """

    month = models.CharField(max_length=7)  # YYYY-MM, Asia/Seoul, as on the lines
    kind = models.CharField(max_length=4)  # SettlementKind
    total_won = models.BigIntegerField(default=0)  # SUM(amount_won)
    negative_won = models.BigIntegerField(default=0)  # SUM(amount_won) of the cancellations (≤ 0)
    lines = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "kind"], name="settlement_month_total_unique")]

    def __str__(self):
        return f"{self.month} {self.kind} {self.total_won:,}원"


class InvoiceUploadStatus(models.TextChoices):
    CHECKED = "checked", _("미리보기")  # read and checked; applied only when no row is bad
    QUEUED = "queued", _("대기 중")  # 적용 asked for, waiting for a task worker
    RUNNING = "running", _("적용 중")  # a worker is shipping the orders
    DONE = "done", _("완료")  # every row's order was shipped (any order that failed meanwhile is named)
    REFUSED = "refused", _("적용 안 함")  # the check just before applying found bad rows: nothing was applied
    FAILED = "failed", _("실패")  # the worker could not finish; the orders shipped so far stay shipped


_U = InvoiceUploadStatus
# 적용 queues a clean preview (or a failed run again); a worker claims it (again, if one died running it) and ends it
INVOICE_UPLOAD_TRANSITIONS = {
    _U.CHECKED: {_U.QUEUED},
    _U.QUEUED: {_U.RUNNING},
    _U.RUNNING: {_U.RUNNING, _U.DONE, _U.REFUSED, _U.FAILED},
    _U.FAILED: {_U.QUEUED},
    _U.DONE: set(),
    _U.REFUSED: set(),
}


class InvoiceUpload(ChoiceLabels, models.Model):
    """송장 일괄등록: an uploaded XLSX of 주문번호, 택배사 and 송장번호, its rows as checked (shown as the preview), and
    the progress and result of applying it (each order shipped by a task worker through fulfilment.order_ship)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("파일 이름"), max_length=200, blank=True)
    # one dict per data row: row (the sheet's row number), number, carrier_raw, carrier, invoice_no, order_id and
    # errors ([code, value] pairs, worded when shown: see invoice_uploads.ROW_ERRORS)
    rows = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0)
    bad = models.PositiveIntegerField(default=0)  # rows with at least one error
    done = models.PositiveIntegerField(default=0)  # rows applied so far (progress)
    shipped = models.PositiveIntegerField(default=0)  # rows whose order is shipped with the row's invoice now
    # of those, the orders found shipped with that very carrier and invoice already when this upload came to them
    # (by an earlier, interrupted run of this upload, or by another upload or screen)
    already_shipped = models.PositiveIntegerField(default=0)
    failures = models.JSONField(default=list)  # [row, number, reason] of the orders that failed while applying
    status = models.CharField(max_length=8, choices=InvoiceUploadStatus.choices, default=InvoiceUploadStatus.CHECKED)
    transitions = TransitionTable("status", INVOICE_UPLOAD_TRANSITIONS, InvoiceUploadStatus)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("송장 일괄등록")
        verbose_name_plural = _("송장 일괄등록")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(done__lte=F("total")), name="invoice_upload_done_within_total"),
            models.CheckConstraint(condition=Q(bad__lte=F("total")), name="invoice_upload_bad_within_total"),
            models.CheckConstraint(condition=Q(status__in=InvoiceUploadStatus.values),
                                   name="invoice_upload_status_valid"),
        ]

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.done * 100 // self.total

    @property
    def running(self) -> bool:
        return self.status in (InvoiceUploadStatus.QUEUED, InvoiceUploadStatus.RUNNING)
