from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class StorefrontConfig(AppConfig):
    name = "portal.storefront"
    label = "storefront"
    verbose_name = "쇼핑몰"

    def ready(self):
        from cms_pages.models import MerchantDetails
        from portal.catalog.models import Category

        from .templatetags.shop import clear_cache

        for model in (Category, MerchantDetails):
            post_save.connect(clear_cache, sender=model, dispatch_uid=f"shop-cache-{model.__name__}-save")
            post_delete.connect(clear_cache, sender=model, dispatch_uid=f"shop-cache-{model.__name__}-delete")
