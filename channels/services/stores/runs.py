"""Store sync runs: one row per push, reconciliation, poll or test."""

from __future__ import annotations

from django.utils import timezone

from channels.models import StoreSyncRun, SyncStatus


def store_run_start(*, tenant, connection, kind: str) -> StoreSyncRun:
    return StoreSyncRun.objects.create(
        tenant=tenant, connection=connection, kind=kind, status=SyncStatus.RUNNING,
        started_at=timezone.now(),
    )


def store_run_finish(*, run: StoreSyncRun, counts: dict) -> StoreSyncRun:
    run.status = SyncStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.counts = counts
    run.save(update_fields=["status", "finished_at", "counts", "updated_at"])
    return run


def store_run_fail(*, run: StoreSyncRun, error: Exception, counts: dict | None = None
                   ) -> StoreSyncRun:
    run.status = SyncStatus.FAILED
    run.finished_at = timezone.now()
    if counts is not None:
        run.counts = counts
    run.error_code = (getattr(error, "code", "") or type(error).__name__)[:100]
    run.error_message = str(getattr(error, "message", "") or error)[:2000]
    run.save(update_fields=["status", "finished_at", "counts", "error_code", "error_message",
                            "updated_at"])
    return run
