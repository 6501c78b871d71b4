"""Mail the portal sends to buyers (the order e-mail, the password reset link): written in the request, in the
reader's language, and sent by the task worker (django-tasks). A mail server that is slow or down never holds a page
nor turns what the page did (an order placed, a reset asked for) into an error page: the failure is logged and the
task's result records it."""

import logging

from django.core.mail import send_mail
from django_tasks import task

log = logging.getLogger(__name__)


@task()
def deliver_mail(subject: str, body: str, recipients: list[str]) -> int:
    """The worker's half: one message to `recipients` (a mail server that refuses it fails the task)."""
    return send_mail(subject, body, None, recipients)


def queue_mail(subject: str, body: str, recipients: list[str], *, what: str) -> bool:
    """Hand one message to the worker; False (logged, never raised) when it could not be queued or, sent at once by
    an immediate backend, was refused. `what` names the message in the log."""
    try:
        result = deliver_mail.enqueue(subject, body, recipients)
    except Exception:
        log.exception("%s could not be queued", what)
        return False
    if result.status == "FAILED":
        log.error("%s was not sent (the mail server refused it)", what)
        return False
    return True
