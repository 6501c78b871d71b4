"""One export helper for every CSV and XLSX the console writes (the order queue, the settlement).

Text cells that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
return; the OWASP CSV-injection rule) are prefixed with a single quote, in CSV and XLSX alike. Numbers stay
numbers. Control characters a workbook cannot hold (typed text refuses them, portal/middleware.py, but a record
may be older than that) are left out of a cell.
"""

import csv
import re
from collections.abc import Iterable

from django.http import HttpResponse
from django.utils.functional import Promise

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# what an XLSX cell cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE): C0 controls other than tab, LF and CR
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value):
    if isinstance(value, Promise):  # a gettext_lazy label: its text in the active language
        value = str(value)
    if isinstance(value, str):
        value = CONTROL.sub("", value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value


def safe_row(row: Iterable) -> list:
    return [safe_cell(value) for value in row]


def export_response(rows: Iterable[Iterable], *, kind: str, filename: str, sheet: str = "Sheet") -> HttpResponse:
    """`rows` (the header first) as an attachment `filename.csv` or `filename.xlsx`."""
    if kind == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerows(safe_row(row) for row in rows)
        return response
    if kind != "xlsx":
        raise ValueError(f"unknown export kind {kind!r}")
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet)
    for row in rows:
        worksheet.append(safe_row(row))
    response = HttpResponse(content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    book.save(response)
    return response
