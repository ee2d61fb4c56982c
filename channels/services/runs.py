"""Sync runs: one row per sync attempt, with counts and the error.

A run that ends in any error ends FAILED with the reason: SP-API errors
with Amazon's code and request id, dependency outages (Redis, the broker,
PostgreSQL) as ``dependency_unavailable``, anything else by its class. A
run that never ends (the worker was killed, the machine lost) is failed by
``sync_runs_sweep`` once it is older than its task's hard time limit.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.utils import timezone

from acorn.dependencies import (
    DATABASE_ERRORS,
    DEPENDENCY_UNAVAILABLE,
    database_connections_reset,
    dependency_of,
    dependency_reason,
)
from channels import message_codes as messages
from channels.models import ExceptionKind, SyncKind, SyncRun, SyncStatus
from channels.services.exceptions import channel_exception_open
from vendor_api.errors import SpApiError

logger = logging.getLogger(__name__)

# Beat, queue pick-up and clock skew between worker and database.
SWEEP_GRACE = datetime.timedelta(seconds=60)
SWEEP_BATCH = 500
# The web request that runs a connection test (gunicorn's timeout is well
# under this; the client's budget is 15 s).
CONNECTION_TEST_TIME_LIMIT_SECONDS = 120


def sync_run_start(*, tenant, account, kind: str, window_start=None, window_end=None) -> SyncRun:
    run = SyncRun(
        tenant=tenant, account=account, kind=kind, status=SyncStatus.RUNNING,
        started_at=timezone.now(), window_start=window_start, window_end=window_end,
    )
    run.full_clean(exclude=["tenant", "account"])
    run.save(force_insert=True)
    return run


def sync_run_finish(*, tenant, run: SyncRun, counts: dict, request_id: str = "") -> SyncRun:
    run.status = SyncStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.counts = counts
    run.request_id = (request_id or "")[:100]
    run.save(update_fields=["status", "finished_at", "counts", "request_id", "updated_at"])
    return run


def sync_run_fail(*, tenant, run: SyncRun, error: Exception, counts: dict | None = None) -> SyncRun:
    run.status = SyncStatus.FAILED
    run.finished_at = timezone.now()
    if counts is not None:
        run.counts = counts
    if isinstance(error, SpApiError):
        run.error_code = (error.error_code or "")[:100]
        run.error_message = error.message
        run.request_id = (error.request_id or "")[:100]
    elif dependency_of(error) is not None:
        run.error_code = DEPENDENCY_UNAVAILABLE
        run.error_message = dependency_reason(error)[:2000]
    else:
        run.error_code = type(error).__name__[:100]
        run.error_message = str(error)[:2000]
    run.save(update_fields=[
        "status", "finished_at", "counts", "error_code", "error_message", "request_id",
        "updated_at",
    ])
    return run


def sync_run_fail_after_error(
    *, tenant, run: SyncRun, error: Exception, counts: dict | None = None
) -> bool:
    """``sync_run_fail`` for the boundary of a task that hit an unexpected
    error: a broken database connection is replaced first; if the database
    is still down the run stays RUNNING for ``sync_runs_sweep``. True when
    the failure was recorded."""
    if dependency_of(error) == "database":
        database_connections_reset()
    try:
        sync_run_fail(tenant=tenant, run=run, error=error, counts=counts)
    except DATABASE_ERRORS as second:
        database_connections_reset()
        logger.warning("Sync run %s could not be marked failed (%s); the sweeper will.",
                       run.pk, dependency_reason(second))
        return False
    return True


def _report_time_limit_seconds() -> int:
    # Imported here: the task modules import services that import this one (breaks the cycle).
    from channels.tasks.reports import (
        COLLECT_COUNTDOWN_SECONDS,
        COLLECT_MAX_POLLS,
        vendor_report_collect_task,
        vendor_report_request_task,
    )

    # A report run lives across its request and every collect poll.
    per_poll = COLLECT_COUNTDOWN_SECONDS + vendor_report_collect_task.time_limit
    return vendor_report_request_task.time_limit + COLLECT_MAX_POLLS * per_poll


def sync_run_time_limits() -> dict[str, int]:
    """Seconds a run of each kind may stay RUNNING: its task's hard time
    limit (past it, Celery has killed the task)."""
    # Imported here: the task modules import services that import this one (breaks the cycle).
    from channels.tasks.purchase_orders import (
        purchase_order_statuses_sync_task,
        purchase_orders_sync_task,
    )

    report = _report_time_limit_seconds()
    default = int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 360) or 360)
    return {
        SyncKind.PURCHASE_ORDERS: purchase_orders_sync_task.time_limit or default,
        SyncKind.PURCHASE_ORDER_STATUS: purchase_order_statuses_sync_task.time_limit or default,
        SyncKind.FORECAST_REPORT: report,
        SyncKind.SALES_REPORT: report,
        SyncKind.CONNECTION_TEST: CONNECTION_TEST_TIME_LIMIT_SECONDS,
        SyncKind.TRANSACTIONS: default,
    }


def sync_runs_sweep(*, tenant, now: datetime.datetime | None = None) -> int:
    """Fail the runs still RUNNING past their time limit, with the reason,
    and put each on the work queue. Returns how many were failed."""

    now = now or timezone.now()
    swept = 0
    for kind, limit_seconds in sync_run_time_limits().items():
        cutoff = now - datetime.timedelta(seconds=limit_seconds) - SWEEP_GRACE
        stuck = list(
            SyncRun.objects.filter(tenant=tenant, kind=kind, status=SyncStatus.RUNNING,
                                   started_at__lt=cutoff)
            .select_related("account").order_by("started_at", "pk")[:SWEEP_BATCH]
        )
        for run in stuck:
            message = (
                f"Still running {int((now - run.started_at).total_seconds())} s after it "
                f"started; its time limit is {limit_seconds} s. The worker was killed or "
                "lost (a crash, a deploy, an outage); the next scheduled run starts afresh."
            )
            # Conditional: a run that finishes meanwhile keeps its outcome.
            failed = SyncRun.objects.filter(
                tenant=tenant, pk=run.pk, status=SyncStatus.RUNNING
            ).update(status=SyncStatus.FAILED, finished_at=now, error_code="time_limit_exceeded",
                     error_message=message, updated_at=now)
            if not failed:
                continue
            swept += 1
            channel_exception_open(
                tenant=tenant, account=run.account, kind=ExceptionKind.SYNC_FAILED,
                subject_key=f"account:{run.account_id}:{kind}",
                code=messages.SYNC_NEVER_FINISHED,
                params={"kind_label": SyncKind(kind).label, "account": run.account.name,
                        "seconds": int((now - run.started_at).total_seconds()),
                        "limit": limit_seconds},
                detail={"run": run.pk, "error_code": "time_limit_exceeded"},
            )
    return swept
