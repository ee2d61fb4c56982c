"""Liveness and readiness for load balancers and orchestrators.

``/health/live``: the process answers; nothing else is touched, so a slow
database never gets a healthy web process restarted.
``/health/ready``: every dependency a request or a task needs, each with a
short timeout; 200 when all pass, 503 with the failing checks as JSON.

Neither says anything about tenants, and neither needs a login. They are
answered by ``HealthCheckMiddleware`` before host validation, the HTTPS
redirect, sessions and the per-request transaction (see its docstring).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
from celery import current_app
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from acorn.monitoring.heartbeats import (
    BEAT_LAST_RUN_KEY,
    BEAT_STALE_AFTER_SECONDS,
    WORKER_HEARTBEAT_KEY,
    heartbeat_read,
    worker_heartbeat_stale_after,
)

# A load balancer probes every few seconds and gives up after a few more:
# each dependency gets two seconds, so a dead one fails the probe instead
# of hanging it.
CHECK_TIMEOUT_SECONDS = 2


class CheckFailed(Exception):
    pass


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_redis() -> str:
    if not settings.REDIS_URL:
        return "not configured (embedded demo: file cache)"

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def check_broker() -> str:

    with current_app.connection_for_write(connect_timeout=CHECK_TIMEOUT_SECONDS) as conn:
        # max_retries=0: one attempt, the error is the answer.
        conn.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT_SECONDS)
    return "ok"


def _heartbeat_age(key: str, stale_after: float, what: str) -> str:
    beat = heartbeat_read(key)
    if beat is None:
        raise CheckFailed(f"no {what} recorded yet")
    age = time.time() - float(beat["at"])
    detail = f"last {what} {age:.0f} s ago on {beat.get('host', '?')} (limit {stale_after:.0f} s)"
    if age > stale_after:
        raise CheckFailed(detail)
    return detail


def check_worker() -> str:
    return _heartbeat_age(
        WORKER_HEARTBEAT_KEY, worker_heartbeat_stale_after(), "worker heartbeat"
    )


def check_beat() -> str:
    try:
        return _heartbeat_age(
            BEAT_LAST_RUN_KEY, BEAT_STALE_AFTER_SECONDS, "run of the scheduled heartbeat task"
        )
    except CheckFailed as failed:
        raise CheckFailed(
            f"{failed}: beat is down, or no worker consumes the default queue"
        ) from None


READINESS_CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "redis": check_redis,
    "broker": check_broker,
    "worker": check_worker,
    "beat": check_beat,
}


def readiness(only: list[str] | None = None) -> tuple[bool, dict]:
    """Run every check (or those named in ``only``); never raises."""
    results = {}
    for name, check in READINESS_CHECKS.items():
        if only and name not in only:
            continue
        started = time.monotonic()
        try:
            detail = check()
            ok = True
        except Exception as error:  # the failure is the result
            ok = False
            detail = str(error)[:300] or type(error).__name__
            if not isinstance(error, CheckFailed):
                detail = f"{type(error).__name__}: {detail}"
        results[name] = {
            "ok": ok,
            "detail": detail,
            "ms": round((time.monotonic() - started) * 1000, 1),
        }
    return all(result["ok"] for result in results.values()), results


def _no_store(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "no-store"
    return response


def live_view(request):
    return _no_store(JsonResponse({"status": "ok"}))


def ready_view(request):
    # ``?only=database,redis`` narrows the probe: a load balancer in front
    # of web processes may not want a stopped beat to take the dashboard
    # out of rotation, while the worker's orchestrator wants every check.
    only = [name for name in request.GET.get("only", "").split(",") if name]
    unknown = sorted(set(only) - set(READINESS_CHECKS))
    if unknown:
        return _no_store(JsonResponse(
            {"status": "error", "unknown_checks": unknown, "checks": sorted(READINESS_CHECKS)},
            status=400,
        ))
    ok, checks = readiness(only)
    body = {
        "status": "ok" if ok else "unavailable",
        "failed": [name for name, result in checks.items() if not result["ok"]],
        "checks": checks,
    }
    return _no_store(JsonResponse(body, status=200 if ok else 503))
