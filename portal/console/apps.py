from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ConsoleConfig(AppConfig):
    name = "portal.console"
    label = "console"
    verbose_name = "운영자 화면"

    def ready(self):
        from portal.catalog.models import Category

        from .mileage_views import categories_changed

        # 예외상품설정's cached search form lists the categories: a change shows at once (in this process and, with
        # the shared cache of several nodes, on every node; a per-process cache elsewhere within its 300 seconds)
        post_save.connect(categories_changed, sender=Category, dispatch_uid="console-categories-save")
        post_delete.connect(categories_changed, sender=Category, dispatch_uid="console-categories-delete")
