"""A logging filter that keeps the provider's hash key out of every log line.

The key of the environment (MILEAGE_HASH_KEY) and every key the settings screen holds (registered when a
MileageSettings row is loaded or saved) are replaced by a mask, and so is any `secret=…` value, wherever they
appear in the rendered message. Set on the project's handlers in settings.LOGGING.
"""

import logging
import re
import threading

MASK = "[REDACTED]"
_SECRET_PARAM = re.compile(r"(secret=)[^&\s'\"<>]+", re.IGNORECASE)
_known: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Remember a secret so that every later log line masks it (short values are ignored)."""
    if value and len(value) >= 8:
        with _lock:
            _known.add(value)


def redact(text: str) -> str:
    from django.conf import settings

    secrets = set(_known)
    configured = getattr(settings, "MILEAGE_HASH_KEY", "")
    if configured:
        secrets.add(configured)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _SECRET_PARAM.sub(rf"\g<1>{MASK}", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler to report
            return True
        clean = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


def mask_secret(value: str) -> str:
    """How a secret (the hash key) is written into the change history: its last four characters, as the settings
    screen shows them, never more (auditlog's own mask keeps half the value)."""
    value = str(value or "")
    if value in ("", "None"):
        return ""
    return "…" + value[-4:] if len(value) > 8 else "****"
