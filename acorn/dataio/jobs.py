"""Importers by kind, run in the request (small files) or as a job on the
worker (large files) with visible progress and a failed state.

Apps register their importers from ``AppConfig.ready`` so the kernel
imports no app (docs/architecture.md, floors).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from acorn.dataio.reading import dataset_load, echo, upload_read
from acorn.dataio.results import ImportResult
from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import ImportJob, ImportJobStatus

logger = logging.getLogger(__name__)

# Uploads up to this size are imported in the request: 256 KiB is about
# 2,000 catalog rows, checked in well under a second. Larger files go to
# the worker, so a web worker never spends more than that on an import.
INLINE_MAX_BYTES = 256 * 1024
# A job whose worker died twice (killed for memory, or a deploy) fails
# instead of being retried forever.
JOB_MAX_ATTEMPTS = 2
# The task's soft time limit; 20k rows take well under a minute.
JOB_SOFT_TIME_LIMIT_S = 600

UNKNOWN_KIND = "No importer is registered for {kind}."
JOB_NOT_FOUND = _("No such import.")
JOB_TOO_SLOW = _("The import took longer than {seconds} seconds; split the file.")
JOB_WORKER_LOST = _("The worker stopped twice while importing this file; split the file.")
JOB_UNEXPECTED = _("The import failed unexpectedly; nothing was changed. Support has the details.")


@dataclass(frozen=True)
class Importer:
    kind: str
    # ``run(*, tenant, dataset, dry_run, actor, filename) -> ImportResult``,
    # atomic: all rows or none, and its own audit entry when applied.
    run: Callable[..., ImportResult]
    # The URL name of the import page (the job page links back to it).
    page_url_name: str
    title: str
    # The lowest role that may run this import and read its job page.
    role: str = "operations"


_IMPORTERS: dict[str, Importer] = {}


def importer_register(importer: Importer) -> None:
    _IMPORTERS[importer.kind] = importer


def importer_get(kind: str) -> Importer:
    try:
        return _IMPORTERS[kind]
    except KeyError:
        raise ApplicationError(UNKNOWN_KIND.format(kind=kind)) from None


def import_file_run(*, tenant, kind: str, content: bytes, filename: str, dry_run: bool,
                    actor=None, progress: Callable[[int], None] | None = None) -> ImportResult:
    """Read the file within the bounds and hand it to the kind's importer."""
    importer = importer_get(kind)
    dataset = dataset_load(content=content, filename=filename, progress=progress)
    return importer.run(tenant=tenant, dataset=dataset, dry_run=dry_run, actor=actor,
                        filename=filename)


def import_upload(*, tenant, kind: str, upload, apply: bool,
                  actor=None) -> ImportResult | ImportJob:
    """An uploaded file, imported now when small, else queued as a job.

    Returns the result of an inline import, or the job to follow.
    """
    content = upload_read(upload)
    filename = upload.name or ""
    if len(content) > INLINE_MAX_BYTES:
        return import_job_create(tenant=tenant, kind=kind, filename=filename, content=content,
                                 apply=apply, actor=actor)
    return import_file_run(tenant=tenant, kind=kind, content=content, filename=filename,
                           dry_run=not apply, actor=actor)


def import_job_get(*, tenant, job_id: int) -> ImportJob | None:
    """A job of ``tenant`` without its (possibly large) upload."""
    return ImportJob.objects.filter(tenant=tenant, pk=job_id).defer("content").first()


@transaction.atomic
def import_job_create(*, tenant, kind: str, filename: str, content: bytes, apply: bool,
                      actor=None) -> ImportJob:
    """Queue a file for the worker; the task is sent after commit."""
    # Imported here to break a cycle: acorn.tasks imports this module.
    from acorn.tasks import import_job_run_task

    importer_get(kind)
    job = ImportJob(tenant=tenant, kind=kind, filename=filename[:300], content=content,
                    apply=apply, actor=actor if getattr(actor, "pk", None) else None)
    job.full_clean(exclude=["content"])
    job.save()
    transaction.on_commit(
        lambda: import_job_run_task.delay(tenant_id=tenant.pk, job_id=job.pk)
    )
    return job


def _job_update(job: ImportJob, **values) -> None:
    values["updated_at"] = timezone.now()
    ImportJob.objects.filter(tenant=job.tenant_id, pk=job.pk).update(**values)
    for name, value in values.items():
        setattr(job, name, value)


def import_job_run(*, tenant, job_id: int) -> ImportJob:
    """Run a queued job: progress while rows stream, then one atomic import.

    Not atomic itself: each status and progress write commits at once so
    the page shows it. Safe to re-run: a finished job is left alone, and a
    job started ``JOB_MAX_ATTEMPTS`` times fails instead of looping.
    """
    job = ImportJob.objects.filter(tenant=tenant, pk=job_id).first()
    if job is None:
        raise NotFoundError(str(JOB_NOT_FOUND))
    if job.is_done:
        return job
    if job.attempts >= JOB_MAX_ATTEMPTS:
        _job_fail(job, str(JOB_WORKER_LOST))
        return job
    _job_update(job, status=ImportJobStatus.RUNNING, attempts=job.attempts + 1,
                started_at=timezone.now(), rows_read=0)
    try:
        result = import_file_run(
            tenant=tenant, kind=job.kind, content=bytes(job.content), filename=job.filename,
            dry_run=not job.apply, actor=job.actor,
            progress=lambda rows: _job_update(job, rows_read=rows),
        )
    except ApplicationError as error:
        _job_fail(job, error.message)
    except SoftTimeLimitExceeded:
        _job_fail(job, str(JOB_TOO_SLOW).format(seconds=JOB_SOFT_TIME_LIMIT_S))
    except Exception:
        logger.exception("Import job %s (%s) failed", job.pk, job.kind)
        _job_fail(job, str(JOB_UNEXPECTED))
    else:
        _job_update(job, status=ImportJobStatus.SUCCEEDED, result=result.as_json(),
                    finished_at=timezone.now(), content=b"")
    return job


def _job_fail(job: ImportJob, reason: str) -> None:
    _job_update(job, status=ImportJobStatus.FAILED, error=echo(reason, 480),
                finished_at=timezone.now(), content=b"")
