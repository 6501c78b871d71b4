from django.core.management.base import BaseCommand, CommandError

from portal.retention.services import due
from portal.retention.tasks import erase_expired_locked


class Command(BaseCommand):
    help = ("Erase the personal data of orders past their retention period (portal/retention, "
            "docs/adr/0015-personal-data-retention.md); --dry-run lists them and changes nothing. The scheduler "
            "runs it once a day.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would be erased; change nothing")

    def handle(self, *args, dry_run: bool, **options):
        if dry_run:
            orders = due()
            guests = sum(1 for order in orders if order.guest)
            self.stdout.write(f"would erase the personal data of {len(orders)} orders "
                              f"({guests} guest, {len(orders) - guests} member); nothing changed")
            for order in orders:
                kind = "guest" if order.guest else "member"
                dispute = ", refused request" if order.disputed else ""
                self.stdout.write(f"  {order.number}  {kind}  last event {order.last_event_at:%Y-%m-%d}{dispute}")
            return
        report = erase_expired_locked()
        if report is None:
            raise CommandError("another process is erasing now (the retention lock is held); try again later")
        self.stdout.write(f"erased the personal data of {len(report.erased)} orders "
                          f"({report.guests} guest, {report.members} member)")
        for number in report.erased:
            self.stdout.write(f"  {number}")
