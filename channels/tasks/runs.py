"""The sweeper: sync runs a killed worker left RUNNING become FAILED, and
outage exceptions of submissions sent since are resolved."""

from celery import shared_task

from acorn.models import Tenant
from acorn.queues import Queue
from acorn.tenancy import tenant_task
from channels.services.outages import outage_exceptions_resolve
from channels.services.runs import sync_runs_sweep


@shared_task(name="channels.sync_runs_sweep", ignore_result=True, queue=Queue.DEFAULT,
             # One indexed query per kind and a few updates: seconds.
             soft_time_limit=60, time_limit=90)
@tenant_task
def sync_runs_sweep_task(*, tenant_id: int) -> int:
    tenant = Tenant.objects.get(pk=tenant_id)
    # Also closes the outage exceptions of submissions sent since.
    outage_exceptions_resolve(tenant=tenant)
    return sync_runs_sweep(tenant=tenant)
