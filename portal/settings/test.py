"""Test settings: tasks run at once in-process, fast password hashing, mail kept in memory."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES

DEBUG = False
DATABASES["default"]["CONN_MAX_AGE"] = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MILEAGE_CONNECT_TIMEOUT = 2.0
MILEAGE_READ_TIMEOUT = 5.0
SERVE_MEDIA = True  # the browser tests show product pictures from MEDIA_ROOT
# Each test process (each pytest-xdist worker among them) keeps its receipts and uploads apart from the others and
# from `make run`'s var/: the same order number in two test databases never shares a cached file.
_TEST_FILES = Path(tempfile.mkdtemp(prefix="portal-test-"))
MEDIA_ROOT = _TEST_FILES / "media"
RECEIPTS_ROOT = _TEST_FILES / "private" / "receipts"
# Between transactional tests the database is emptied by tests/support's flush (rows deleted, post_migrate's kept).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.support"]  # noqa: F405
