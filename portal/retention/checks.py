"""A retention period shorter than the law's is refused when the portal starts (manage.py check, every command)."""

from django.conf import settings
from django.core.checks import Error, register

from .periods import LEGAL_MINIMUM_MONTHS


@register()
def retention_periods(app_configs, **kwargs):
    configured = getattr(settings, "PERSONAL_DATA_RETENTION_MONTHS", {})
    errors = []
    for kind in configured:
        if kind not in LEGAL_MINIMUM_MONTHS:
            errors.append(Error(f"PERSONAL_DATA_RETENTION_MONTHS has an unknown kind {kind!r}",
                                hint=f"one of {', '.join(LEGAL_MINIMUM_MONTHS)}", id="retention.E002"))
    for kind, minimum in LEGAL_MINIMUM_MONTHS.items():
        months = configured.get(kind, minimum)
        if not isinstance(months, int) or months < minimum:
            errors.append(Error(
                f"PERSONAL_DATA_RETENTION_MONTHS[{kind!r}] is {months!r}: the law keeps these records {minimum} months",
                hint="전자상거래 등에서의 소비자보호에 관한 법률 시행령 제6조 ①; docs/adr/0015-personal-data-retention.md",
                id="retention.E001"))
    return errors
