"""주문조회's bulk actions on the checked orders and 송장 일괄등록 (upload, preview, 적용 with its progress, template)."""

from django import forms
from django.contrib import messages
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from portal.orders.models import Carrier, Order, OrderStatus
from portal.parsing import int_or_none
from portal.privacy import masked_name

from .access import OperatorRequiredMixin
from .bulk import BULK_ACTIONS, MAX_BULK, orders_bulk_action
from .downloads import download_with_reason
from .exports import XLSX_TYPE
from .invoice_uploads import (
    MAX_ROWS,
    UploadError,
    invoice_template,
    invoice_upload_read,
    invoice_upload_record,
    invoice_upload_request_apply,
    row_errors_text,
)
from .models import InvoiceUpload, InvoiceUploadStatus
from .tables import BulkFailureTable, InvoiceRowTable

ROWS_PER_PAGE = 100


def _selection(request) -> list[int]:
    """The checked orders' ids (anything that is not an id is left out)."""
    raw = request.POST.getlist("selection")
    return [i for i in (int_or_none(value, min_value=1) for value in raw[: MAX_BULK + 1]) if i is not None]


def _orders_url(request) -> str:
    """주문조회 with the search the operator came from (rebuilt from the posted query, never taken as a URL)."""
    query = QueryDict(request.POST.get("query", "")[:2000]).urlencode()
    return reverse("console:orders") + (f"?{query}" if query else "")


class OrderBulkView(OperatorRequiredMixin, View):
    """POST only: 입금확인 or 구매확정 of the checked orders, each on its own, then a page of what was done and what
    was not (and why); 배송처리 leads to 송장 일괄등록 with the checked orders."""

    http_method_names = ["post"]

    def post(self, request):
        action, ids = request.POST.get("action", ""), _selection(request)
        if action not in (*BULK_ACTIONS, "ship"):
            messages.error(request, _("알 수 없는 작업입니다."))
            return redirect(_orders_url(request))
        if not ids:
            messages.error(request, _("처리할 주문을 선택해 주세요."))
            return redirect(_orders_url(request))
        if len(ids) > MAX_BULK:
            messages.error(request, _("한 번에 %(max)s건까지 처리할 수 있습니다.") % {"max": f"{MAX_BULK:,}"})
            return redirect(_orders_url(request))
        if action == "ship":  # only 결제완료 orders can be shipped: the others are named and left out of the template
            orders = list(Order.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "number", "status"))
            selected = [(pk, number) for pk, number, status in orders if status == OrderStatus.PAID]
            left_out = [(number, OrderStatus(status).label) for _pk, number, status in orders
                        if status != OrderStatus.PAID]
            return render(request, "console/invoice_upload.html",
                          {**_upload_context(request, selected=selected), "left_out": left_out})
        result = orders_bulk_action(action=action, order_ids=ids, by=request.user)
        failures = BulkFailureTable([vars(f) for f in result.failed])
        return render(request, "console/bulk_result.html", {
            "result": result, "failures": failures, "back": _orders_url(request)})


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("송장 파일 (XLSX)"), error_messages={
        "required": gettext_lazy("올릴 XLSX 파일을 골라 주세요."), "empty": gettext_lazy("빈 파일입니다.")})


def _upload_context(request, form=None, selected=()) -> dict:
    return {"form": form or UploadForm(), "selected": selected, "max_rows": f"{MAX_ROWS:,}",
            "carriers": [carrier.korean_name for carrier in Carrier],
            "recent": InvoiceUpload.objects.filter(requested_by=request.user).defer("rows")[:5]}


class InvoiceUploadView(OperatorRequiredMixin, View):
    """송장 일괄등록: the template, the upload, the recent uploads; an upload is read and checked, then previewed."""

    def get(self, request):
        return render(request, "console/invoice_upload.html", _upload_context(request))

    def post(self, request):
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = invoice_upload_read(upload)
            except UploadError as exc:
                form.add_error("file", exc.message)
            else:
                recorded = invoice_upload_record(rows=rows, file_name=upload.name, by=request.user)
                return redirect("console:invoice-upload", pk=recorded.pk)
        return render(request, "console/invoice_upload.html", _upload_context(request, form), status=400)


class InvoiceTemplateView(OperatorRequiredMixin, View):
    """양식 다운로드: the empty template (GET), or the template with the checked orders filled in (POST)."""

    def get(self, request):
        return _xlsx(invoice_template(), "invoice-template")

    def post(self, request):
        """The checked orders' template (the recipient masked), after a 다운로드 사유: one 다운로드 record."""
        ids = _selection(request)[:MAX_BULK]

        def build():
            orders = [(number, masked_name(recipient)) for number, recipient in
                      Order.objects.filter(pk__in=ids).order_by("pk").values_list("number", "recipient_name")]
            return _xlsx(invoice_template(orders), "invoice-template"), [n for n, _r in orders], len(orders)

        return download_with_reason(request, title=_("송장 양식 (선택한 주문)"), count=len(ids), build=build)


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


class InvoiceUploadDetailView(OperatorRequiredMixin, View):
    """An upload's preview (each row's result; 적용 only when no row is bad), then its progress (the page refreshes
    itself while a worker applies it) and its result (how many shipped, every order that failed named)."""

    def get(self, request, pk):
        upload = get_object_or_404(InvoiceUpload.objects.defer("rows"), pk=pk)
        if upload.running:  # the progress alone, every two seconds: the rows (a 10,000-row file's JSON) are not read
            return render(request, "console/invoice_upload_detail.html", {
                "upload": upload, "S": InvoiceUploadStatus, "good": upload.total - upload.bad})
        only_bad = bool(upload.bad) and request.GET.get("rows") != "all"
        rows = [row for row in upload.rows if row["errors"]] if only_bad else upload.rows
        table = InvoiceRowTable([{**row, "errors_text": row_errors_text(row)} for row in rows])
        page = int_or_none(request.GET.get("page", "1"), min_value=1, max_value=MAX_ROWS) or 1
        try:
            table.paginate(page=page, per_page=ROWS_PER_PAGE)
        except (EmptyPage, PageNotAnInteger):
            table.paginate(page=1, per_page=ROWS_PER_PAGE)
        failures = BulkFailureTable([{"number": number, "status": "", "reason": _("%(row)s행: %(reason)s") % {"row": row, "reason": reason}}
                                     for row, number, reason in upload.failures])
        return render(request, "console/invoice_upload_detail.html", {
            "upload": upload, "table": table, "only_bad": only_bad, "failures": failures,
            "S": InvoiceUploadStatus, "good": upload.total - upload.bad})


class InvoiceUploadApplyView(OperatorRequiredMixin, View):
    """적용 (POST only): queued for a worker once, and only when the preview has no bad row."""

    http_method_names = ["post"]

    def post(self, request, pk):
        upload = get_object_or_404(InvoiceUpload.objects.defer("rows"), pk=pk)
        if not invoice_upload_request_apply(upload=upload):
            upload.refresh_from_db(fields=["status", "bad"])
            if upload.bad:
                messages.error(request, _("오류가 있는 행이 %(bad)s개 있어 적용하지 않았습니다. 오류 행을 고쳐 파일을 다시 "
                                          "올려 주세요.") % {"bad": f"{upload.bad:,}"})
            else:
                messages.error(request, _("이미 적용을 요청한 파일입니다."))
        return redirect("console:invoice-upload", pk=pk)
