from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class StorefrontConfig(AppConfig):
    name = "portal.storefront"
    label = "storefront"
    verbose_name = "쇼핑몰"

    def ready(self):
        from portal.catalog.models import Category

        from .templatetags.shop import clear_cache

        post_save.connect(clear_cache, sender=Category, dispatch_uid="shop-cache-Category-save")
        post_delete.connect(clear_cache, sender=Category, dispatch_uid="shop-cache-Category-delete")
