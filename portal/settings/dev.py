"""Developer settings: DEBUG on, mail written to var/mail."""

from .base import *  # noqa: F403

DEBUG = True
