"""An access-log retention shorter than the law's year is refused when the portal starts."""

from django.conf import settings
from django.core.checks import Error, register

MINIMUM_DAYS = 365  # 개인정보의 안전성 확보조치 기준 제8조 ①: at least one year (two for large processors)


@register()
def access_log_retention(app_configs, **kwargs):
    days = getattr(settings, "ACCESS_LOG_RETENTION_DAYS", 730)
    if not isinstance(days, int) or days < MINIMUM_DAYS:
        return [Error(f"ACCESS_LOG_RETENTION_DAYS is {days!r}: the access log is kept at least {MINIMUM_DAYS} days",
                      hint="개인정보의 안전성 확보조치 기준 제8조; docs/adr/0016-access-log.md", id="accesslog.E001")]
    return []
