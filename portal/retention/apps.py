from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "portal.retention"
    label = "retention"
    verbose_name = _("개인정보 파기")

    def ready(self):
        from . import checks  # noqa: F401  (the periods are checked against the law's at start)
