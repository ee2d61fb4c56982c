"""Task counts and latency, kept in Redis so every process adds to them.

Design: each worker child adds to one Redis hash per finished task
(HINCRBY / HINCRBYFLOAT in one pipeline: atomic per field, correct with
any number of processes on any number of hosts); ``/metrics`` reads the
hash at scrape time and turns it into a counter and a histogram. This was
chosen over prometheus_client's multiprocess mode, whose per-process files
must be on a folder shared by the worker and the web process that serves
the scrape: not the case with workers on other hosts or containers.

Counters live as long as Redis keeps them (Prometheus treats a drop to
zero as a counter reset). Without Redis (the embedded demo) nothing is
recorded and the families are empty.
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# Seconds. Most tasks are sub-second; syncs take minutes (their time
# limits are 5-11 minutes), so the top buckets sit at those limits.
LATENCY_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 660.0)
_started: dict[str, float] = {}
_client = None


def tasks_hash_key() -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or "acorn"
    return f"{prefix}:metrics:tasks"


def redis_client():
    """The Redis of REDIS_URL, or None (embedded demo)."""
    global _client
    if not settings.REDIS_URL:
        return None
    if _client is None:

        # Fork-safe: redis-py's pool reconnects in a child process.
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
    return _client


def task_started(*, task_id: str | None) -> None:
    if task_id:
        _started[task_id] = time.monotonic()


def task_finished(*, task_id: str | None, task_name: str, state: str) -> None:
    started = _started.pop(task_id, None) if task_id else None
    client = redis_client()
    if client is None:
        return
    try:
        pipe = client.pipeline(transaction=False)
        key = tasks_hash_key()
        pipe.hincrby(key, f"{task_name}|state|{state}", 1)
        if started is not None:
            seconds = time.monotonic() - started
            pipe.hincrbyfloat(key, f"{task_name}|sum", seconds)
            bucket = next((b for b in LATENCY_BUCKETS if seconds <= b), "+Inf")
            pipe.hincrby(key, f"{task_name}|bucket|{bucket}", 1)
        pipe.execute()
    except Exception:  # metrics never break a task
        logger.warning("task metrics write failed", exc_info=True)


def task_metrics_read() -> dict[str, dict]:
    """{task: {"states": {state: n}, "buckets": {le: n}, "sum": s}} from Redis."""
    client = redis_client()
    if client is None:
        return {}
    tasks: dict[str, dict] = {}
    for raw_field, raw_value in client.hgetall(tasks_hash_key()).items():
        field = raw_field.decode()
        name, _sep, rest = field.partition("|")
        entry = tasks.setdefault(name, {"states": {}, "buckets": {}, "sum": 0.0})
        kind, _sep, label = rest.partition("|")
        value = raw_value.decode()
        if kind == "state":
            entry["states"][label] = int(value)
        elif kind == "bucket":
            entry["buckets"][label] = int(value)
        elif kind == "sum":
            entry["sum"] = float(value)
    return tasks
