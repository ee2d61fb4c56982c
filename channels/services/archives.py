"""Data retention: old operational rows to gzip JSON Lines, then deleted.

Datasets: the API call log, sync runs and PO events of a tenant older than
``Tenant.data_retention_days`` (by ``created_at``, when the row was
recorded). Audit entries are not archived here: they are the legal record
of who changed what and stay in the database. "Acknowledgement sent" PO
events stay too: the vendor KPIs compute acknowledgement times from them
for every period the KPI page shows (one per acknowledgement version, so
they grow with the purchase orders, which are kept, not with activity).

A failed run also opens an ARCHIVE_FAILED exception on the work queue;
the run's completion closes it.

One ``ArchiveRun`` per (tenant, dataset, cutoff). The steps, each safe to
repeat after a crash:
1. export rows with ``created_at < cutoff`` in id order (keyset batches) to
   a temporary gzip file, then store it through the "archives" storage;
   the row count, the highest id, the size and the SHA-256 of the stored
   bytes are recorded: the run moves to DELETING;
2. re-read the stored file and check its checksum and line count;
3. delete exactly the exported range (``created_at < cutoff`` and
   ``id <= last_row_id``) in batches of DELETE_BATCH_ROWS, each its own
   short transaction, counting as it goes; then COMPLETED.
A failure marks the run FAILED with the error; the next run (the daily
task, or Retry on the archive page) resumes it: before the file is stored
it exports again from scratch, after, it re-checks and deletes the rest.
A newer run of a dataset waits until the older one completes, so no row
lands in two archives.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import logging
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record
from channels.models import (
    ApiCallLog,
    ArchiveDataset,
    ArchiveRun,
    ArchiveStatus,
    ExceptionKind,
    PurchaseOrderEvent,
    PurchaseOrderEventKind,
    SyncRun,
)
from channels.services.exceptions import channel_exception_open, channel_exceptions_resolve

logger = logging.getLogger(__name__)

DATASET_MODELS = {
    ArchiveDataset.API_CALLS: ApiCallLog,
    ArchiveDataset.SYNC_RUNS: SyncRun,
    ArchiveDataset.PURCHASE_ORDER_EVENTS: PurchaseOrderEvent,
}
# Rows of a dataset that are never archived (see the module docstring).
DATASET_KEEP = {
    ArchiveDataset.PURCHASE_ORDER_EVENTS: Q(kind=PurchaseOrderEventKind.ACK_SENT),
}
# Rows read per export query: ~5,000 rows x <1 KB = a few MB in memory,
# one indexed range scan each.
EXPORT_BATCH_ROWS = 5_000
# Rows deleted per transaction: tens of milliseconds of row locks and a
# few MB of WAL each, so syncs writing the same tables never wait long.
DELETE_BATCH_ROWS = 5_000
# One task invocation stops after this much deleting (well inside its
# 55-minute soft time limit) and leaves the run DELETING; the task
# enqueues itself again to go on.
DELETE_TIME_BUDGET_SECONDS = 30 * 60
ARCHIVE_STORAGE = "archives"
RUN_NOT_FOUND = "No such archive."
RUN_NOT_RETRYABLE = "Only failed archives can be retried."


def archive_storage():
    return storages[ARCHIVE_STORAGE]


def archive_cutoff(*, tenant, now: datetime.datetime | None = None) -> datetime.datetime:
    """Midnight UTC ``data_retention_days`` ago: one cutoff per day, so the
    day's re-runs share one record."""
    now = now or timezone.now()
    today = now.astimezone(datetime.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - datetime.timedelta(days=tenant.data_retention_days)


def _rows_queryset(run: ArchiveRun):
    dataset = ArchiveDataset(run.dataset)
    queryset = DATASET_MODELS[dataset].objects.filter(
        tenant_id=run.tenant_id, created_at__lt=run.cutoff
    )
    if dataset in DATASET_KEEP:
        queryset = queryset.exclude(DATASET_KEEP[dataset])
    return queryset


def _columns(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _file_name(run: ArchiveRun, tenant) -> str:
    return (
        f"{tenant.slug}/{run.dataset}/"
        f"{run.dataset}-before-{run.cutoff:%Y-%m-%d}-run{run.pk}.jsonl.gz"
    )


def _sha256_and_lines(handle) -> tuple[str, int, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    lines = 0
    with gzip.GzipFile(fileobj=handle, mode="rb") as unzipped:
        for _line in unzipped:
            lines += 1
    return digest.hexdigest(), size, lines


def _export(run: ArchiveRun, tenant) -> None:
    model = DATASET_MODELS[ArchiveDataset(run.dataset)]
    columns = _columns(model)
    queryset = _rows_queryset(run)
    tmp_dir = Path(settings.VAR_DIR) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    row_count = 0
    last_id = 0
    with tempfile.TemporaryFile(dir=tmp_dir) as raw:
        # mtime=0: the same rows give the same bytes, so a re-export after a
        # crash stores an identical file.
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped:
            while True:
                batch = list(
                    queryset.filter(id__gt=last_id).order_by("id").values(*columns)
                    [:EXPORT_BATCH_ROWS]
                )
                if not batch:
                    break
                for row in batch:
                    zipped.write(
                        json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
                        + b"\n"
                    )
                row_count += len(batch)
                last_id = batch[-1]["id"]
        if row_count == 0:
            run.row_count = 0
            run.last_row_id = None
            return
        raw.seek(0)
        storage = archive_storage()
        name = _file_name(run, tenant)
        if storage.exists(name):  # left by a crashed attempt
            storage.delete(name)
        stored_name = storage.save(name, File(raw, name=Path(name).name))
        raw.seek(0)
        sha256, size, _lines = _sha256_and_lines(raw)
    run.file_name = stored_name
    run.file_size = size
    run.sha256 = sha256
    run.row_count = row_count
    run.last_row_id = last_id


def _verify(run: ArchiveRun) -> None:
    with archive_storage().open(run.file_name, "rb") as handle:
        sha256, _size, lines = _sha256_and_lines(handle)
    if sha256 != run.sha256 or lines != run.row_count:
        raise ApplicationError(
            f"Archive file {run.file_name} does not match its record "
            f"(sha256 {sha256[:12]} vs {run.sha256[:12]}, {lines} vs {run.row_count} rows); "
            "nothing was deleted."
        )


def _delete(run: ArchiveRun, deadline: float) -> bool:
    """Delete the exported range in batches; False when out of time."""
    model = DATASET_MODELS[ArchiveDataset(run.dataset)]
    range_queryset = _rows_queryset(run).filter(id__lte=run.last_row_id)
    while True:
        if time.monotonic() > deadline:
            return False
        with transaction.atomic():
            ids = list(range_queryset.order_by("id").values_list("id", flat=True)
                       [:DELETE_BATCH_ROWS])
            if not ids:
                return True
            deleted, _per_model = model.objects.filter(
                tenant_id=run.tenant_id, id__in=ids
            ).delete()
            ArchiveRun.objects.filter(pk=run.pk).update(
                deleted_count=run.deleted_count + deleted, updated_at=timezone.now()
            )
            run.deleted_count += deleted


def _save(run: ArchiveRun, *fields: str) -> None:
    run.save(update_fields=[*fields, "updated_at"])


def archive_run_execute(*, tenant, run: ArchiveRun, time_budget_seconds: float | None = None
                        ) -> ArchiveRun:
    """Take ``run`` as far as it goes: export, verify, delete (see module)."""
    deadline = time.monotonic() + (
        DELETE_TIME_BUDGET_SECONDS if time_budget_seconds is None else time_budget_seconds
    )
    if run.status == ArchiveStatus.COMPLETED:
        return run
    run.attempts += 1
    run.error_message = ""
    _save(run, "attempts", "error_message")
    try:
        if not run.sha256:
            run.status = ArchiveStatus.EXPORTING
            _save(run, "status")
            _export(run, tenant)
            run.status = ArchiveStatus.DELETING
            _save(run, "file_name", "file_size", "sha256", "row_count", "last_row_id", "status")
        if run.row_count:
            _verify(run)
            if run.status != ArchiveStatus.DELETING:
                run.status = ArchiveStatus.DELETING
                _save(run, "status")
            if not _delete(run, deadline):
                return run  # out of time: still DELETING, the task goes on later
        run.status = ArchiveStatus.COMPLETED
        run.finished_at = timezone.now()
        _save(run, "status", "finished_at")
        channel_exceptions_resolve(
            tenant=tenant, kind=ExceptionKind.ARCHIVE_FAILED, subject_keys=[_subject(run)],
            resolution="The archive completed on a later attempt.",
        )
    except Exception as error:
        logger.exception("archive run %s of tenant %s failed", run.pk, tenant.slug)
        run.status = ArchiveStatus.FAILED
        run.error_message = f"{type(error).__name__}: {error}"[:2000]
        _save(run, "status", "error_message")
        channel_exception_open(
            tenant=tenant, account=None, kind=ExceptionKind.ARCHIVE_FAILED,
            subject_key=_subject(run),
            message=(f"Archiving {run.get_dataset_display()} before {run.cutoff:%Y-%m-%d} "
                     f"failed: {run.error_message}")[:500],
            detail={"archive_run_id": run.pk, "dataset": run.dataset},
        )
    return run


def _subject(run: ArchiveRun) -> str:
    return f"archive_run:{run.pk}"


def _run_for_today(*, tenant, dataset: str, now) -> ArchiveRun:
    cutoff = archive_cutoff(tenant=tenant, now=now)
    existing = ArchiveRun.objects.filter(tenant=tenant, dataset=dataset, cutoff=cutoff).first()
    if existing is not None:
        return existing
    run = ArchiveRun(tenant=tenant, dataset=dataset, cutoff=cutoff, started_at=now)
    run.full_clean(exclude=["tenant"], validate_constraints=False)
    try:
        with transaction.atomic():
            run.save(force_insert=True)
    except IntegrityError:  # a concurrent task created it
        return ArchiveRun.objects.get(tenant=tenant, dataset=dataset, cutoff=cutoff)
    return run


def data_archive(*, tenant, now=None, time_budget_seconds: float | None = None) -> dict:
    """The daily task: per dataset, finish older runs, then today's.

    Returns {dataset: status} and "more": True when a run is still
    DELETING because the time budget ran out.
    """
    now = now or timezone.now()
    deadline = time.monotonic() + (
        DELETE_TIME_BUDGET_SECONDS if time_budget_seconds is None else time_budget_seconds
    )
    outcome: dict = {"more": False}
    for dataset in ArchiveDataset.values:
        unfinished = list(
            ArchiveRun.objects.filter(tenant=tenant, dataset=dataset)
            .exclude(status=ArchiveStatus.COMPLETED).order_by("cutoff", "id")
        )
        blocked = False
        for run in unfinished:
            run = archive_run_execute(
                tenant=tenant, run=run,
                time_budget_seconds=max(0.0, deadline - time.monotonic()),
            )
            if run.status != ArchiveStatus.COMPLETED:
                blocked = True
                outcome["more"] |= run.status == ArchiveStatus.DELETING
                break
        if blocked:
            outcome[dataset] = "waiting"
            continue
        run = _run_for_today(tenant=tenant, dataset=dataset, now=now)
        run = archive_run_execute(
            tenant=tenant, run=run, time_budget_seconds=max(0.0, deadline - time.monotonic())
        )
        outcome[dataset] = run.status
        outcome["more"] |= run.status == ArchiveStatus.DELETING
        # Earlier days that found nothing to archive carry no information;
        # keeping them would grow this table by a row per dataset a day.
        ArchiveRun.objects.filter(
            tenant=tenant, dataset=dataset, status=ArchiveStatus.COMPLETED, row_count=0,
            cutoff__lt=run.cutoff,
        ).delete()
    return outcome


@transaction.atomic
def archive_run_retry_request(*, tenant, run_id: int, actor=None) -> ArchiveRun:
    """An admin asks for a failed run to be retried (audited)."""
    run = ArchiveRun.objects.select_for_update().filter(tenant=tenant, pk=run_id).first()
    if run is None:
        raise NotFoundError(RUN_NOT_FOUND)
    if run.status != ArchiveStatus.FAILED:
        raise ApplicationError(RUN_NOT_RETRYABLE)
    audit_record(actor=actor, action=AuditAction.ACTION, instance=run,
                 summary=f"Archive retry requested ({run.dataset})")
    # Imported here: channels.tasks.monitoring imports this module (breaks the cycle).
    from channels.tasks.monitoring import data_archive_task

    transaction.on_commit(lambda: data_archive_task.delay(tenant_id=tenant.pk))
    return run
