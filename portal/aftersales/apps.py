from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "portal.aftersales"
    label = "aftersales"
    verbose_name = "취소/반품/교환/환불"

    def ready(self):
        from . import deposits  # noqa: F401 — connects the 가상계좌 deposit webhook's receiver
