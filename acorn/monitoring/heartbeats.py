"""Heartbeat keys that readiness reads: one written by every worker
process on a timer, one written by the beat-scheduled heartbeat task.

Why two: a worker that is up but gets no messages (beat down, broker
unreachable from beat) still writes its own heartbeat, while the task's
key only moves when beat scheduled it *and* a worker ran it. Readiness
reports each, so an operator sees which half broke.

Both live in the Django cache (Redis in production, so every host sees
them; the file cache on one demo host).
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

WORKER_HEARTBEAT_KEY = "acorn:health:worker-heartbeat"
BEAT_LAST_RUN_KEY = "acorn:health:beat-last-run"
# Kept long past staleness, so readiness says "last seen 2 h ago" rather
# than "never seen" after an outage.
HEARTBEAT_KEY_TTL_SECONDS = 7 * 24 * 3600


def worker_heartbeat_interval() -> int:
    return settings.ACORN_WORKER_HEARTBEAT_SECONDS


def worker_heartbeat_stale_after() -> int:
    # Three missed beats: one slow Redis write or a long GC pause is no
    # reason to take the service out of the load balancer.
    return 3 * worker_heartbeat_interval()


# The heartbeat task runs every minute (acorn/schedule.py); two missed runs
# plus a minute of queueing behind other default-queue work is stale.
BEAT_STALE_AFTER_SECONDS = 180


def heartbeat_write(key: str) -> None:
    cache.set(
        key,
        {"at": time.time(), "host": socket.gethostname()},
        timeout=HEARTBEAT_KEY_TTL_SECONDS,
    )


def heartbeat_read(key: str) -> dict | None:
    value = cache.get(key)
    return value if isinstance(value, dict) and "at" in value else None


class WorkerHeartbeat:
    """A daemon thread in the worker's main process writing the worker key."""

    def __init__(self, interval: float):
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="acorn-worker-heartbeat", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                heartbeat_write(WORKER_HEARTBEAT_KEY)
            except Exception:  # a Redis blip must not kill the thread
                logger.warning("worker heartbeat write failed", exc_info=True)
            self._stop.wait(self.interval)


_worker_heartbeat: WorkerHeartbeat | None = None


def worker_heartbeat_start(**_signal_kwargs) -> None:
    """``worker_ready`` handler (connected in acorn.monitoring.signals)."""
    global _worker_heartbeat
    if _worker_heartbeat is None:
        _worker_heartbeat = WorkerHeartbeat(worker_heartbeat_interval())
        _worker_heartbeat.start()


def worker_heartbeat_stop(**_signal_kwargs) -> None:
    global _worker_heartbeat
    if _worker_heartbeat is not None:
        _worker_heartbeat.stop()
        _worker_heartbeat = None
