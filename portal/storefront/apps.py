from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "portal.storefront"
    label = "storefront"
    verbose_name = "쇼핑몰"
