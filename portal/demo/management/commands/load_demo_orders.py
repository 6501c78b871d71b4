from django.core.management.base import BaseCommand

from portal.demo.orders import SandboxUnavailable, load_demo_orders


class Command(BaseCommand):
    help = ("Place the demo orders (three months, every state) through the real services against the running "
            "provider sandbox (idempotent). Needs the sandbox with SANDBOX_TEST_CONTROLS=1, as `make run` starts it.")

    def add_arguments(self, parser):
        parser.add_argument("--sandbox", default=None, help="the sandbox's base URL (default: MILEAGE_API_BASE)")

    def handle(self, *args, sandbox=None, **options):
        try:
            placed = load_demo_orders(sandbox)
        except SandboxUnavailable as exc:
            self.stdout.write(f"Demo orders skipped: {exc}")
            return
        self.stdout.write(f"Demo orders placed: {placed}" if placed else "Demo orders are already there.")
