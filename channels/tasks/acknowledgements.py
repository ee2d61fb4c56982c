"""Thin tasks for acknowledgements: enter the tenant, call the service."""

from __future__ import annotations

from celery import shared_task

from acorn.models import Tenant
from acorn.queues import Queue
from acorn.tenancy import tenant_task
from channels.services import acknowledgements as services


@shared_task(
    name="channels.acknowledgement_deadlines_check",
    queue=Queue.DEFAULT,
    ignore_result=True,
    # One query over the tenant's open POs plus an insert per new alert.
    soft_time_limit=60,
    time_limit=90,
)
@tenant_task
def acknowledgement_deadlines_check_task(*, tenant_id: int) -> None:
    services.acknowledgement_deadlines_check(tenant=Tenant.objects.get(pk=tenant_id))

