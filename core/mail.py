"""Mail the portal sends to buyers after what they did has happened (the order e-mail): a mail server that is slow or
down never turns what the page did into an error page. The message is sent at once, bounded by EMAIL_TIMEOUT, and a
refusal is logged, never raised. It is not handed to the task queue: the queue keeps its arguments in the database,
and a message carries the buyer's name, address and deposit account."""

import logging

from django.core.mail import send_mail

log = logging.getLogger(__name__)


def send_quietly(subject: str, body: str, recipients: list[str], *, what: str) -> None:
    """Send one message; a mail server that refused it or did not answer is logged, never raised. `what` names the
    message in the log."""
    try:
        send_mail(subject, body, None, recipients)
    except Exception:
        log.exception("%s was not sent (the mail server refused it or did not answer)", what)
