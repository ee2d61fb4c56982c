"""The laptop / demo settings: the embedded defaults, debug on.

Without DATABASE_URL the database is the embedded PostgreSQL server that
`make demo` starts under VAR_DIR (acorn/db/embedded.py), with the same owner
and application roles and row-level security as production. With
DATABASE_URL set, that server is used and nothing embedded starts.
"""

from acorn.db.embedded import EmbeddedPostgres
from acorn.env import env, env_list
from acorn.settings.base import *  # noqa: F403

if not DATABASE_URL:  # noqa: F405
    _embedded = EmbeddedPostgres(var_dir=VAR_DIR)  # noqa: F405
    ACORN_EMBEDDED_POSTGRES = True
    DATABASE_URL = _embedded.app_url
    DATABASE_OWNER_URL = _embedded.owner_url
    DATABASES = {"default": database_from_url(DATABASE_URL)}  # noqa: F405

DEBUG = True
SECRET_KEY = env("DJANGO_SECRET_KEY", "local-only-not-secret-acorn-demo-key-0123456789abcdef")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# A fixed demo key so the demo database stays readable across restarts;
# production requires its own keys (production.py).
ACORN_FIELD_ENCRYPTION_KEYS = env_list(
    "ACORN_FIELD_ENCRYPTION_KEYS", ["ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="]
)
