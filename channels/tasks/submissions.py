"""Thin tasks for submissions: enter the tenant, call the service."""

from __future__ import annotations

from celery import shared_task

from acorn.celery_app import Queue
from acorn.models import Tenant
from acorn.tenancy import tenant_task
from channels.services import submissions as services


@shared_task(
    name="channels.submission_send",
    queue=Queue.AMAZON,
    ignore_result=True,
    # No Celery retries: the service ends every attempt in a named state
    # and schedules the next one itself (capped backoff, MAX_SEND_ATTEMPTS),
    # so a retry can never resend what Amazon may already hold.
    # One POST with the client's 60 s budget, plus the DB work around it.
    soft_time_limit=120,
    time_limit=150,
)
@tenant_task
def submission_send_task(*, tenant_id: int, submission_id: int) -> None:
    services.submission_send(tenant=Tenant.objects.get(pk=tenant_id), submission_id=submission_id)


@shared_task(
    name="channels.submission_reconcile",
    queue=Queue.AMAZON,
    ignore_result=True,
    # A status read and possibly one resend: two calls.
    soft_time_limit=180,
    time_limit=210,
)
@tenant_task
def submission_reconcile_task(*, tenant_id: int, submission_id: int,
                              requested_by_ops: bool = False) -> None:
    services.submission_reconcile(
        tenant=Tenant.objects.get(pk=tenant_id), submission_id=submission_id,
        requested_by_ops=requested_by_ops,
    )


@shared_task(
    name="channels.submissions_poll",
    queue=Queue.AMAZON,
    ignore_result=True,
    # POLL_BATCH getTransaction calls at 10 rps plus reconciliations.
    soft_time_limit=240,
    time_limit=300,
)
@tenant_task
def submissions_poll_task(*, tenant_id: int) -> None:
    services.submissions_poll(tenant=Tenant.objects.get(pk=tenant_id))

