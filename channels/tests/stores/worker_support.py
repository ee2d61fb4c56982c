"""A real Celery worker (queues stores + default) and beat as subprocesses,
for the store latency test and the store_push_latency benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from acorn.env import environment


def database_url() -> str:
    data = connection.settings_dict
    return f"postgres://{data['USER']}@{data['HOST']}:{data['PORT']}/{data['NAME']}"


def _start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "acorn.celery_app", *args],
        env=env, cwd=settings.BASE_DIR, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return process.stdout.read().decode(errors="replace") if process.stdout else ""


@contextmanager
def worker_and_beat(*, settings_module: str, extra_env: dict | None = None, concurrency=2):
    """Yield once a worker and beat run; stop both (only these two) after."""
    env = {**environment(), "DJANGO_SETTINGS_MODULE": settings_module,
           "DATABASE_URL": database_url(), **(extra_env or {})}
    folder = Path(tempfile.mkdtemp(prefix="acorn-beat-"))
    name = f"stores-{uuid.uuid4().hex[:6]}"
    worker = _start(["worker", "--pool=prefork", f"--concurrency={concurrency}",
                     "-Q", "stores,default", "-n", f"{name}@%h", "--without-gossip",
                     "--without-mingle", "--without-heartbeat", "--loglevel=INFO"], env)
    beat = _start(["beat", f"--schedule={folder / 'schedule'}", "--loglevel=INFO"], env)
    failed = True
    try:
        time.sleep(1.0)
        if worker.poll() is not None or beat.poll() is not None:
            raise RuntimeError("worker or beat exited")
        yield {"worker": worker, "beat": beat}
        failed = False
    finally:
        output = _stop(beat) + _stop(worker)
        if failed:  # diagnostics for a failing test or benchmark
            sys.stderr.write(output[-6000:])
