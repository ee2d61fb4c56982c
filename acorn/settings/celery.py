"""Celery: Redis when REDIS_URL is set, else kombu's filesystem transport.

The filesystem transport needs no server, so ``make demo`` runs anywhere;
it is single-host by nature, which the demo is.
"""

from acorn.env import env, env_int

_REDIS_URL = env("REDIS_URL", "")
_VAR_DIR = env("ACORN_VAR_DIR", "")

if _REDIS_URL:
    CELERY_BROKER_URL = _REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A message unacknowledged this long is redelivered; it must exceed
        # the longest hard time limit or running tasks would run twice.
        "visibility_timeout": 3600,
    }
else:
    from pathlib import Path

    _folder = Path(_VAR_DIR or Path(__file__).resolve().parent.parent.parent / "var") / "broker"
    # The transport expects its folders to exist; every process makes sure.
    for _sub in ("out", "processed", "control"):
        (_folder / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_folder / "out"),
        "data_folder_out": str(_folder / "out"),
        "processed_folder": str(_folder / "processed"),
        "store_processed": False,
        # Broadcast/control messages; kombu's default is ./control.
        "control_folder": str(_folder / "control"),
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
