"""Test settings: real PostgreSQL and Redis, fast hashing, eager Celery.

Tests that depend on a worker's behaviour start a real worker instead.
"""

import os

from acorn.env import env, env_default

# Defaults for this process and the workers and servers tests start.
env_default("DATABASE_URL", "postgres://acorn_app@127.0.0.1:5432/acorn")
env_default("DATABASE_OWNER_URL", "postgres://acorn_owner@127.0.0.1:5432/acorn")
env_default("REDIS_URL", "redis://127.0.0.1:6379/15")

from acorn.settings.base import *  # noqa: E402,F403

SECRET_KEY = "test-only-secret-key-not-used-anywhere-else-0123456789"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# The test client and the live server speak plain HTTP.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
ACORN_FIELD_ENCRYPTION_KEYS = [
    "dGVzdC1rZXktb25lLWZvci1hY29ybi10ZXN0cy0wMDE=",
]
# Templates resolve static files from the apps' folders; production's
# hashed manifest exists only after collectstatic.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Per pytest-xdist worker, so parallel workers never overwrite each
    # other's files; a Celery worker a test starts inherits the variable.
    "invoice_documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(
            VAR_DIR / "test-documents" / env("PYTEST_XDIST_WORKER", "main"))},  # noqa: F405
    },
}
# WhiteNoise serves straight from the apps' static folders; nothing is
# collected.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# Per-test-run isolation for keys in the shared Redis.
CACHES["default"]["KEY_PREFIX"] = f"acorn-test-{os.getpid()}"  # noqa: F405
# Test sandboxes listen on random local ports.
ACORN_SPAPI_ENDPOINT_ALLOWLIST = ["http://127.0.0.1:*", "http://localhost:*"]
# Archive files of the tests go to a temporary folder of this run.
import tempfile  # noqa: E402

STORAGES["archives"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {
        "location": os.path.join(tempfile.gettempdir(), f"acorn-test-archives-{os.getpid()}")
    },
}
ACORN_STORE_ENDPOINT_ALLOWLIST = ["http://127.0.0.1:*", "http://localhost:*"]
# Unit tests call the store engine directly (the worker tests turn it on).
ACORN_STORE_PUSH_ON_COMMIT = False
