import time

from django.core.management.base import BaseCommand

from mileage.services.transactions import outbox_deliver_due as deliver_due


class Command(BaseCommand):
    help = "Every few seconds: cancel unpaid bank transfers past their deadline (E8) and send due outbox messages."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0)
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, interval: float, once: bool, **options):
        from portal.aftersales.services import orders_expire_unpaid
        from portal.orders.checkout import orders_abandon_stuck

        while True:
            expired = orders_expire_unpaid()
            if expired:
                self.stdout.write(f"unpaid bank transfers cancelled: {expired}")
            abandoned = orders_abandon_stuck()
            if abandoned:
                self.stdout.write(f"orders left 주문처리중 abandoned: {abandoned}")
            sent = deliver_due()
            if sent:
                self.stdout.write(f"outbox: sent {sent}")
            if once:
                return
            time.sleep(interval)
