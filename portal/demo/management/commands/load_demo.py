from django.core.management.base import BaseCommand

from portal.demo.merchant import load_product_images
from portal.demo.shop import DEMO_LOGINS, load_demo


class Command(BaseCommand):
    help = "Load the demo shop (idempotent) and list the demo logins."

    def handle(self, *args, **options):
        load_demo()
        load_product_images()
        self.stdout.write("Demo data loaded. Demo logins:")
        for username, password, role in DEMO_LOGINS:
            self.stdout.write(f"  {username:<10} {password:<15} {role}")
