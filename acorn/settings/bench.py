"""Benchmarks run on PostgreSQL and Redis, like the tests, in their own DB."""

from acorn.env import env_default

env_default("DATABASE_URL", "postgres://acorn_app@127.0.0.1:5432/acorn_bench")
env_default("DATABASE_OWNER_URL", "postgres://acorn_owner@127.0.0.1:5432/acorn_bench")
env_default("REDIS_URL", "redis://127.0.0.1:6379/14")

from acorn.settings.base import *  # noqa: E402,F403

SECRET_KEY = "bench-only-secret-key-not-used-anywhere-else-0123456789"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
ACORN_FIELD_ENCRYPTION_KEYS = ["YmVuY2gta2V5LW9uZS1mb3ItYWNvcm4tYmVuY2gtMDE="]
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # noqa: F405
# The benchmarks' sandbox listens on a random local port.
ACORN_SPAPI_ENDPOINT_ALLOWLIST = ["http://127.0.0.1:*", "http://localhost:*"]
ACORN_STORE_ENDPOINT_ALLOWLIST = ["http://127.0.0.1:*", "http://localhost:*"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves straight from the apps' static folders; nothing is
# collected.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# The benchmarks' HTTP clients speak plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
