from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from django.core.signals import request_finished, request_started

        from .request_memo import memo_close, memo_open

        request_started.connect(memo_open, dispatch_uid="core-request-memo-open")
        request_finished.connect(memo_close, dispatch_uid="core-request-memo-close")
