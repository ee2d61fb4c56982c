"""Every setting, with production-safe defaults.

``local.py`` (the demo / laptop) and ``test.py`` relax what they must;
``production.py`` only insists on the secrets.
"""

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from acorn.env import env, env_bool, env_float, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env("ACORN_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "acorn.apps.AcornConfig",
    "vendor_api.apps.VendorApiConfig",
    "inventory.apps.InventoryConfig",
    "channels.apps.ChannelsConfig",
    "invoicing.apps.InvoicingConfig",
    "reconciliation.apps.ReconciliationConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the app server, compressed and cached
    # forever under hashed names (whitenoise docs: right after security).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The Content-Security-Policy header on every response (CONTENT_SECURITY_POLICY).
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # NUL/control characters in any input: a 400 before any view runs.
    "acorn.input_cleaning.InputCleaningMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The signed-in user for row-level security on memberships (acorn/rls.py).
    "acorn.middleware.RlsUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Lockout must see every authentication attempt; it stays last (axes docs).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "acorn.urls"
WSGI_APPLICATION = "acorn.wsgi.application"
ASGI_APPLICATION = "acorn.asgi.application"

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
                "acorn.views.navigation_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# DATABASE_URL is the application's connection: on PostgreSQL a role that is
# not superuser, not table owner and has no BYPASSRLS, so row-level security
# applies to it. DATABASE_OWNER_URL is the owner role that runs migrations.
# With neither set the product runs on an embedded SQLite file.
_SQLITE_URL = f"sqlite:///{VAR_DIR / 'acorn.sqlite3'}"
DATABASE_URL = env("DATABASE_URL", _SQLITE_URL)
DATABASE_OWNER_URL = env("DATABASE_OWNER_URL", "")
_POSTGRES_ENGINE = "acorn.db.backends.postgresql"


def database_from_url(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = _POSTGRES_ENGINE
        config["CONN_HEALTH_CHECKS"] = True
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        # The demo's web, worker and beat share one file: WAL lets readers
        # run beside a writer, IMMEDIATE transactions queue writers instead
        # of failing with "database is locked".
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return config


DATABASES = {"default": database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Every request runs in one transaction: the tenant is set per transaction
# for row-level security, and on_commit hooks fire only after success.
DATABASES["default"]["ATOMIC_REQUESTS"] = True

# --- Cache and broker -----------------------------------------------------
REDIS_URL = env("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("ACORN_CACHE_PREFIX", "acorn"),
        }
    }
else:
    # A file cache is shared by every process on the host (web, worker,
    # beat), which is what the LWA token cache needs in the embedded demo.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Auth -----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "root"
LOGOUT_REDIRECT_URL = "login"

# Lockout: five failures per username and address lock for 30 minutes.
AXES_FAILURE_LIMIT = env_int("ACORN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("ACORN_LOGIN_COOLOFF_MINUTES", 30) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password"]

# --- Security -------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("ACORN_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_SECURE = env_bool("ACORN_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HTTPS only, with a year of HSTS: the production-safe defaults. The demo
# and the tests, on plain HTTP, turn these off in their own modules.
SECURE_SSL_REDIRECT = env_bool("ACORN_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("ACORN_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Load balancers and container health checks probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/"]

# Content-Security-Policy (django-csp): everything from this origin only, no
# inline script and no inline style anywhere (templates load
# acorn/static/acorn/*.js), no plugins, no framing, forms post here only.
# The API docs page widens this for Redoc alone (acorn/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Debug pages and error reports hide variables and POST fields marked
# sensitive even with DEBUG on (the account views' LWA secrets).
DEFAULT_EXCEPTION_REPORTER_FILTER = "acorn.error_reports.AlwaysSafeExceptionReporterFilter"

# Keys of the encrypted fields, newest first (MultiFernet). Independent of
# SECRET_KEY so that rotating one never makes the other unreadable.
ACORN_FIELD_ENCRYPTION_KEYS = env_list("ACORN_FIELD_ENCRYPTION_KEYS", [])

# --- I18n -----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic gathers the files that WhiteNoise serves.
STATIC_ROOT = Path(env("ACORN_STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed copies that WhiteNoise serves with far-future
    # cache headers; needs `collectstatic` (the Dockerfile runs it).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# --- REST API -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    # Fail closed: a view that forgets TenantAPIView's classes lets no one in.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "acorn.api.StableCursorPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "acorn.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"api_key": env("ACORN_API_KEY_RATE", "1200/minute")},
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ACORN API",
    "DESCRIPTION": (
        "Read-only REST API for BI tools. Authenticate with a per-tenant API key: "
        "`Authorization: Api-Key <key>`. Lists use cursor pagination."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Docs assets are served from the installed sidecar package, not a CDN.
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Logging --------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("ACORN_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

from acorn.settings.celery import *  # noqa: E402,F403
from acorn.settings.email import *  # noqa: E402,F403

# --- Sandboxes --------------------------------------------------------------
# Callables that mount extra handlers (web-store sandboxes) on the sandbox
# server of vendor_api.
ACORN_SANDBOX_MOUNTS: list[str] = [
    # Shopify GraphQL Admin (2026-04) under /shopify/<shop>/, control API /_sandbox/shopify/.
    "channels.stores.sandbox.shopify.register",
    # Magento 2 REST (MSI) under /magento/<store>/rest/..., control API /_sandbox/magento/.
    "channels.stores.sandbox.magento.register",
    # BigCommerce v2/v3 under /bigcommerce/stores/<hash>/..., control API /_sandbox/bigcommerce/.
    "channels.stores.sandbox.bigcommerce.register",
]
# Where the demo's local sandbox listens (Amazon SP-API + LWA).
ACORN_SANDBOX_URL = env("ACORN_SANDBOX_URL", "http://127.0.0.1:8001")
# Self-service sign-up of new companies (tenants). A private installation
# that onboards its brands by hand turns it off.
ACORN_SIGNUP_ENABLED = env_bool("ACORN_SIGNUP_ENABLED", True)
# Origins besides Amazon's documented SP-API and LWA hosts that an account's
# endpoint may point at (and so receive its credentials): a self-hosted
# sandbox, "scheme://host[:port]", port "*" for any. Empty by default: in
# production every account talks to Amazon only (vendor_api.endpoints).
ACORN_SPAPI_ENDPOINT_ALLOWLIST = env_list("ACORN_SPAPI_ENDPOINT_ALLOWLIST", [])
# Origins besides the web-store platforms' documented hosts (Shopify
# *.myshopify.com, api.bigcommerce.com, a Magento store's public HTTPS host)
# that a store connection may point at: a sandbox, "scheme://host[:port]".
ACORN_STORE_ENDPOINT_ALLOWLIST = env_list("ACORN_STORE_ENDPOINT_ALLOWLIST", [])
# Push stock to the stores right after a channels write commits (a debounced
# task); the beat backstop every few seconds finds every change anyway.
ACORN_STORE_PUSH_ON_COMMIT = env_bool("ACORN_STORE_PUSH_ON_COMMIT", True)
# Amazon's SP-API models (JSON schemas) for the conformance checks of the
# tests; empty: look for shared/spapi-models beside the repository.
ACORN_SPAPI_MODELS_DIR = env("ACORN_SPAPI_MODELS_DIR", "")

# --- Amazon vendor channel ----------------------------------------------------
# Minutes a submission may stay "Processing" at Amazon before it is treated
# as stale and alerted (spapi-vendor.md section 5).
ACORN_SUBMISSION_STALE_MINUTES = env_int("ACORN_SUBMISSION_STALE_MINUTES", 30)
# Seconds after a POST left before its outcome is reconciled with Amazon:
# twice the client's 60 s budget of read timeout plus retries.
ACORN_SUBMISSION_RECONCILE_GRACE_SECONDS = env_float(
    "ACORN_SUBMISSION_RECONCILE_GRACE_SECONDS", 120.0
)
# Hours before the 24 h acknowledgement deadline that the work queue warns.
ACORN_ACK_DEADLINE_WARNING_HOURS = env_int("ACORN_ACK_DEADLINE_WARNING_HOURS", 4)
