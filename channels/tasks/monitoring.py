"""Monitoring and retention tasks: API health alerts, data archival."""

from celery import shared_task

from acorn.models import Tenant
from acorn.queues import Queue
from acorn.tenancy import tenant_task
from channels.services import api_health as api_health_services
from channels.services import archives as archive_services

# A run that ran out of its time budget goes on in a fresh invocation; at
# most this many in a row (a day of 30-minute slices is far beyond any
# backlog the batches leave).
ARCHIVE_MAX_CHAIN = 48


@shared_task(name="channels.api_health_check", ignore_result=True, queue=Queue.DEFAULT,
             # One aggregate query and a few upserts per tenant.
             soft_time_limit=60, time_limit=90)
@tenant_task
def api_health_check_task(*, tenant_id: int) -> dict:
    return api_health_services.api_health_check(tenant=Tenant.objects.get(pk=tenant_id))


@shared_task(name="channels.data_archive", ignore_result=True, queue=Queue.DEFAULT,
             # The service stops deleting after 30 minutes (its budget) and
             # the task re-enqueues itself; exporting a large backlog may
             # take longer on the first day, hence 55/60 minutes.
             soft_time_limit=3300, time_limit=3600)
@tenant_task
def data_archive_task(*, tenant_id: int, chain: int = 0) -> dict:
    outcome = archive_services.data_archive(tenant=Tenant.objects.get(pk=tenant_id))
    if outcome.get("more") and chain < ARCHIVE_MAX_CHAIN:
        data_archive_task.apply_async(
            kwargs={"tenant_id": tenant_id, "chain": chain + 1}, countdown=60
        )
    return outcome
