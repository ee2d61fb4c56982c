"""The demo's embedded Valkey: the cache, the rate-limit buckets and the
Celery broker of the local settings all reach it, across processes.

Runs ``manage.py demo_services start`` the way `make demo` does (local
settings, no DATABASE_URL or REDIS_URL) in a fresh folder.
"""

import os

import pytest
import redis

from acorn.db.embedded_valkey import EmbeddedValkey
from acorn.tests.test_embedded_postgres import manage, var_dir  # noqa: F401 - fixture

pytestmark = pytest.mark.slow

PROBE = """
from django.core.cache import cache
from kombu import Connection
from django.conf import settings
from vendor_api.limits import RedisTokenBucket, UsagePlan, default_limiter

cache.set("probe", "from-django", timeout=300)
limiter = default_limiter()
assert isinstance(limiter, RedisTokenBucket), limiter
assert limiter.reserve(key="probe-bucket", plan=UsagePlan(rate=1, burst=1), max_wait_seconds=0) == 0
with Connection(settings.CELERY_BROKER_URL) as broker:
    queue = broker.SimpleQueue("probe-queue")
    queue.put({"hello": "worker"})
    message = queue.get(timeout=5)
    message.ack()
    print("broker says", message.payload["hello"])
    queue.close()
"""

QUEUE_ONE = """
from django.conf import settings
from kombu import Connection

with Connection(settings.CELERY_BROKER_URL) as broker:
    broker.SimpleQueue("survivor-queue").put({"left": "queued"})
"""
TAKE_IT = """
from django.conf import settings
from kombu import Connection

with Connection(settings.CELERY_BROKER_URL) as broker:
    message = broker.SimpleQueue("survivor-queue").get(timeout=5)
    message.ack()
    print("after restart", message.payload["left"])
"""


def test_cache_limiter_and_broker_of_the_demo_run_on_the_embedded_valkey(var_dir):  # noqa: F811
    output = manage(var_dir, "demo_services", "start")
    assert "Started the embedded Valkey" in output
    valkey = EmbeddedValkey(var_dir=var_dir)
    assert valkey.socket_path.is_socket()
    assert oct(valkey.folder.stat().st_mode & 0o777) == "0o700"

    assert "broker says worker" in manage(var_dir, "shell", "-c", PROBE)

    # Another process (this one, plain redis-py) sees what Django wrote and
    # the bucket the limiter spent.
    client = redis.Redis.from_url(valkey.url())
    assert client.get("acorn:1:probe") is not None
    assert client.hget("probe-bucket", "tokens") is not None
    client.close()

    # Re-run: found running; after a stop, a pid file naming another
    # process does not keep it from starting again, and a message queued
    # before the stop is still there (append-only file).
    assert "The embedded Valkey is already running" in manage(var_dir, "demo_services", "start")
    manage(var_dir, "shell", "-c", QUEUE_ONE)
    manage(var_dir, "demo_services", "stop")
    assert valkey.running_pid() is None
    valkey.pid_file.write_text(f"{os.getpid()}\n")
    assert "Started the embedded Valkey" in manage(var_dir, "demo_services", "start")
    assert valkey.running_pid() not in (None, os.getpid())
    assert "after restart queued" in manage(var_dir, "shell", "-c", TAKE_IT)
