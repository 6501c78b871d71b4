"""송장 일괄등록: an XLSX of 주문번호, 택배사 and 송장번호 read, checked row by row, shown as a preview, then applied
by a django-tasks worker.

`invoice_upload_read` reads the sheet (refusing what is not a sane XLSX: too big, not a zip, a zip that unpacks to
far more than it weighs, no header, too many rows) and `invoice_upload_check` checks every row against the orders in
a few queries (unknown order, an order not 결제완료, a carrier not on the list, a bad invoice number, an order on
two rows). The preview is applied only when no row is bad: all or nothing, never half. `invoice_upload_apply` (the
task's body) checks every row again first and refuses the whole file if anything changed meanwhile; then each order
is shipped by `fulfilment.order_ship`, in its own transaction with its delivery invoice recorded in the outbox for
the provider, the progress saved as it goes. An order another operator moves in the instant between that check and
its turn is named with the reason (the others are shipped: each order's 배송 is its own).
"""

import io
import logging
import zipfile
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from core.state_machine import move_where
from portal.aftersales import fulfilment
from portal.aftersales.buyer_requests import open_request_kind
from portal.aftersales.common import ActionError
from portal.aftersales.models import BuyerRequestKind
from portal.orders.models import Carrier, Order, OrderStatus
from portal.orders.services import TransitionNotAllowed

from .exports import safe_row
from .models import InvoiceUpload, InvoiceUploadStatus

log = logging.getLogger(__name__)

MAX_ROWS = 10_000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 60 * 1024 * 1024  # a 10,000-row sheet unpacks to about 2 MB
PROGRESS_EVERY = 50  # rows between two progress saves
CHUNK = 500  # order numbers per query
HEADERS = {"number": ("주문번호",), "carrier": ("택배사",), "invoice_no": ("송장번호", "운송장번호")}
TEMPLATE_HEADER = ("주문번호", "택배사", "송장번호")


class UploadError(Exception):
    """The file as a whole cannot be read: nothing was recorded."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _carrier_names() -> dict[str, str]:
    """Every way a row may name a carrier (its Korean name, its English name, its code; spaces and case ignored)."""
    names = {}
    for carrier in Carrier:
        names[_key(carrier.value)] = carrier.value
        names[_key(carrier.korean_name)] = carrier.value
        with translation.override("en"):
            names[_key(str(carrier.label))] = carrier.value
    return names


def _key(text: str) -> str:
    return "".join(text.split()).casefold()


def _text(value) -> str:
    """A cell as text: a whole number typed into a number cell (an invoice number Excel took for a number) loses its
    '.0'; the quote our exports put before a formula-like text is dropped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)  # beyond 2**53 Excel kept no exact digits: the float's text is refused as a number
    text = str(value).strip()
    return text[1:].strip() if text.startswith("'") else text


