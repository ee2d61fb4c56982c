"""Celery on Redis (or Valkey): REDIS_URL, or the embedded Valkey (local.py)."""

from acorn.env import env, env_int

# Empty: no broker until local.py sets the embedded one; production
# requires REDIS_URL.
CELERY_BROKER_URL = env("REDIS_URL", "")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message unacknowledged this long is redelivered; it must exceed
    # the longest hard time limit or running tasks would run twice.
    "visibility_timeout": 3600,
}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# Late acks with reject-on-loss: a worker killed mid-task leaves the message
# on the queue for another worker. Services are idempotent, so this is safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Defaults for tasks that do not set their own: 5 minutes is well past any
# single SP-API page plus retries; the hard limit kills a hung worker.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("ACORN_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("ACORN_TASK_TIME_LIMIT", 360)
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
