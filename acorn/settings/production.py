"""Production: everything from base, the secrets required, no defaults.

Base already holds the production-safe values (HTTPS redirect, HSTS,
secure cookies, DEBUG off); this module only refuses to start without the
secrets and services production cannot run without.
"""

from django.core.exceptions import ImproperlyConfigured

from acorn.env import env, env_list
from acorn.settings.base import *  # noqa: F403

SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
DATABASE_URL = env("DATABASE_URL")
REDIS_URL = env("REDIS_URL")
ACORN_FIELD_ENCRYPTION_KEYS = env_list("ACORN_FIELD_ENCRYPTION_KEYS")
if not ACORN_FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("Set ACORN_FIELD_ENCRYPTION_KEYS (Fernet keys, newest first).")
if DEBUG:  # noqa: F405
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production.")