def invoice_upload_read(file) -> list[dict]:
    """The sheet's data rows as {row, number, carrier_raw, invoice_no}; UploadError when the file cannot be used."""
    size = getattr(file, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise UploadError(_("파일이 너무 큽니다. %(max)sMB까지 올릴 수 있습니다.") % {"max": MAX_UPLOAD_BYTES // 2**20})
    unreadable = _("XLSX 파일을 읽을 수 없습니다. 양식을 내려받아 그대로 채워 올려 주세요.")
    try:
        with zipfile.ZipFile(file) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise UploadError(unreadable)
        file.seek(0)
        from openpyxl import load_workbook

        book = load_workbook(file, read_only=True, data_only=True)
    except UploadError:
        raise
    except Exception as exc:  # not a zip, not a workbook, a broken part: openpyxl raises many kinds
        raise UploadError(unreadable) from exc
    try:
        return _sheet_rows(book.worksheets[0].iter_rows(values_only=True) if book.worksheets else iter(()))
    except UploadError:
        raise
    except Exception as exc:  # a sheet broken part way through
        raise UploadError(unreadable) from exc
    finally:
        book.close()


def _sheet_rows(lines: Iterable[tuple]) -> list[dict]:
    columns, rows = None, []
    for number, cells in enumerate(lines, start=1):
        texts = [_text(cell) for cell in cells]
        if not any(texts):
            continue
        if columns is None:  # the first row with anything in it is the header
            found = {_key(text): index for index, text in reversed(list(enumerate(texts)))}
            columns = {field: next((found[_key(n)] for n in names if _key(n) in found), None)
                       for field, names in HEADERS.items()}
            missing = [HEADERS[field][0] for field, index in columns.items() if index is None]
            if missing:
                raise UploadError(_("첫 행에 %(columns)s 열이 없습니다. 양식을 내려받아 그대로 채워 올려 주세요.")
                                  % {"columns": ", ".join(missing)})
            continue
        if len(rows) >= MAX_ROWS:
            raise UploadError(_("한 번에 %(max)s행까지 올릴 수 있습니다. 파일을 나누어 올려 주세요.")
                              % {"max": f"{MAX_ROWS:,}"})

        value = {field: texts[index] if index < len(texts) else "" for field, index in columns.items()}
        rows.append({"row": number, "number": value["number"][:40], "carrier_raw": value["carrier"][:40],
                     "invoice_no": value["invoice_no"][:60]})
    if not rows:
        raise UploadError(_("파일에 주문 행이 없습니다. 첫 행(주문번호, 택배사, 송장번호) 아래에 한 주문씩 적어 주세요."))
    return rows


def invoice_upload_check(rows: list[dict], *, applying: bool = False) -> list[dict]:
    """Each row with its carrier's code, its order's id and its errors ([code, value] pairs; see ROW_ERRORS).
    While applying, an order already shipped with this very carrier and invoice (a worker that stopped part way and
    runs again) is not an error: it is marked `already`."""
    names = _carrier_names()
    wanted = list(dict.fromkeys(row["number"] for row in rows if row["number"]))
    orders = {}
    for start in range(0, len(wanted), CHUNK):
        for found in Order.objects.filter(number__in=wanted[start:start + CHUNK]).annotate(
                buyer_request=open_request_kind()).values("id", "number", "status", "carrier", "invoice_no",
                                                          "buyer_request"):
            orders[found["number"]] = found
    first_row: dict[str, int] = {}
    checked = []
    for row in rows:
        errors, carrier = [], names.get(_key(row["carrier_raw"]), "")
        invoice_no, number = row["invoice_no"], row["number"]
        order = orders.get(number)
        if not number:
            errors.append(["empty_number", ""])
        elif number in first_row:
            errors.append(["duplicate", first_row[number]])
            order = None  # the order is the first row's
        elif order is None:
            errors.append(["unknown_order", ""])
        if number:
            first_row.setdefault(number, row["row"])
        if not row["carrier_raw"]:
            errors.append(["empty_carrier", ""])
        elif not carrier:
            errors.append(["bad_carrier", row["carrier_raw"]])
        if not invoice_no:
            errors.append(["empty_invoice", ""])
        else:
            try:
                invoice_no = fulfilment.clean_invoice_no(invoice_no)
            except ActionError:
                errors.append(["bad_invoice", ""])
        already = False
        if order is not None and order["status"] != OrderStatus.PAID:
            same = (not errors and order["status"] == OrderStatus.SHIPPED and order["invoice_no"] == invoice_no
                    and order["carrier"] == carrier)
            if same and applying:
                already = True
            elif same:
                errors.append(["already_shipped", ""])
            else:
                errors.append(["wrong_status", order["status"]])
        elif order is not None and order["buyer_request"] == BuyerRequestKind.CANCEL:
            errors.append(["cancel_requested", ""])  # as 배송 of one order refuses it (fulfilment.order_ship)
        checked.append({**row, "carrier": carrier, "invoice_no": invoice_no, "already": already,
                        "order_id": order["id"] if order else None, "errors": errors})
    return checked


def row_error_text(code: str, value) -> str:
    """One error of a row, worded in the active language."""
    match code:
        case "empty_number":
            return _("주문번호가 비어 있습니다.")
        case "duplicate":
            return _("%(row)s행과 같은 주문번호입니다. 한 주문은 한 행에만 적어 주세요.") % {"row": value}
        case "unknown_order":
            return _("없는 주문번호입니다.")
        case "empty_carrier":
            return _("택배사가 비어 있습니다.")
        case "bad_carrier":
            return _("목록에 없는 택배사입니다: '%(name)s'.") % {"name": value}
        case "empty_invoice":
            return _("송장번호가 비어 있습니다.")
        case "bad_invoice":
            return _("송장번호는 영문, 숫자, 하이픈(-)으로 40자까지 입력해 주세요.")
        case "already_shipped":
            return _("이미 이 송장번호로 배송처리된 주문입니다.")
        case "cancel_requested":
            return _("구매자가 취소를 신청한 주문입니다. 주문취소하거나 신청을 반려한 뒤에 배송해 주세요.")
        case "wrong_status":
            label = OrderStatus(value).label if value in OrderStatus.values else value
            return _("처리상태가 '%(status)s'인 주문은 배송처리할 수 없습니다 (결제완료 주문만 배송처리합니다).") % {
                "status": label}
    return code


def row_errors_text(row: dict) -> str:
    return " ".join(row_error_text(code, value) for code, value in row["errors"])


def invoice_upload_record(*, rows: list[dict], file_name: str, by) -> InvoiceUpload:
    """Record the checked rows as a preview (nothing is shipped yet)."""
    checked = invoice_upload_check(rows)
    return InvoiceUpload.objects.create(
        requested_by=by if by.is_authenticated else None, file_name=file_name[:200], rows=checked,
        total=len(checked), bad=sum(1 for row in checked if row["errors"]))


def invoice_upload_set_status(*, upload_id, to_status: str, where: dict | None = None, **values) -> int:
    """Move an upload along INVOICE_UPLOAD_TRANSITIONS (a compare-and-set: the screen and a worker may race), with
    `values` written beside and `where` as a further condition; how many moved (0 or 1)."""
    return move_where(InvoiceUpload.objects.filter(pk=upload_id, **(where or {})), to_status, **values)


def invoice_upload_request_apply(*, upload: InvoiceUpload) -> bool:
    """적용: queue the upload for a worker, once, and only when its preview has no bad row (or again after a worker
    failed part way). False when refused."""
    with transaction.atomic():
        # from 미리보기, or from 실패 again (the orders shipped already are skipped); never with a bad row
        queued = invoice_upload_set_status(upload_id=upload.pk, to_status=InvoiceUploadStatus.QUEUED, where={"bad": 0})
        if queued:
            transaction.on_commit(lambda: apply_invoice_upload.enqueue(str(upload.pk)))
    return bool(queued)


def invoice_upload_apply(*, upload_id: str) -> InvoiceUpload:
    """The worker's part: check again, refuse the whole file if any row went bad, else ship each row's order."""
    claimed = invoice_upload_set_status(upload_id=upload_id, to_status=InvoiceUploadStatus.RUNNING, done=0, error="")
    upload = InvoiceUpload.objects.get(pk=upload_id)
    if not claimed:  # applied already, or never asked for
        return upload
    try:
        rows = invoice_upload_check(upload.rows, applying=True)
        bad = sum(1 for row in rows if row["errors"])
        if bad:
            invoice_upload_set_status(upload_id=upload.pk, to_status=InvoiceUploadStatus.REFUSED, rows=rows, bad=bad,
                                      finished_at=timezone.now())
            upload.refresh_from_db()
            return upload
        shipped, already, failures = _ship_rows(upload, rows)
    except Exception as exc:
        log.exception("invoice upload %s failed", upload.pk)
        invoice_upload_set_status(upload_id=upload.pk, to_status=InvoiceUploadStatus.FAILED, error=type(exc).__name__,
                                  finished_at=timezone.now())
        raise
    invoice_upload_set_status(upload_id=upload.pk, to_status=InvoiceUploadStatus.DONE, done=upload.total,
                              shipped=shipped, already_shipped=already, failures=failures, finished_at=timezone.now())
    upload.refresh_from_db()
    return upload


def _ship_rows(upload: InvoiceUpload, rows: list[dict]) -> tuple[int, int, list]:
    by = upload.requested_by
    shipped, already, failures = 0, 0, []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        orders = Order.objects.in_bulk([row["order_id"] for row in chunk if not row["already"]])
        for done, row in enumerate(chunk, start=start + 1):
            if row["already"]:
                shipped += 1
                already += 1
            elif row["order_id"] not in orders:  # deleted since the check
                failures.append([row["row"], row["number"], row_error_text("unknown_order", "")])
            else:
                try:
                    fulfilment.order_ship(order=orders[row["order_id"]], invoice_no=row["invoice_no"],
                                          carrier=row["carrier"], by=by)
                    shipped += 1
                except (ActionError, TransitionNotAllowed) as exc:  # moved by someone else since the check
                    failures.append([row["row"], row["number"], getattr(exc, "message", str(exc))])
            if done % PROGRESS_EVERY == 0:
                InvoiceUpload.objects.filter(pk=upload.pk).update(done=done)
    return shipped, already, failures


@task()
def apply_invoice_upload(upload_id: str) -> str:
    """The background task (django-tasks) that applies an upload outside the operator's request."""
    return invoice_upload_apply(upload_id=upload_id).status


def invoice_template(numbers: Iterable[tuple[str, str]] = ()) -> bytes:
    """The upload's template: the three columns as text (Excel keeps a long invoice number as typed), a list of
    the carriers to pick from, and, when given, the orders to fill in ((주문번호, 수령인) pairs)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = "송장"
    sheet.append([*TEMPLATE_HEADER, _("수령인 (참고)")])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    carriers = [carrier.korean_name for carrier in Carrier]
    rows = list(numbers)
    for number, recipient in rows:
        sheet.append(safe_row([number, None, None, recipient]))
    last = max(len(rows) + 1, 1000)
    for column in "ABC":
        for row in range(2, last + 1):
            sheet[f"{column}{row}"].number_format = "@"
    for column, width in zip("ABCD", (20, 14, 22, 16), strict=True):
        sheet.column_dimensions[column].width = width
    listed = book.create_sheet("택배사")
    for name in carriers:
        listed.append([name])
    choice = DataValidation(type="list", formula1=f"='택배사'!$A$1:$A${len(carriers)}", allow_blank=True,
                            showErrorMessage=True, errorTitle=str(_("택배사")), error=_("택배사를 목록에서 골라 주세요."))
    sheet.add_data_validation(choice)
    choice.add(f"B2:B{last}")
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
