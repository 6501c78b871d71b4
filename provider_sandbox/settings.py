"""Settings of the provider sandbox: its own database (SANDBOX_DATABASE_URL, else var/sandbox.sqlite3)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

SECRET_KEY = env("SANDBOX_SECRET_KEY", default="sandbox-only-not-secret-51f0")
DEBUG = env.bool("SANDBOX_DEBUG", default=False)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver", "[::1]"]

INSTALLED_APPS = [
    "provider_sandbox",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
]
MIDDLEWARE = [
    "provider_sandbox.middleware.LatencyMiddleware",  # the network's time: outside the provider's own
    "provider_sandbox.middleware.ProviderTimeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "provider_sandbox.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Test controls (/_control/: re-key or create merchants, sign popup results, arm faults, move the clock) exist
# only when SANDBOX_TEST_CONTROLS=1: `make run` and the tests set it. Never in a shared deployment.
SANDBOX_TEST_CONTROLS = env.bool("SANDBOX_TEST_CONTROLS", default=False)
# Outside a developer's machine (SANDBOX_DEV unset) the sandbox is served over HTTPS: secure cookies, HSTS and
# the redirect to HTTPS (SANDBOX_SSL_REDIRECT=0 behind a proxy that terminates TLS and redirects itself).
SANDBOX_DEV = env.bool("SANDBOX_DEV", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not SANDBOX_DEV
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# The popup is opened by the merchant's order form and must keep its window.opener across the redirect back to the
# merchant's done page: SecurityMiddleware's default (same-origin) would sever it.
SECURE_CROSS_ORIGIN_OPENER_POLICY = "unsafe-none"
SECURE_SSL_REDIRECT = env.bool("SANDBOX_SSL_REDIRECT", default=not SANDBOX_DEV)
SECURE_HSTS_SECONDS = env.int("SANDBOX_HSTS_SECONDS", default=0 if SANDBOX_DEV else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = not SANDBOX_DEV
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("SANDBOX_BEHIND_PROXY", default=False) \
    else None
ROOT_URLCONF = "provider_sandbox.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {
    "default": env.db("SANDBOX_DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'sandbox.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "transaction_mode": "IMMEDIATE"}
    )
# Persistent, health-checked connections (the sandbox always runs under gunicorn): no connection opened and
# closed, and no SQLite WAL checkpoint, per request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("SANDBOX_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SESSION_COOKIE_NAME = "naver_sandbox_session"
CSRF_COOKIE_NAME = "naver_sandbox_csrftoken"
LANGUAGE_CODE = "ko"
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True
PASSWORD_HASHERS = env.list("SANDBOX_PASSWORD_HASHERS", default=[
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
])

# The provider's own key, signing inflow tokens (NaPm `hk`): only the provider can verify them.
# Where the home page's "광고 클릭 재현" link sends the simulated ad click (the portal's shop).
SANDBOX_SHOP_URL = env("SANDBOX_SHOP_URL", default="http://127.0.0.1:8000/")
SANDBOX_PROVIDER_KEY = env("SANDBOX_PROVIDER_KEY", default="sandbox-provider-key-9d2f")
# How far a popup timestamp may be off (extension).
SANDBOX_POPUP_MAX_SKEW_SECONDS = 600
# The reviewer's password of the partner sign-up queue (the sandbox's stand-in for the provider's staff).
SANDBOX_REVIEWER_PASSWORD = env("SANDBOX_REVIEWER_PASSWORD", default="review1234!")
# Mail the provider sends (approval keys, rejections): files in var/sandbox-mail unless configured.
EMAIL_BACKEND = env("SANDBOX_EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env("SANDBOX_EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "sandbox-mail"))
DEFAULT_FROM_EMAIL = "noreply@sandbox.invalid"
# How long the popup's OK holds the chosen use against its reqTxId (extension, docs/protocol.md §1).
SANDBOX_HOLD_MINUTES = env.int("SANDBOX_HOLD_MINUTES", default=30)
# Which provider the sandbox plays (docs/adr/0011-provider-profiles.md): "extended" (the public protocol and the
# extensions, advertised in getAccumRate) or "standard" (the public protocol alone: no hold, no status, settlement
# or sign-up routes). The seeded and newly created merchants take it; `_control/merchant` can set one per merchant.
SANDBOX_PROFILE = env("SANDBOX_PROFILE", default="extended")

# The distance to the provider (provider_sandbox/middleware.LatencyMiddleware): every server-to-server call under
# SANDBOX_API_PREFIX waits SANDBOX_LATENCY_MS plus up to SANDBOX_LATENCY_JITTER_MS before its answer. 0: none.
SANDBOX_API_PREFIX = "/v2/partner/"
SANDBOX_LATENCY_MS = env.int("SANDBOX_LATENCY_MS", default=0)
SANDBOX_LATENCY_JITTER_MS = env.int("SANDBOX_LATENCY_JITTER_MS", default=0)
if SANDBOX_PROFILE not in ("extended", "standard"):
    raise ValueError(f"SANDBOX_PROFILE must be extended or standard, not {SANDBOX_PROFILE!r}")
# Extension headers: how far X-Mileage-Timestamp may be off.
SANDBOX_REQUEST_MAX_SKEW_SECONDS = 600
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["console"], "level": "WARNING"}}
