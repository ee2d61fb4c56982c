"""The laptop / demo settings: the embedded servers, debug on, plain HTTP.

Without DATABASE_URL the database is the embedded PostgreSQL server that
`make demo` starts under VAR_DIR (acorn/db/embedded.py), with the same owner
and application roles and row-level security as production. Without
REDIS_URL the cache, rate-limit buckets and Celery broker use the embedded
Valkey (acorn/db/embedded_valkey.py). A URL that is set is used as it is,
and then nothing embedded starts for it.
"""

from acorn.db.embedded import EmbeddedPostgres
from acorn.db.embedded_valkey import EmbeddedValkey
from acorn.env import env, env_list
from acorn.settings.base import *  # noqa: F403

if not DATABASE_URL:  # noqa: F405
    _postgres = EmbeddedPostgres(var_dir=VAR_DIR)  # noqa: F405
    ACORN_EMBEDDED_POSTGRES = True
    DATABASE_URL = _postgres.app_url
    DATABASE_OWNER_URL = _postgres.owner_url
    DATABASES = {"default": database_from_url(DATABASE_URL)}  # noqa: F405

if not REDIS_URL:  # noqa: F405
    _valkey = EmbeddedValkey(var_dir=VAR_DIR)  # noqa: F405
    ACORN_EMBEDDED_VALKEY = True
    REDIS_URL = _valkey.url()
    CACHES = redis_cache(REDIS_URL)  # noqa: F405
    CELERY_BROKER_URL = _valkey.broker_url()

DEBUG = True
SECRET_KEY = env("DJANGO_SECRET_KEY", "local-only-not-secret-acorn-demo-key-0123456789abcdef")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
# The demo is served over plain HTTP on localhost.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
# Static files come straight from the apps' folders (WhiteNoise uses the
# finders under DEBUG); nothing is collected for the demo.
STATIC_ROOT = None
# Plain names from the apps' folders: the manifest storage of base needs
# `collectstatic` (a STATIC_ROOT), which the demo never runs.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A fixed demo key so the demo database stays readable across restarts;
# production requires its own keys (production.py).
ACORN_FIELD_ENCRYPTION_KEYS = env_list(
    "ACORN_FIELD_ENCRYPTION_KEYS", ["ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="]
)
# The demo's accounts talk to the local sandbox (any port on this machine).
ACORN_SPAPI_ENDPOINT_ALLOWLIST = env_list(  # noqa: F405
    "ACORN_SPAPI_ENDPOINT_ALLOWLIST",
    [ACORN_SANDBOX_URL, "http://127.0.0.1:*", "http://localhost:*"],  # noqa: F405
)
# The demo's Shopify store lives in the local sandbox (channels/stores/demo_shop.py).
ACORN_SANDBOX_MOUNTS = [  # noqa: F405
    *ACORN_SANDBOX_MOUNTS,  # noqa: F405
    "channels.stores.demo_shop.register",
]
# The demo's store connections talk to the local sandbox too.
ACORN_STORE_ENDPOINT_ALLOWLIST = env_list(  # noqa: F405
    "ACORN_STORE_ENDPOINT_ALLOWLIST",
    [ACORN_SANDBOX_URL, "http://127.0.0.1:*", "http://localhost:*"],  # noqa: F405
)
