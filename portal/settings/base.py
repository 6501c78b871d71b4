"""Settings shared by every environment.

Values come from the environment (django-environ); the defaults suit a developer's machine.
Money is integer won everywhere; business time is Asia/Seoul.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-not-secret-7a0c0c2d9a")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "core",
    "portal.accounts",
    "portal.catalog",
    "portal.orders",
    "portal.storefront",
    "portal.aftersales",
    "portal.console",
    "portal.ops",
    "portal.demo",
    "portal.retention",
    "portal.accesslog",
    "mileage",
    "cms_pages",
    "wagtail.contrib.forms",
    "wagtail.contrib.simple_translation",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.locales",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tables2",
    "django_bootstrap5",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "auditlog",
    "csp",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.RejectControlCharactersMiddleware",
    "portal.csp.PortalCSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.i18n.LocaleMiddleware",  # Django's, plus the language switch on the unprefixed shop and console
    "portal.middleware.MethodNotAllowedPageMiddleware",  # in the reader's language: after the locale's
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # user.is_verified(): a code was entered in this session
    "portal.accounts.audit.AuditMiddleware",  # who changed a setting, from which address (django-auditlog)
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.accounts.staff.StaffAccessMiddleware",  # staff: the second factor, the session's end
    "mileage.inflow.InflowMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the lockout page
]

ROOT_URLCONF = "portal.urls"
CSRF_FAILURE_VIEW = "portal.ops.views.csrf_failure"  # the shop's own page for a stale form, in the reader's language

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
    # The console's busiest fragments (the tables of 주문조회 and 예외상품설정: a page of up to 100 rows) through
    # Jinja2, which compiles a template to Python: jinja2/ holds only such fragments, rendered into the Django
    # templates' pages (portal/console/jinja_tables.py).
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"autoescape": True},
    },
]

WSGI_APPLICATION = "portal.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections under gunicorn: opening a PostgreSQL connection costs a backend process, and closing the
# last SQLite connection checkpoints the WAL, both on every request otherwise. Health-checked before reuse.
# Django's runserver starts a thread per request, so portal.settings.dev turns this off.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL and a busy timeout let the server, the worker and the tests share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "transaction_mode": "IMMEDIATE"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache: per process (local memory) on one machine; shared in Redis when REDIS_URL is set, so that several
# portal nodes see one rate cache, one filter-form cache and one set of django-axes lockouts.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="portal"),
            # a Redis that stops answering must not hang a request (healthz reports it)
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Login throttling (django-axes): member, operator, Wagtail and Django admin logins and the guest order lookup.
# After AXES_FAILURE_LIMIT failures for one login name from one address (the pair: typing a name elsewhere never
# locks its owner out), or LOGIN_ADDRESS_FAILURE_LIMIT from one address over any names, further tries are refused
# for AXES_COOLOFF_TIME; operators unlock earlier in the Django admin (Axes › 접근 시도: delete the attempt). The
# client address is the connection's; behind the shop's own reverse proxies set TRUSTED_PROXY_COUNT (README,
# Production) and the address they saw is taken from X-Forwarded-For — never without it (portal/accounts/throttle.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=50)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "portal.accounts.throttle.client_address"
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Failures are counted in the database, which every node shares (and where the Django admin lists and unlocks
# them). AXES_HANDLER=axes.handlers.cache.AxesCacheHandler counts them in the shared Redis cache instead (faster,
# no audit rows; unlock with `manage.py axes_reset_username NAME`); axes.W001 refuses that handler without Redis.
AXES_HANDLER = env(
    "AXES_HANDLER",
    default="portal.accounts.throttle.PairAndAddressHandler",
)
# 비밀번호 찾기 (portal/accounts/password_reset.py): reset links per client address and per e-mail address within
# the window; past either limit nothing is sent.
PASSWORD_RESET_WINDOW = env.int("PASSWORD_RESET_WINDOW_SECONDS", default=3600)
PASSWORD_RESET_ADDRESS_LIMIT = env.int("PASSWORD_RESET_ADDRESS_LIMIT", default=10)
PASSWORD_RESET_EMAIL_LIMIT = env.int("PASSWORD_RESET_EMAIL_LIMIT", default=3)
# 회원가입 (portal/accounts/join.py): accounts opened from one client address per hour
JOIN_ADDRESS_LIMIT = env.int("JOIN_ADDRESS_LIMIT", default=20)

# Staff logins (portal/accounts/staff.py, README › Personal data › Staff logins): operators, editors and admins
# enter a code from an authenticator app (TOTP, django-otp) before the console, /cms/ and /django-admin/ when
# STAFF_2FA_REQUIRED (on in production); their sessions end after STAFF_SESSION_IDLE_MINUTES without a request
# and STAFF_SESSION_MAX_HOURS after the login. Buyers' sessions are untouched.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=False)
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
STAFF_SESSION_MAX_HOURS = env.int("STAFF_SESSION_MAX_HOURS", default=12)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="마일리지 샵")  # the name the authenticator app shows
OTP_TOTP_THROTTLE_FACTOR = 1  # seconds before the 2nd try after a wrong code, doubling with each further one
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the Django admin lists the devices without their secrets

# Retention of personal data (portal/retention, docs/adr/0015-personal-data-retention.md): months each kind of
# record is kept, counted from the order's last event (전자상거래법 시행령 제6조 ①). An order's personal data are
# erased once every kind of record it holds is past its period; a period below the law's is refused at start.
PERSONAL_DATA_RETENTION_MONTHS = {
    "contract": env.int("RETENTION_CONTRACT_MONTHS", default=60),  # 계약 또는 청약철회 등에 관한 기록: 5년
    "payment": env.int("RETENTION_PAYMENT_MONTHS", default=60),  # 대금결제 및 재화 등의 공급에 관한 기록: 5년
    "dispute": env.int("RETENTION_DISPUTE_MONTHS", default=36),  # 소비자의 불만 또는 분쟁처리에 관한 기록: 3년
}
RETENTION_HOUR = env.int("RETENTION_HOUR", default=4)  # the daily run starts at the scheduler's first tick after 04:00 KST
# 접속기록 (docs/adr/0016): kept this many days, then pruned by the scheduler's monthly run behind a checkpoint record;
# never under 365 (개인정보의 안전성 확보조치 기준 제8조: at least one year, two for large processors).
ACCESS_LOG_RETENTION_DAYS = env.int("ACCESS_LOG_RETENTION_DAYS", default=730)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", "한국어"), ("en", "English")]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Private files (cached PDF receipts): outside MEDIA_ROOT, served only by permission-checked views.
RECEIPTS_ROOT = env.path("RECEIPTS_ROOT", default=VAR_DIR / "private" / "receipts")

# The order form opens the provider's popup, whose done page must reach back to it (window.opener).
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin-allow-popups"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True  # the inflow (I2) lives as long as the browser session

# Content-Security-Policy (django-csp, portal/csp.py): no inline script or style anywhere in the shop, the console
# and the popup flow (the popup is a window of its own on the provider's host; its done page is ours, /mileage/).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
# The Wagtail admin (/cms/) and the Django admin use inline scripts and styles of their own, and Wagtail's preview
# frames the site: a policy that still keeps every other origin out.
CONTENT_SECURITY_POLICY_ADMIN = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, UNSAFE_INLINE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "frame-ancestors": [SELF],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"

WAGTAIL_SITE_NAME = _("마일리지 샵")
WAGTAILADMIN_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = True
WAGTAIL_ENABLE_UPDATE_CHECK = False  # no call to wagtail.io from the editors' browsers; upgrades go through pyproject.toml
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="shop@example.com")
# a mail server that does not answer holds the buyer's page at most this long (core/mail.py)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

DJANGO_TABLES2_TEMPLATE = "console/table.html"

# The shop's basic shipping fee (기본배송비; the manual's screens show 0원) and the free-shipping threshold.
SHOP_SHIPPING_FEE_WON = env.int("SHOP_SHIPPING_FEE_WON", default=0)
SHOP_FREE_SHIPPING_FROM_WON = env.int("SHOP_FREE_SHIPPING_FROM_WON", default=50_000)

# The payment gateway (README "Payments", docs/adr/0017): the TEST gateway unless PortOne's API secret is set.
PORTONE_API_SECRET = env("PORTONE_API_SECRET", default="")
PORTONE_STORE_ID = env("PORTONE_STORE_ID", default="")
PORTONE_CHANNEL_KEY = env("PORTONE_CHANNEL_KEY", default="")
PORTONE_WEBHOOK_SECRET = env("PORTONE_WEBHOOK_SECRET", default="")
PORTONE_API_BASE = env("PORTONE_API_BASE", default="https://api.portone.io")
PAYMENT_GATEWAY = "portone" if PORTONE_API_SECRET else "test"
# The script @portone/browser-sdk loads for the payment window: PortOne's own in production, the emulator's
# stand-in (<emulator>/v2/browser-sdk.js) in development; its origin alone is added to the shop's CSP (portal/csp.py).
PORTONE_BROWSER_SDK_URL = env("PORTONE_BROWSER_SDK_URL", default="https://cdn.portone.io/v2/browser-sdk.js")
# A PortOne order still 주문처리중 this long after it was placed (the payment confirmed, perhaps, but not recorded) is
# read back at PortOne by the scheduler's sweep: cancelled there when paid, 결제실패 here (orders_abandon_stuck).
PAYMENT_WINDOW_ABANDON_MINUTES = env.int("PAYMENT_WINDOW_ABANDON_MINUTES", default=5)

# The provider (Naver Mileage). Credentials entered in the settings screen win over these.
MILEAGE_SERVICE_BASE = env("MILEAGE_SERVICE_BASE", default="http://127.0.0.1:8001")
MILEAGE_API_BASE = env("MILEAGE_API_BASE", default="http://127.0.0.1:8001")
MILEAGE_API_ID = env("MILEAGE_API_ID", default="")
# The provider's partner sign-up page (가입신청하기); empty: the sandbox's, under MILEAGE_SERVICE_BASE.
MILEAGE_PARTNER_SIGNUP_URL = env("MILEAGE_PARTNER_SIGNUP_URL", default="")
MILEAGE_HASH_KEY = env("MILEAGE_HASH_KEY", default="")
MILEAGE_CONNECT_TIMEOUT = env.float("MILEAGE_CONNECT_TIMEOUT", default=3.0)
MILEAGE_READ_TIMEOUT = env.float("MILEAGE_READ_TIMEOUT", default=10.0)
# The approval is asked for while the buyer waits at 결제하기 (authorisation before capture): short timeouts.
MILEAGE_APPROVAL_CONNECT_TIMEOUT = env.float("MILEAGE_APPROVAL_CONNECT_TIMEOUT", default=2.0)
MILEAGE_APPROVAL_READ_TIMEOUT = env.float("MILEAGE_APPROVAL_READ_TIMEOUT", default=5.0)
# One deadline over every call of a placement's authorisation (the approval, its retry, the status call): the
# longest a buyer waits when the provider hangs.
MILEAGE_APPROVAL_DEADLINE_SECONDS = env.float("MILEAGE_APPROVAL_DEADLINE_SECONDS", default=6.0)
# Of that deadline, what is kept for the portal's own work once the provider has not answered (the refusal recorded,
# the order form rendered with the reason): the calls get the rest.
MILEAGE_APPROVAL_RESERVE_SECONDS = env.float("MILEAGE_APPROVAL_RESERVE_SECONDS", default=0.5)
# An approval the provider left unanswered may still be applied after the buyer was told no (a request in flight),
# even after its abort: the reqTxId is aborted once more this much later, undoing such a late approval.
MILEAGE_UNANSWERED_ABORT_DELAY_SECONDS = env.float("MILEAGE_UNANSWERED_ABORT_DELAY_SECONDS", default=60.0)
MILEAGE_SEND_EXTENSION_HEADERS = env.bool("MILEAGE_SEND_EXTENSION_HEADERS", default=True)
MILEAGE_RATE_CACHE_SECONDS = env.int("MILEAGE_RATE_CACHE_SECONDS", default=300)
# Hosts of the provider whose referrer does not end an inflow (docs/policy.md I2).
MILEAGE_PROVIDER_HOSTS = env.list(
    "MILEAGE_PROVIDER_HOSTS",
    default=["naver.com", "search.naver.com", "shopping.naver.com", "127.0.0.1:8001", "localhost:8001"],
)
PORTAL_BASE_URL = WAGTAILADMIN_BASE_URL

# /healthz (portal/ops/health.py): the provider is asked on a short timeout and its answer kept for a few seconds;
# a pending outbox message older than HEALTHZ_OUTBOX_MAX_AGE_SECONDS marks the outbox degraded.
HEALTHZ_PROVIDER_TIMEOUT = env.float("HEALTHZ_PROVIDER_TIMEOUT", default=1.0)
HEALTHZ_PROVIDER_CACHE_SECONDS = env.int("HEALTHZ_PROVIDER_CACHE_SECONDS", default=15)
HEALTHZ_OUTBOX_MAX_AGE_SECONDS = env.int("HEALTHZ_OUTBOX_MAX_AGE_SECONDS", default=600)
# /metrics (Prometheus): operators, loopback, or `Authorization: Bearer <METRICS_TOKEN>` when it is set.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# Every handler masks the hash key and any `secret=` (core/log_redaction.py), on every logger.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "core.log_redaction.RedactSecretsFilter"},
                "refusals_without_traceback": {"()": "core.log_refusals.RefusalsWithoutTracebackFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "mileage": {"level": "INFO", "filters": ["redact_secrets"]},
        "mileage.provider": {"filters": ["redact_secrets"]},
        "portal": {"filters": ["redact_secrets"]},
        "django.request": {"filters": ["redact_secrets", "refusals_without_traceback"]},
    },
}

# django-bootstrap5: labels stay above the inputs; no placeholder repeating the label
# no green mark on the fields a refused form got right: only what needs fixing is marked (portal/bootstrap.py)
BOOTSTRAP5 = {"set_placeholder": False,
              "field_renderers": {"default": "portal.bootstrap.InvalidOnlyFieldRenderer"}}
