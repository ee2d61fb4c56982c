"""Thin tasks for submissions: enter the tenant, call the service."""

from __future__ import annotations

from celery import shared_task

from acorn.models import Tenant
from acorn.queues import Queue
from acorn.tenancy import tenant_task
from channels.services import submissions as services
from vendor_api.errors import SpApiError


@shared_task(
    name="channels.submission_send",
    queue=Queue.AMAZON,
    ignore_result=True,
    # Retry only transient SP-API errors (throttling, 5xx, network before
    # the body left); capped backoff keeps the countdown far below the
    # broker's 1 h visibility timeout.
    autoretry_for=(SpApiError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=8,
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
def submission_reconcile_task(*, tenant_id: int, submission_id: int) -> None:
    services.submission_reconcile(
        tenant=Tenant.objects.get(pk=tenant_id), submission_id=submission_id
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

