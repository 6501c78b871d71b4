from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessLogConfig(AppConfig):
    name = "portal.accesslog"
    label = "accesslog"
    verbose_name = _("접속기록")

    def ready(self):
        from . import checks  # noqa: F401  (registers the retention check)
