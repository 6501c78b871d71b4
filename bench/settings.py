"""Settings of the benchmark runs: the portal's, on its own database (DATABASE_URL set by bench/run.py)."""

import os

from portal.settings.base import *  # noqa: F403
from portal.settings.base import VAR_DIR

DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Background work runs inside the request that queues it (a refund's provider call is timed with its 환불완료), unless
# BENCH_TASKS=database leaves it queued for a worker, as in production (the buyer's wait when the provider hangs).
if os.environ.get("BENCH_TASKS") != "database":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = VAR_DIR / "bench" / "media"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR", "handlers": []}}
