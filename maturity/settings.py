"""Settings for Maturity: one file, every deployment choice read from the environment.

Defaults make a fresh clone run with no servers (SQLite under ``var/``, a filesystem
Celery broker, console e-mail). Real services are chosen by URL (``DATABASE_URL``,
``REDIS_URL``). Production (``DEBUG`` off) refuses the development secret key and an
empty ``ALLOWED_HOSTS``. Every bad value raises ImproperlyConfigured at start-up.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from core.logs import configure as configure_structlog
from core.logs import formatter as log_formatter
from maturity.env import Env

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.get_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env.get_bool("DEBUG", False)

# --- Secret key -------------------------------------------------------------------------
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-in-production-maturity"
SECRET_KEY = env.get_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if not DEBUG and (SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is "
        "off; the development default is refused."
    )
# Earlier keys, comma-separated, while SECRET_KEY is rotated: they still verify what was
# signed and decrypt what was stored under them (the webhook secrets) until
# `manage.py reencrypt_secrets` has run.
SECRET_KEY_FALLBACKS = env.get_list("SECRET_KEY_FALLBACKS", [])
# django-fernet-encrypted-fields derives its keys from SECRET_KEY (and the fallbacks) with
# PBKDF2 and this salt, which need not be secret: it keeps the keys apart from others
# derived from the same SECRET_KEY.
SALT_KEY = ["maturity: secrets stored encrypted"]

# --- Hosts ------------------------------------------------------------------------------
ALLOWED_HOSTS = env.get_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [])

# --- Applications -----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "health_check",
    "django_prometheus",
    "django_structlog",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "core",
    "clients",
    "assessments",
    "webhooks",
    "voice",
    "education",
    "dashboards",
    "api",
    "ops",
    "web",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "core.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the user read in the session's statement (accounts.sessions).
    "accounts.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    # Binds a request id (and the user) to every log line of the request, and hands it
    # to the Celery tasks the request enqueues.
    "django_structlog.middlewares.RequestMiddleware",
    "core.middleware.RequestIdHeaderMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A retried API POST with the same Idempotency-Key gets the first answer again.
    "api.idempotency.IdempotencyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a lockout raised by its backend into the 429 page.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "maturity.urls"
WSGI_APPLICATION = "maturity.wsgi.application"
ASGI_APPLICATION = "maturity.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
_SUPPORTED_DATABASES = {"postgres", "postgresql", "pgsql", "sqlite"}
DATABASE_URL = env.get_str("DATABASE_URL", "")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'maturity.sqlite3'}"
if urlsplit(DATABASE_URL).scheme not in _SUPPORTED_DATABASES:
    raise ImproperlyConfigured(
        f"DATABASE_URL must be a postgres:// or sqlite:// URL, not {DATABASE_URL!r}."
    )
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
# How many PostgreSQL connections one process may hold (web: one per thread in use; a
# Celery worker process: one). The server's max_connections must cover the sum over all
# processes (docs/operations.md has the arithmetic).
DATABASE_POOL_MAX_SIZE = env.get_int("DATABASE_POOL_MAX_SIZE", 4, minimum=1)
# A request that finds every pooled connection busy waits this long, then fails cleanly
# (503) instead of queueing forever.
DATABASE_POOL_TIMEOUT = env.get_float("DATABASE_POOL_TIMEOUT", 10.0, minimum=0.1)
# Connect and statement bounds: a hung database fails a request instead of holding a
# thread for ever. The statement timeout is the server's (a runaway query is cancelled).
DATABASE_CONNECT_TIMEOUT = env.get_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
DATABASE_STATEMENT_TIMEOUT_MS = env.get_int("DATABASE_STATEMENT_TIMEOUT_MS", 60_000, minimum=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's native pool (psycopg_pool): connections are reused across requests and
    # threads, and a process never holds more than DATABASE_POOL_MAX_SIZE of them. A
    # connection is checked before it is lent, so one the server dropped (a restart, a
    # purge) is replaced instead of failing a request.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool decides how long they live
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # Django's pool: check on checkout
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": DATABASE_CONNECT_TIMEOUT,
        "options": f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}",
        # Prepared statements only where asked for (core.sql.prepared_cursor: the autosave,
        # whose planning costs five times its work). Django's own cursors bind on the
        # client and are never prepared; psycopg's automatic preparation after N runs
        # stays out of reach. Behind a transaction-pooling PgBouncer, set its
        # max_prepared_statements.
        "prepare_threshold": 2**31 - 1,
        "pool": {
            "min_size": 0,
            "max_size": DATABASE_POOL_MAX_SIZE,
            "timeout": DATABASE_POOL_TIMEOUT,
            "max_idle": 300,
            "max_lifetime": 1800,
        },
    }
else:
    # The embedded default runs web, worker and beat against one file: WAL and immediate
    # transactions keep them from failing on "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ------------------------------------------------------------
REDIS_URL = env.get_str("REDIS_URL", "")
if REDIS_URL and urlsplit(REDIS_URL).scheme not in {"redis", "rediss"}:
    raise ImproperlyConfigured(f"REDIS_URL must be a redis:// or rediss:// URL, not {REDIS_URL!r}.")

# --- Bounded waits -----------------------------------------------------------------------
# Every call to another server has a connect and a read timeout, so a server that hangs
# (port open, no replies) costs a request seconds, never a thread for ever. Redis serves
# the broker and the cache; a publish that fails is not lost (the work is in the database,
# see core.tasks.enqueue), so these are short.
REDIS_CONNECT_TIMEOUT = env.get_float("REDIS_CONNECT_TIMEOUT", 1.0, minimum=0.05)
REDIS_SOCKET_TIMEOUT = env.get_float("REDIS_SOCKET_TIMEOUT", 1.0, minimum=0.05)
# After a publish fails, this process stops trying for this long (requests answer at their
# normal speed while the broker is away); the dispatcher catches up when it is back.
BROKER_RETRY_AFTER_SECONDS = env.get_float("BROKER_RETRY_AFTER_SECONDS", 10.0, minimum=0)
# The same for the API's rate counters in the cache (api/throttles.py): unreachable, the
# limits are off for this long instead of every call waiting for the cache.
THROTTLE_RETRY_AFTER_SECONDS = env.get_float("THROTTLE_RETRY_AFTER_SECONDS", 10.0, minimum=0)

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.get_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
_broker_scheme = urlsplit(CELERY_BROKER_URL).scheme
if _broker_scheme not in {"redis", "rediss", "filesystem", "memory"}:
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL must be redis://, rediss:// or filesystem://, not "
        f"{CELERY_BROKER_URL!r}."
    )
CELERY_FILESYSTEM_BROKER_DIR = Path(
    env.get_str("CELERY_FILESYSTEM_BROKER_DIR", str(VAR_DIR / "celery-broker"))
)
if _broker_scheme == "filesystem":
    # kombu's filesystem transport: producers write to data_folder_out and consumers read
    # data_folder_in; on one machine both are the same folder.
    (CELERY_FILESYSTEM_BROKER_DIR / "queue").mkdir(parents=True, exist_ok=True)
    (CELERY_FILESYSTEM_BROKER_DIR / "processed").mkdir(parents=True, exist_ok=True)
    (CELERY_FILESYSTEM_BROKER_DIR / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(CELERY_FILESYSTEM_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_FILESYSTEM_BROKER_DIR / "processed"),
        "store_processed": False,
        # Otherwise kombu keeps its exchange tables in ./control, wherever it was started.
        "control_folder": str(CELERY_FILESYSTEM_BROKER_DIR / "control"),
    }
else:
    # With late acks a message a dead worker held comes back after visibility_timeout; it
    # must outlast the longest countdown plus run time, or tasks would run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.get_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60),
        # Without a socket timeout a publish on a pooled connection to a hung Redis waits
        # for ever (kombu's default); the consumer's BRPOP is checked by the health check.
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
        "health_check_interval": 10,
        "retry_on_timeout": False,
    }
CELERY_RESULT_BACKEND = env.get_str("CELERY_RESULT_BACKEND", "") or None
# A separate queue name lets several deployments (or test runs) share one Redis.
CELERY_TASK_DEFAULT_QUEUE = env.get_str("CELERY_QUEUE", "maturity")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.get_int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env.get_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_TASK_SOFT_TIME_LIMIT must be below CELERY_TASK_TIME_LIMIT.")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
# A worker whose broker is away keeps trying (every 2 s at most, core.worker) instead of
# exiting after 100 attempts: the readiness check and the metrics report the outage.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CONSUMER = "core.worker:Consumer"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Said explicitly (Celery 6 flips the default): a task running when the broker connection
# drops finishes its database work; its message, unacknowledged, comes back after the
# visibility timeout and finds nothing left to do. The Redis outage drill runs this way.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Makes the schedule file's folder, records each tick, and lets one beat schedule at a time.
CELERY_BEAT_SCHEDULER = "core.beat:Scheduler"
# How often beat asks a worker to record that the pipeline is alive (see core.tasks).
HEARTBEAT_SECONDS = env.get_int("HEARTBEAT_SECONDS", 60, minimum=1)

# --- Authentication ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Django's database sessions and ModelBackend, each reading what every signed-in request
# needs (the session, the user) by one prepared statement instead of a compiled query.
SESSION_ENGINE = "accounts.sessions"
# django-axes first: it refuses a locked-out user or IP before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("pt-br", _("Brazilian Portuguese")),
    ("es", _("Spanish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.get_str("TIME_ZONE", "America/Sao_Paulo")
# Crontab entries (the weekly digest) read the portfolio's local time, not UTC.
CELERY_TIMEZONE = TIME_ZONE
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Uploads ----------------------------------------------------------------------------
# Above Django's 2.5 MB so that an oversized text field (a pasted 10 MB note) reaches form
# and serializer validation and gets a message on its field, instead of a bare 400 page
# that loses what the user typed. Field lengths are capped by validators.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.get_int(
    "DATA_UPLOAD_MAX_MEMORY_SIZE", 16 * 1024 * 1024, minimum=1
)

# --- E-mail -----------------------------------------------------------------------------
EMAIL_BACKEND = env.get_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.get_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.get_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env.get_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.get_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.get_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env.get_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on.")
# Django's SMTP backend waits for ever by default; a hung mail server must not hold the
# relay past its time budget.
EMAIL_TIMEOUT = env.get_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env.get_str("DEFAULT_FROM_EMAIL", "Maturity <maturity@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security ---------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.get_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env.get_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.get_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env.get_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env.get_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.get_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# Probes and scrapes come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (Django's own, the successor of django-csp): scripts, styles,
# images, fonts and requests from this site only; no inline script or style, no style
# attribute, no eval — a script or style that must be inline carries the request's nonce
# ({{ csp_nonce }}). The pages keep their behaviour in static/js; the API's Swagger UI is
# served as files (SpectacularSwaggerSplitView). CSP_REPORT_URI, when set, is where
# browsers report what the policy blocked.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if CSP_REPORT_URI := env.get_str("CSP_REPORT_URI", ""):
    SECURE_CSP["report-uri"] = [CSP_REPORT_URI]

# Single sign-on with OpenID Connect (accounts/oidc.py, mozilla-django-oidc): on when
# OIDC_CLIENT_ID is set, with the provider's endpoints (its discovery document lists them).
OIDC_RP_CLIENT_ID = env.get_str("OIDC_CLIENT_ID", "")
if OIDC_RP_CLIENT_ID:
    OIDC_RP_CLIENT_SECRET = env.get_str("OIDC_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.get_str("OIDC_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env.get_str("OIDC_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env.get_str("OIDC_USERINFO_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env.get_str("OIDC_JWKS_ENDPOINT")
    AUTHENTICATION_BACKENDS.append("accounts.oidc.OIDCBackend")
OIDC_RP_SIGN_ALGO = env.get_str("OIDC_SIGN_ALGORITHM", "RS256")
OIDC_RP_SCOPES = env.get_str("OIDC_SCOPES", "openid email profile")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = (3, 10)  # connect, read: a provider that hangs does not hang a sign-in
OIDC_PROVIDER_NAME = env.get_str("OIDC_PROVIDER_NAME", "SSO")
# The claim that carries the user's groups or roles, and which of its values give which
# role ("maturity-directors:director,maturity-admins:administrator").
OIDC_ROLE_CLAIM = env.get_str("OIDC_ROLE_CLAIM", "groups")
OIDC_ROLE_MAP = {
    name.strip(): role.strip()
    for name, _, role in (
        pair.partition(":") for pair in env.get_list("OIDC_ROLE_MAP", []) if pair.strip()
    )
}
OIDC_DEFAULT_ROLE = env.get_str("OIDC_DEFAULT_ROLE", "account_manager")
for _role in (*OIDC_ROLE_MAP.values(), OIDC_DEFAULT_ROLE):
    if _role not in {"account_manager", "director", "administrator"}:
        raise ImproperlyConfigured(
            f"OIDC role {_role!r}: use account_manager, director or administrator."
        )
OIDC_DISABLE_PASSWORD = env.get_bool("OIDC_DISABLE_PASSWORD", False)
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=failed"

# Two-factor authentication (django-otp: authenticator codes and recovery codes; every
# user may turn it on from their menu). On, directors and administrators must sign in with
# it and set it up at their next sign-in. API tokens are unaffected.
TWO_FACTOR_REQUIRED = env.get_bool("TWO_FACTOR_REQUIRED", False)
OTP_TOTP_ISSUER = env.get_str("TWO_FACTOR_ISSUER", "Maturity")

# Sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one
# username, or from one IP address (each counted alone), sign-ins from it are refused for
# LOGIN_LOCKOUT_MINUTES, the right password included; a success resets the count. An
# administrator unlocks at once by deleting the attempts in the admin ("Access attempts")
# or with `manage.py axes_reset_username <name>` / `axes_reset_ip <address>`.
AXES_FAILURE_LIMIT = env.get_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.get_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# Sign-ins and failures are written to the security log (accounts.SecurityEvent).
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# The client's address: behind TRUSTED_PROXY_COUNT proxies that append to
# X-Forwarded-For, the address the nearest of them saw; with none, the socket's peer
# (a header a client sets itself is not trusted). One function reads it for the lockout,
# the API's rate limits, the security log and the logs (core.network.client_ip).
TRUSTED_PROXY_COUNT = env.get_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "core.network.client_ip"


# --- REST API ---------------------------------------------------------------------------
def _rate(name: str, default: str) -> str:
    """An API rate limit from the environment: ``<number>/<s|min|hour|day>``."""
    value = env.get_str(name, default)
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name}={value!r} must look like 600/min (s, min, hour, day).")
    return value


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "api.permissions.TokenScopePermission",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    # django-filter's, refusing an empty date, number, choice or row (api/filters.py).
    "DEFAULT_FILTER_BACKENDS": ["api.filters.StrictFilterBackend"],
    # drf-spectacular's, with the error shape and the Idempotency-Key, ETag and If-Match
    # headers and the statuses they add (api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    # 429 with Retry-After past these (api/throttles.py; README "Settings").
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.ApiRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": _rate("API_RATE_PER_USER", "600/min"),
        "token": _rate("API_RATE_PER_TOKEN", "300/min"),
        "refused_token": _rate("API_RATE_REFUSED_TOKENS", "10/min"),
    },
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "api.parsers.StrictMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Maturity API",
    "DESCRIPTION": (
        "Clients, assessments and education actions of the Maturity platform. "
        "Authenticate with `Authorization: Bearer <token>` (see `manage.py issue_token`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Several models have a "status" with different choices; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "EducationActionStatusEnum": "education.models.ActionStatus",
        "AssessmentStatusEnum": "assessments.models.AssessmentStatus",
        "VersionStatusEnum": "assessments.models.VersionStatus",
    },
}

# --- Logging ----------------------------------------------------------------------------
# structlog renders every record — ours, Django's, Celery's — as one JSON object a line in
# production (LOG_FORMAT=json), or readable lines in development (console). Each carries
# the request id the request middleware bound, also inside the Celery tasks that request
# enqueued (django-structlog passes it in the message headers).
LOG_LEVEL = env.get_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not a logging level.")
LOG_FORMAT = env.get_str("LOG_FORMAT", "console" if DEBUG else "json").lower()
if LOG_FORMAT not in {"json", "console"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be json or console.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The same gathering and rendering as structlog's own lines (core.logs).
    "formatters": {"json": log_formatter("json"), "console": log_formatter("console")},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # django-axes narrates every sign-in at INFO; its warnings (lockouts) are kept, and
        # the security log records each event.
        "axes": {"level": "WARNING"},
    },
}
# structlog's own loggers (django-structlog's request line and Celery events) render and
# write their line themselves (core.logs), filtered by LOG_LEVEL alone (the per-logger
# levels above are the standard library's) before anything is gathered; the standard
# library's records go through LOGGING above. Both come out alike.
configure_structlog(LOG_FORMAT, LOG_LEVEL)
DJANGO_STRUCTLOG_CELERY_ENABLED = True
# One line a request, when it finishes (with its status, user, IP and user agent): the
# line at its start is written only at LOG_LEVEL=DEBUG.
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
# The address on every line is bound by core.apps with core.network.client_ip, which trusts
# X-Forwarded-For only as far as TRUSTED_PROXY_COUNT says (django-ipware, which
# django-structlog would use, believes any client's header, and costs more).
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
# An id a proxy in front already gave the request is kept, so its logs and ours join up.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = env.get_bool("TRUST_UPSTREAM_REQUEST_ID", False)

# --- Personal data (docs/privacy.md) -------------------------------------------------------
# Deleted every night once older than this many days (0 keeps them): read notifications
# (e-mails themselves are never stored) and security-log events.
NOTIFICATION_RETENTION_DAYS = env.get_int("NOTIFICATION_RETENTION_DAYS", 180, minimum=0)
SECURITY_LOG_RETENTION_DAYS = env.get_int("SECURITY_LOG_RETENTION_DAYS", 365, minimum=0)
# A session that expired is deleted the first night after this many days (it signs no one
# in once expired; what Django's clearsessions would do, on the purge's schedule).
EXPIRED_SESSION_DAYS = env.get_int("EXPIRED_SESSION_DAYS", 1, minimum=1)

# --- Health and metrics (ops/; docs/operations.md) -----------------------------------------
# Readiness fails when a worker's heartbeat, beat's tick or the oldest waiting outbox row
# is older than these.
HEALTH_WORKER_MAX_AGE_SECONDS = env.get_int(
    "HEALTH_WORKER_MAX_AGE_SECONDS", 3 * HEARTBEAT_SECONDS, minimum=1
)
HEALTH_BEAT_MAX_AGE_SECONDS = env.get_int("HEALTH_BEAT_MAX_AGE_SECONDS", 60, minimum=1)
HEALTH_OUTBOX_MAX_AGE_SECONDS = env.get_int("HEALTH_OUTBOX_MAX_AGE_SECONDS", 600, minimum=1)
# /metrics needs "Authorization: Bearer <METRICS_TOKEN>"; unset, it exists only in DEBUG.
METRICS_TOKEN = env.get_str("METRICS_TOKEN", "")

# --- Education: the dispatcher and the notification outbox ------------------------------
# How often beat runs the one dispatcher (reminders, overdue, escalations, recurrences,
# reassessment prompts, then the e-mail outbox).
EDUCATION_DISPATCH_SECONDS = env.get_int("EDUCATION_DISPATCH_SECONDS", 60, minimum=1)
# How often the dashboards' summaries of history (trend, education figures) are rebuilt.
DASHBOARD_REFRESH_SECONDS = env.get_int("DASHBOARD_REFRESH_SECONDS", 300, minimum=10)
EDUCATION_REMINDER_DAYS = env.get_int("EDUCATION_REMINDER_DAYS", 2, minimum=0)
# A plan still pending this long after its submit lost its Celery message (the broker was
# down): the dispatcher builds it instead.
EDUCATION_PLAN_SWEEP_SECONDS = env.get_int("EDUCATION_PLAN_SWEEP_SECONDS", 120, minimum=1)
# One dispatcher pass stops starting new batches after this long (well inside the task's
# soft time limit); the next tick carries on where it stopped.
EDUCATION_PASS_SECONDS = env.get_int("EDUCATION_PASS_SECONDS", 120, minimum=1)
EDUCATION_ESCALATE_AFTER_DAYS = env.get_int("EDUCATION_ESCALATE_AFTER_DAYS", 3, minimum=0)
# The weekly digest for directors: ISO weekday (1 = Monday) and local hour.
EDUCATION_DIGEST_WEEKDAY = env.get_int("EDUCATION_DIGEST_WEEKDAY", 1, minimum=1)
if EDUCATION_DIGEST_WEEKDAY > 7:
    raise ImproperlyConfigured("EDUCATION_DIGEST_WEEKDAY must be 1 (Monday) to 7 (Sunday).")
EDUCATION_DIGEST_HOUR = env.get_int("EDUCATION_DIGEST_HOUR", 8, minimum=0)
if EDUCATION_DIGEST_HOUR > 23:
    raise ImproperlyConfigured("EDUCATION_DIGEST_HOUR must be 0 to 23.")
NOTIFICATION_MAX_ATTEMPTS = env.get_int("NOTIFICATION_MAX_ATTEMPTS", 8, minimum=1)
# The first retry waits this long; each further one twice as long (capped at 6 hours).
NOTIFICATION_RETRY_SECONDS = env.get_int("NOTIFICATION_RETRY_SECONDS", 60, minimum=1)
# Links in e-mails point here; Message-IDs end in this domain.
SITE_URL = env.get_str("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "")
if not DEBUG and not SITE_URL:
    raise ImproperlyConfigured("SITE_URL must be set when DEBUG is off: e-mails link to it.")
if urlsplit(SITE_URL).scheme not in {"http", "https"} or not urlsplit(SITE_URL).netloc:
    raise ImproperlyConfigured(f"SITE_URL must be an http(s):// URL, not {SITE_URL!r}.")
EMAIL_MESSAGE_ID_DOMAIN = urlsplit(SITE_URL).hostname or "maturity.local"

# An API POST's Idempotency-Key is remembered this long (api/idempotency.py).
IDEMPOTENCY_KEY_DAYS = env.get_int("IDEMPOTENCY_KEY_DAYS", 1, minimum=1)

# The client's voice (docs/client-voice.md): whose name the client's respondents see, and
# how many requests a minute one address may make to the pages their links open.
SUPPLIER_NAME = env.get_str("SUPPLIER_NAME", "")
CLIENT_SURVEY_RATE_PER_MINUTE = env.get_int("CLIENT_SURVEY_RATE_PER_MINUTE", 120, minimum=1)
# A respondent who has not finished is reminded once, this many days before the round
# closes (the dispatcher's pass writes the e-mail).
CLIENT_SURVEY_REMINDER_DAYS = env.get_int("CLIENT_SURVEY_REMINDER_DAYS", 3, minimum=1)

# --- Webhooks (docs/integrations.md) ----------------------------------------------------
# http:// and private, loopback and link-local addresses (a receiver on this machine)
# are allowed only where this is on: in production only https:// to public addresses.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.get_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", DEBUG)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.get_int("WEBHOOK_CONNECT_TIMEOUT_SECONDS", 3, minimum=1)
WEBHOOK_TIMEOUT_SECONDS = env.get_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# A claimed delivery is leased this long: no other worker takes it meanwhile, and one whose
# worker died mid-request is sent again once the lease runs out. It must outlast the
# request's waits, or a delivery still in flight could be claimed and sent again.
WEBHOOK_LEASE_SECONDS = env.get_int(
    "WEBHOOK_LEASE_SECONDS", WEBHOOK_TIMEOUT_SECONDS + 60, minimum=1
)
if WEBHOOK_LEASE_SECONDS <= WEBHOOK_CONNECT_TIMEOUT_SECONDS + WEBHOOK_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "WEBHOOK_LEASE_SECONDS must be longer than WEBHOOK_CONNECT_TIMEOUT_SECONDS and "
        "WEBHOOK_TIMEOUT_SECONDS together: a delivery still being sent would be claimed again."
    )
# The first retry waits about this long, each further one twice as long (at most 12 h),
# until this many hours after the first attempt: then the delivery is given up.
WEBHOOK_RETRY_SECONDS = env.get_int("WEBHOOK_RETRY_SECONDS", 30, minimum=1)
WEBHOOK_RETRY_HOURS = env.get_int("WEBHOOK_RETRY_HOURS", 72, minimum=1)
# An endpoint is disabled (and directors told) once this many attempts in a row failed
# over at least this many hours.
WEBHOOK_DISABLE_AFTER_FAILURES = env.get_int("WEBHOOK_DISABLE_AFTER_FAILURES", 15, minimum=1)
WEBHOOK_DISABLE_AFTER_HOURS = env.get_int("WEBHOOK_DISABLE_AFTER_HOURS", 24, minimum=0)
# After a rotation the old secret also signs for this long.
WEBHOOK_SECRET_GRACE_HOURS = env.get_int("WEBHOOK_SECRET_GRACE_HOURS", 24, minimum=0)
# Beat's pass over due deliveries (retries; what a broker outage kept from being sent).
WEBHOOK_DISPATCH_SECONDS = env.get_int("WEBHOOK_DISPATCH_SECONDS", 30, minimum=1)
WEBHOOK_PASS_SECONDS = env.get_int("WEBHOOK_PASS_SECONDS", 120, minimum=1)
WEBHOOK_REPLAY_MAX = env.get_int("WEBHOOK_REPLAY_MAX", 10_000, minimum=1)
# Events (with their deliveries and attempts) are deleted after this many days (0 keeps).
WEBHOOK_RETENTION_DAYS = env.get_int("WEBHOOK_RETENTION_DAYS", 30, minimum=0)

# --- Product ----------------------------------------------------------------------------
# Demo data may only be loaded where DEBUG is on, unless forced (see seed_demo).
DEMO_PASSWORD = "demo"
