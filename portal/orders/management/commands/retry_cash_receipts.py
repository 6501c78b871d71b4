from django.core.management.base import BaseCommand

from portal.orders import cash_receipts
from portal.orders.models import CashReceipt, CashReceiptStatus


class Command(BaseCommand):
    help = ("Ask the gateway again for every failed 현금영수증 (or those of --order), each with its own idempotency "
            "key, so none is issued twice (portal/orders/cash_receipts.py).")

    def add_arguments(self, parser):
        parser.add_argument("--order", default="", help="only this order number's receipts")

    def handle(self, *args, order: str, **options):
        failed = CashReceipt.objects.filter(status=CashReceiptStatus.FAILED).select_related("payment__order")
        if order:
            failed = failed.filter(payment__order__number=order)
        for receipt in failed.order_by("pk"):
            done = cash_receipts.retry(receipt)
            outcome = f"issued {done.approval_number}" if done.status == CashReceiptStatus.ISSUED else (
                f"still failed: {done.failure_reason}")
            self.stdout.write(f"{done.payment.order.number} #{done.sequence}: {outcome}")
