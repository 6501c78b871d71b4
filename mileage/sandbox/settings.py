"""Settings of the provider sandbox: its own database (SANDBOX_DATABASE_URL, else var/sandbox.sqlite3)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

SECRET_KEY = env("SANDBOX_SECRET_KEY", default="sandbox-only-not-secret-51f0")
DEBUG = env.bool("SANDBOX_DEBUG", default=False)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver", "[::1]"]

INSTALLED_APPS = [
    "mileage.sandbox",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
]
MIDDLEWARE = [
    "mileage.sandbox.middleware.ProviderTimeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "mileage.sandbox.urls"
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
# Extension headers: how far X-Mileage-Timestamp may be off.
SANDBOX_REQUEST_MAX_SKEW_SECONDS = 600
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["console"], "level": "WARNING"}}
