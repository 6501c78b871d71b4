from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "portal.aftersales"
    label = "aftersales"
    verbose_name = "취소/반품/교환/환불"
