"""A logging filter for `django.request`: a refusal (403: a login without the permission, a CSRF failure) is logged
as its one line, without the traceback Django attaches to it. A refusal is the answer working as meant; a log
full of tracebacks for it hides the ones that are errors."""

import logging


class RefusalsWithoutTracebackFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
