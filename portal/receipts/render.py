"""Rendering with WeasyPrint, and the receipt cache: one PDF per order version, kept in private storage.

The cache lives in RECEIPTS_ROOT (var/private/receipts), outside MEDIA_ROOT: no URL serves it. Receipts reach
people only through the permission-checked views (the buyer who owns the order, the guest who looked it up,
an operator). File names carry a keyed hash, so even a leaked listing says nothing about other orders.
"""

import io
import zipfile
from concurrent.futures import ProcessPoolExecutor

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import connections
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language

from cms_pages.selectors import merchant_rows
from core.digest import digest
from portal.orders.earn import earn_status
from portal.orders.selectors import order_statement

FONT_DIR = settings.BASE_DIR / "static" / "fonts"


def font_context() -> dict:
    return {"font_regular": (FONT_DIR / "NanumSquareR.ttf").as_uri(), "font_bold": (FONT_DIR / "NanumSquareB.ttf").as_uri()}


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def render_pdf(template: str, context: dict) -> bytes:
    return html_to_pdf(render_to_string(template, {**font_context(), **context}))


def _receipt_context(order) -> dict:
    return {"order": order, "lines": list(order.lines.all()), "refunds": list(order.refunds.all()),
            "exchanges": list(order.exchanges.all()), **order_statement(order), "merchant": merchant_rows()}


def receipt_html(order, context: dict | None = None) -> str:
    return render_to_string("receipts/receipt.html", {**font_context(), **(context or _receipt_context(order))})


# Changed with receipts/receipt.html's figures, so that receipts cached under the old layout are rendered anew.
RECEIPT_LAYOUT = 4


def receipt_version(order, context: dict | None = None) -> str:
    """A fingerprint of everything the receipt shows, in the reader's language: a changed order renders anew, an
    unchanged one is reused."""
    context = context or _receipt_context(order)
    mileage = context["mileage"]
    parts = [RECEIPT_LAYOUT, order.number, order.placed_at.isoformat(), order.status, order.goods_won, order.discount_won, order.shipping_won,
             order.store_points_won, order.mileage_use_won, order.payable_won,
             *[(line.pk, line.quantity, line.returned_quantity) for line in context["lines"]],
             *[(r.pk, r.status, r.method, r.cash_won, r.shipping_deduction_won, r.store_points_won, r.mileage_won)
               for r in context["refunds"]], len(context["exchanges"]),
             *[(c.pk, c.status, c.amount_won) for c in context.get("cancels_outside_refunds", ())],
             (mileage.state, mileage.expected_earn_won, mileage.total_rate_x10) if mileage else None,
             earn.version if (earn := earn_status(order, mileage)) else None,
             getattr(context["payment"], "status", ""), context.get("collected_won"), context.get("exchange_due_won"),
             context.get("merchant"), get_language(), context.get("placed_goods_won"),
             *[(r.pk, r.status, r.amount_won, r.approval_number, r.failure_reason)
               for r in context.get("cash_receipts", ())]]
    return digest(*parts)


class PrivateStorage(FileSystemStorage):
    """A folder no URL points to: asking for a file's URL is a programming error."""

    def url(self, name):
        raise ValueError("private files have no URL; serve them through a permission-checked view")


def receipt_storage() -> PrivateStorage:
    return PrivateStorage(location=settings.RECEIPTS_ROOT)


def receipt_path(order, context: dict | None = None) -> str:
    name = salted_hmac("portal.receipts", f"{order.number}:{receipt_version(order, context)}").hexdigest()[:32]
    return f"{name}.pdf"


def receipt_pdf(order) -> bytes:
    context = _receipt_context(order)
    path = receipt_path(order, context)
    storage = receipt_storage()
    if storage.exists(path):
        with storage.open(path, "rb") as cached:
            return cached.read()
    pdf = html_to_pdf(receipt_html(order, context))
    storage.save(path, ContentFile(pdf))
    return pdf


def receipts_zip(orders, *, workers: int = 2) -> bytes:
    """Receipts of many orders in one zip; the ones not cached yet are rendered on `workers` processes. The bench
    measures rendering with it; the console's batches are built by a task worker instead (portal/console/receipt_batches.py),
    never inside a request."""
    ready: dict[str, bytes] = {}
    pending = []
    storage = receipt_storage()
    pool = None
    if workers > 1 and any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        workers = 1  # inside a transaction the connections cannot be closed for the fork: render here
    if workers > 1:
        connections.close_all()  # the workers are forked: they must not share this process's connections
        pool = ProcessPoolExecutor(max_workers=workers)
    try:
        for order in orders:
            context = _receipt_context(order)
            path = receipt_path(order, context)
            if storage.exists(path):
                with storage.open(path, "rb") as cached:
                    ready[order.number] = cached.read()
                continue
            html = receipt_html(order, context)  # rendered here while the workers turn earlier ones into PDFs
            pending.append((order.number, path, pool.submit(html_to_pdf, html) if pool else html_to_pdf(html)))
        for number, path, result in pending:
            pdf = result.result() if pool else result
            storage.save(path, ContentFile(pdf))
            ready[number] = pdf
    finally:
        if pool is not None:
            pool.shutdown()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, pdf in ready.items():
            archive.writestr(f"receipt-{number}.pdf", pdf)
    return buffer.getvalue()
