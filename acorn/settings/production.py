"""Production: everything from base, secrets required, no defaults."""

from acorn.env import env, env_list
from acorn.settings.base import *  # noqa: F403

SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
DATABASE_URL = env("DATABASE_URL")
REDIS_URL = env("REDIS_URL")
ACORN_FIELD_ENCRYPTION_KEYS = env_list("ACORN_FIELD_ENCRYPTION_KEYS")
if not ACORN_FIELD_ENCRYPTION_KEYS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set ACORN_FIELD_ENCRYPTION_KEYS (Fernet keys, newest first).")
DEBUG = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env("ACORN_SSL_REDIRECT", "true").lower() != "false"
SECURE_HSTS_SECONDS = int(env("ACORN_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
STATIC_ROOT = env("ACORN_STATIC_ROOT", str(STATIC_ROOT))  # noqa: F405
