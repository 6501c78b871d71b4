from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = ("Remove a staff person's authenticator devices (a lost or replaced phone): their next login enrols a new "
            "one (portal/accounts/two_factor.py); a session verified with them is asked again at its next request.")

    def add_arguments(self, parser):
        parser.add_argument("login", help="the staff person's login name")

    def handle(self, *args, login: str, **options):
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: login}).first()
        if user is None:
            raise CommandError(f"no user {login!r}")
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        self.stdout.write(f"{login}: {removed} authenticator device(s) removed; the next login enrols a new one")
