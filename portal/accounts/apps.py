from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = "회원"

    def ready(self):
        from . import staff  # noqa: F401  (a staff person's login starts a staff session)
