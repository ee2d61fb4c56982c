"""Failed Celery tasks become visible records, once per task and arguments.

``task_failure`` (sent in the worker process that ran the task) calls
``task_failure_record``:
- a task with a ``tenant_id`` argument of an active tenant is recorded
  inside that tenant by the recorder named in
  ``TENANT_TASK_FAILURE_RECORDER`` (channels opens a work-queue exception;
  the kernel imports no app, so it is found by dotted name);
- any other task (dispatchers, housekeeping), or one whose tenant cannot
  be entered, becomes a ``PlatformTaskFailure`` row for operators.

Deduplication: one open record per (tenant, task name, other arguments).
A periodic task failing every minute updates its record's count and last
error instead of adding one per run. When the same task with the same
arguments later succeeds, ``task_success`` closes the record; a cache
marker set on failure keeps that to one cache read per successful task.

Eager tasks (tests, ``CELERY_TASK_ALWAYS_EAGER``) raise into their caller,
which handles the error itself; they are not recorded.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.core.cache import cache
from django.db import close_old_connections
from django.utils.module_loading import import_string

from acorn.models import Tenant
from acorn.services import platform_task_failure_record, platform_task_failure_resolve
from acorn.tenancy import tenant_scope

logger = logging.getLogger(__name__)

TENANT_TASK_FAILURE_RECORDER = "channels.services.task_failures.task_failure_record"
TENANT_TASK_SUCCESS_RECORDER = "channels.services.task_failures.task_failure_resolve"
# A failing task's marker lives a week: long enough for a daily task to
# close its record on the next good run.
FAILING_MARKER_TTL_SECONDS = 7 * 24 * 3600


def task_subject(*, task_name: str, args, kwargs: dict) -> str:
    """The dedupe subject: task name plus the arguments except the tenant.

    Tasks take ids only (never secrets or instances), so the arguments are
    safe to hash; a task with no other arguments is just its name.
    """
    rest = {key: value for key, value in (kwargs or {}).items() if key != "tenant_id"}
    if not rest and not args:
        return f"task:{task_name}"
    digest = hashlib.sha256(
        json.dumps([list(args or []), rest], sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return f"task:{task_name}:{digest}"


def _tenant_of(kwargs: dict):

    tenant_id = (kwargs or {}).get("tenant_id")
    if not isinstance(tenant_id, int) or isinstance(tenant_id, bool):
        return None, None
    return tenant_id, Tenant.objects.filter(pk=tenant_id, is_active=True).first()


def _marker_key(tenant_id, subject: str) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:24]
    return f"acorn:task-failing:{tenant_id or 'platform'}:{digest}"


def task_failure_record(*, task_name: str, task_id: str, args, kwargs: dict, error) -> None:
    """Record one failure (see the module docstring); never raises."""
    try:
        close_old_connections()
        _record(task_name=task_name, task_id=task_id, args=args, kwargs=kwargs, error=error)
    except Exception:
        # The failure must not hide the original one: log and carry on.
        logger.exception("could not record the failure of task %s (%s)", task_name, task_id)


def _record(*, task_name, task_id, args, kwargs, error) -> None:

    subject = task_subject(task_name=task_name, args=args, kwargs=kwargs)
    error_type = type(error).__name__
    error_message = str(error)[:1000]
    tenant_id, tenant = _tenant_of(kwargs)
    recorded = False
    if tenant is not None:
        try:
            recorder = import_string(TENANT_TASK_FAILURE_RECORDER)
        except ImportError:
            recorder = None
        if recorder is not None:
            with tenant_scope(tenant):
                recorder(
                    tenant=tenant, task_name=task_name, task_id=task_id or "", subject=subject,
                    kwargs=kwargs or {}, error_type=error_type, error_message=error_message,
                )
            recorded = True
    if not recorded:
        platform_task_failure_record(
            task_name=task_name, subject_key=subject, task_id=task_id or "",
            error_type=error_type,
            error_message=error_message, tenant_ref=tenant_id,
        )
    cache.set(_marker_key(tenant_id, subject), subject, timeout=FAILING_MARKER_TTL_SECONDS)


def task_success_record(*, task_name: str, args, kwargs: dict) -> None:
    """Close the open failure record of this task + arguments, if any."""
    try:
        subject = task_subject(task_name=task_name, args=args, kwargs=kwargs)
        tenant_id = (kwargs or {}).get("tenant_id")
        marker = _marker_key(tenant_id, subject)
        if cache.get(marker) is None:
            return
        close_old_connections()

        _tenant_id, tenant = _tenant_of(kwargs)
        resolver = None
        if tenant is not None:
            try:
                resolver = import_string(TENANT_TASK_SUCCESS_RECORDER)
            except ImportError:
                resolver = None
        if resolver is not None:
            with tenant_scope(tenant):
                resolver(tenant=tenant, task_name=task_name, subject=subject)
        else:
            platform_task_failure_resolve(subject_key=subject)
        cache.delete(marker)
    except Exception:
        logger.exception("could not close the failure record of task %s", task_name)
