import time

from django.core.management.base import BaseCommand

from mileage.provider.outbox import deliver_due


class Command(BaseCommand):
    help = "Sweep the outbox every few seconds: send due messages and retries (runs beside the task worker)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0)
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, interval: float, once: bool, **options):
        while True:
            sent = deliver_due()
            if sent:
                self.stdout.write(f"outbox: sent {sent}")
            if once:
                return
            time.sleep(interval)
