"""Production settings: the secret key, the provider's hosts and the database must come from the environment.

HTTPS is assumed: HSTS, the redirect to HTTPS and secure cookies are on by default. Behind a proxy that
terminates TLS, set DJANGO_BEHIND_TLS_PROXY=1 (trust its X-Forwarded-Proto) and, if the proxy redirects itself,
DJANGO_SECURE_SSL_REDIRECT=0. `manage.py check --deploy` is clean with the defaults (tests/hardening).
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import MIDDLEWARE, PAYMENT_GATEWAY, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # no default: refuse to start without one


def _required(name: str) -> str:
    value = env(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production (no silent default to the local sandbox).")
    return value


MILEAGE_API_BASE = _required("MILEAGE_API_BASE")
MILEAGE_SERVICE_BASE = _required("MILEAGE_SERVICE_BASE")
_required("DATABASE_URL")  # several nodes share one PostgreSQL; never a per-machine SQLite file by accident
# The TEST gateway charges nothing and cancels nothing: a live shop takes payments through PortOne. Only a
# deployment that says so (a staging copy, ALLOW_TEST_GATEWAY=1) runs on the TEST gateway.
if PAYMENT_GATEWAY == "test" and not env.bool("ALLOW_TEST_GATEWAY", default=False):
    raise ImproperlyConfigured("PORTONE_API_SECRET must be set in production (the TEST gateway charges nothing); "
                               "set ALLOW_TEST_GATEWAY=1 to run on the TEST gateway on purpose.")
if PAYMENT_GATEWAY == "portone":
    PORTONE_STORE_ID = _required("PORTONE_STORE_ID")
    PORTONE_WEBHOOK_SECRET = _required("PORTONE_WEBHOOK_SECRET")

# Static files from `collectstatic` through WhiteNoise: hashed names (cached for a year by browsers), compressed
# once at collectstatic; the proxy in front need not know about them.
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# the proxy's health check and Prometheus's scrape reach a node directly over plain HTTP
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# Operators, editors and admins enter an authenticator app's code before the console, /cms/ and /django-admin/.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=True)
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
