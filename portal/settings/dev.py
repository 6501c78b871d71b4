"""Developer settings: DEBUG on, mail written to var/mail, a connection per request."""

from .base import *  # noqa: F403
from .base import DATABASES

DEBUG = True
DATABASES["default"]["CONN_MAX_AGE"] = 0  # runserver: a thread per request
