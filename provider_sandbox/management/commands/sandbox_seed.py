from django.conf import settings
from django.core.management.base import BaseCommand

from provider_sandbox.models import Buyer, Clock, Merchant

DEMO_MERCHANT = {"api_id": "1TWXDZ", "hash_key": "aaf23a53f426561f62e71139c5f27adfd67da711", "name": "TEST"}
DEMO_BUYERS = [("naverbuyer", "demo1234!", "네이버구매자", 15_500), ("naverbuyer2", "demo1234!", "김네이버", 0)]


class Command(BaseCommand):
    help = "Seed the provider sandbox: the TEST merchant and the demo buyers (idempotent)."

    def handle(self, *args, **options):
        Clock.objects.get_or_create(pk=1)
        merchant, _ = Merchant.objects.get_or_create(api_id=DEMO_MERCHANT["api_id"], defaults={
            "hash_key": DEMO_MERCHANT["hash_key"], "name": DEMO_MERCHANT["name"], "initial_rate_x10": 10})
        if merchant.profile != settings.SANDBOX_PROFILE:  # SANDBOX_PROFILE decides which provider it plays
            merchant.profile = settings.SANDBOX_PROFILE
            merchant.save(update_fields=["profile"])
        for login_id, password, name, opening in DEMO_BUYERS:
            buyer, created = Buyer.objects.get_or_create(login_id=login_id, defaults={
                "name": name, "opening_balance_won": opening})
            if created:
                buyer.set_password(password)
                buyer.save()
        self.stdout.write("Sandbox seeded: merchant TEST (1TWXDZ), buyer naverbuyer / demo1234! (15,500원)")
