"""Outages of what ACORN depends on: Redis (cache, rate limiter), the Celery
broker and PostgreSQL.

One place knows which exceptions mean "a dependency is unreachable right
now", so the API answers 503 ``dependency_unavailable``, the dashboard a
readable page, and services a visible failed record, instead of each
guessing at library exception classes.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.db import connections, transaction
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

DEPENDENCY_UNAVAILABLE = "dependency_unavailable"
# Seconds a client should wait before retrying (the Retry-After header).
RETRY_AFTER_SECONDS = 30

REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError)
BROKER_ERRORS = (BrokerOperationalError,)
DATABASE_ERRORS = (DatabaseOperationalError, DatabaseInterfaceError)
DEPENDENCY_ERRORS = REDIS_ERRORS + BROKER_ERRORS + DATABASE_ERRORS

DEPENDENCY_LABELS = {
    "redis": _("Redis (cache and rate limiter)"),
    "broker": _("the task queue (Celery broker)"),
    "database": _("the database"),
}


def dependency_of(error: BaseException) -> str | None:
    """``"redis"``, ``"broker"`` or ``"database"`` when ``error`` (or what
    it was raised from) is an outage of that dependency, else None."""
    seen = 0
    while error is not None and seen < 5:
        # Order matters: kombu wraps redis errors of the broker connection.
        if isinstance(error, BROKER_ERRORS):
            return "broker"
        if isinstance(error, REDIS_ERRORS):
            return "redis"
        if isinstance(error, DATABASE_ERRORS):
            return "database"
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def dependency_message(error: BaseException) -> str:
    """A reader's sentence naming the dependency, without internals."""
    name = dependency_of(error)
    label = DEPENDENCY_LABELS.get(name, _("a service ACORN depends on"))
    return capfirst(str(_("%(dependency)s is unreachable right now; ACORN retries on its "
                          "own. Try again in a minute.") % {"dependency": label}))


def dependency_reason(error: BaseException) -> str:
    """The reason stored on failed records: dependency plus the library's
    own one-line message (host and port, never credentials)."""
    name = dependency_of(error) or "unknown"
    detail = " ".join(str(error).split())[:300]
    return f"{name} unavailable: {type(error).__name__}: {detail}"


def database_connections_reset() -> None:
    """Drop connections a restart or a terminated backend left broken, so
    the next statement reconnects (Django reconnects only between requests
    and tasks on its own)."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            continue
        try:
            connection.close_if_unusable_or_obsolete()
            if connection.connection is not None and not connection.is_usable():
                connection.close()
        except DATABASE_ERRORS:
            connection.close()


class DependencyOutageMiddleware:
    """Answers an outage with 503 instead of Django's 500 page: the API's
    JSON error shape under ``/api/``, a readable page elsewhere.

    Catches what views raise, including ``on_commit`` hooks that run when
    the request's transaction commits (ATOMIC_REQUESTS)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if dependency_of(exception) is None:
            return None
        logger.warning("Dependency outage on %s %s: %s", request.method, request.path,
                       dependency_reason(exception))
        database_connections_reset()
        return outage_response(request, exception)


def outage_response(request, exception):

    message = dependency_message(exception)
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"error": {"code": DEPENDENCY_UNAVAILABLE, "message": message,
                       "details": {"dependency": dependency_of(exception),
                                   "retry_after_seconds": RETRY_AFTER_SECONDS}}},
            status=503,
        )
    else:
        try:
            body = loader.render_to_string("503.html", {"message": message})
        except Exception:  # noqa: BLE001 - the page must answer whatever broke
            body = message
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def enqueue_after_commit(send, *, on_unavailable) -> None:
    """Run ``send`` (a Celery ``apply_async``/``delay`` call) after the
    current transaction commits; when the broker is unreachable, call
    ``on_unavailable(error)`` instead of raising out of the commit (which
    would answer 500 for work that is already saved).

    The caller's record must be retryable without the message (a periodic
    task picks it up), so a lost message delays the work and loses nothing.
    """

    def run() -> None:
        try:
            send()
        except BROKER_ERRORS + REDIS_ERRORS as error:
            logger.warning("Task queue unreachable, left for the periodic pick-up: %s",
                           dependency_reason(error))
            try:
                on_unavailable(error)
            except DEPENDENCY_ERRORS as second:
                database_connections_reset()
                logger.warning("The outage could not be recorded either: %s",
                               dependency_reason(second))

    transaction.on_commit(run)
