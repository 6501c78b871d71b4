import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from portal.accesslog.tasks import access_log_tick
from portal.ops.periodic import periodic_sweep
from portal.retention.tasks import retention_tick


class Command(BaseCommand):
    help = ("Every few seconds: cancel unpaid bank transfers past their deadline (E8), abandon stuck placements and "
            "send due outbox messages, under a PostgreSQL advisory lock so that every node may run it "
            "(portal/ops/periodic.py); once a day, hand the erasure of personal data past their retention period "
            "to a task worker (portal/retention/tasks.py); once a month, the pruning of the access log past its "
            "period (portal/accesslog/tasks.py).")

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0)
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, interval: float, once: bool, **options):
        while True:
            close_old_connections()  # a connection the database dropped is replaced, not reused
            try:
                result = periodic_sweep()
            except Exception:  # one failed tick must not stop the scheduler; the next tick retries
                if once:
                    raise
                logging.getLogger("portal.ops.periodic").exception("sweep failed; retrying at the next tick")
                result = None
            try:
                if retention_tick():
                    self.stdout.write("retention: today's erasure of expired personal data handed to a worker")
            except Exception:
                if once:
                    raise
                logging.getLogger("portal.retention").exception("retention tick failed; retrying at the next tick")
            try:
                if access_log_tick():
                    self.stdout.write("access log: this month's pruning of records past their period handed to a worker")
            except Exception:
                if once:
                    raise
                logging.getLogger("portal.accesslog").exception("access-log tick failed; retrying at the next tick")
            if result is not None:
                if result.expired:
                    self.stdout.write(f"unpaid bank transfers cancelled: {result.expired}")
                if result.abandoned:
                    self.stdout.write(f"orders left 주문처리중 abandoned: {result.abandoned}")
                if result.sent:
                    self.stdout.write(f"outbox: sent {result.sent}")
            if once:
                return
            time.sleep(interval)
