"""A portal node of the scale-out test: the production settings, with plain static storage (collectstatic takes a
minute here, and `make serve` checks it) and fast password hashing."""

from portal.settings.production import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The scripted operators have no authenticator app; the second factor is tested in tests/portal/accounts.
STAFF_2FA_REQUIRED = False
