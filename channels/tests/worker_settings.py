"""Settings of a real Celery worker started by channels' slow tests.

The test settings with Celery not eager, the broker on a Redis database
of the test's own (ACORN_TEST_BROKER_URL), a short visibility timeout so a
message of a killed worker is redelivered in seconds instead of an hour,
and a short reconciliation grace to match the sandbox's latency fault.
"""

from acorn.env import env, env_float, env_int
from acorn.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_BROKER_URL = env("ACORN_TEST_BROKER_URL")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("ACORN_TEST_VISIBILITY_TIMEOUT", 8),
    # Sweep for abandoned messages every second (kombu's default period is
    # ~100 s: interval 10 s x throttle 10).
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
ACORN_SUBMISSION_RECONCILE_GRACE_SECONDS = env_float("ACORN_TEST_RECONCILE_GRACE_SECONDS", 3.0)
# A test that reads what the worker writes to the cache (heartbeats,
# failure markers) passes its own key prefix; test.py's default is per pid.
if env("ACORN_TEST_CACHE_PREFIX", ""):
    CACHES["default"]["KEY_PREFIX"] = env("ACORN_TEST_CACHE_PREFIX")  # noqa: F405
