"""Real dependency outages for tests: a private Redis that a test stops and
starts, the app (cache, rate limiter, Celery broker) pointed at it, and
PostgreSQL backends terminated as a restart would.

Nothing here mocks a failure: the Redis server really goes away, and the
database really drops the connection.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import psycopg
from django.conf import settings
from django.db import connection
from django.test.utils import override_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """``redis-server`` on a free port, in a temporary directory, no
    persistence; ``stop()`` kills it, ``start()`` brings it back on the
    same port (what an outage and a recovery look like to clients)."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:  # scripts/system-packages.sh installs it
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="acorn-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.folder],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", self.port), timeout=0.2
            ) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _celery_point_at(url: str | None, *, eager: bool) -> None:
    from acorn.celery_app import app

    # The app reads Django settings under the CELERY_ namespace; those keys
    # win over the plain ones, so set them.
    app.conf.CELERY_BROKER_URL = url
    app.conf.CELERY_BROKER_WRITE_URL = url
    app.conf.CELERY_BROKER_READ_URL = url
    app.conf.CELERY_TASK_ALWAYS_EAGER = eager
    # Connections and producers were made for the old URL; start afresh
    # (kombu keeps one producer pool per connection, dropped with it).
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def app_on_redis(redis: RedisServer, *, broker: bool = False) -> Iterator[None]:
    """The Django cache, the SP-API rate limiter and (with ``broker``) the
    Celery broker, non-eager, all on ``redis``."""
    from acorn.celery_app import app

    old = {"broker_url": app.conf.broker_url, "eager": app.conf.task_always_eager}
    assert old["eager"], "the test settings run Celery eagerly"
    caches = {"default": {**settings.CACHES["default"], "LOCATION": redis.url,
                          "KEY_PREFIX": f"outage-{redis.port}"}}
    with override_settings(REDIS_URL=redis.url, CACHES=caches):
        if broker:
            _celery_point_at(redis.url, eager=False)
        try:
            yield
        finally:
            if broker:
                _celery_point_at(old["broker_url"], eager=old["eager"])
                app.conf.CELERY_BROKER_WRITE_URL = None
                app.conf.CELERY_BROKER_READ_URL = None


def broker_messages(redis: RedisServer, queue: str) -> list[dict]:
    """The Celery messages waiting on ``queue`` in ``redis`` (kombu's JSON
    envelopes, newest first)."""
    import json

    import redis as redis_lib

    client = redis_lib.Redis.from_url(redis.url)
    return [json.loads(raw) for raw in client.lrange(queue, 0, -1)]


def database_backends_terminate() -> int:
    """Terminate every other session of the application role on the test
    database, as a PostgreSQL restart does to open connections. Returns how
    many were terminated."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    params.pop("server_side_binding", None)
    with psycopg.connect(**params, autocommit=True) as admin, admin.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND usename = current_user "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]
