"""E-mail: sign-up confirmations, invitations, alerts.

Django's own mail backends: SMTP when ``DJANGO_EMAIL_HOST`` is set, else
the console backend, which prints each message (the demo reads its links
there). Tests use the in-memory backend (test.py).
"""

from acorn.env import env, env_bool, env_int

EMAIL_HOST = env("DJANGO_EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("DJANGO_EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env("DJANGO_EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", True)
    # A mail server that does not answer must not hold a web worker.
    EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 10)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", "ACORN <no-reply@localhost>")
