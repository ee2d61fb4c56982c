"""Sync runs: one row per sync attempt, with counts and the error."""

from __future__ import annotations

from django.utils import timezone

from channels.models import SyncRun, SyncStatus
from vendor_api.errors import SpApiError


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
    else:
        run.error_code = type(error).__name__[:100]
        run.error_message = str(error)[:2000]
    run.save(update_fields=[
        "status", "finished_at", "counts", "error_code", "error_message", "request_id",
        "updated_at",
    ])
    return run
