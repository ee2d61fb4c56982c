"""The sweeper: sync runs a killed worker left RUNNING become FAILED, and
outage exceptions of submissions sent since are resolved."""

from celery import shared_task

from acorn.models import Tenant
from acorn.queues import Queue
from acorn.tenancy import tenant_task
from channels.services.outages import sync_housekeeping


@shared_task(name="channels.sync_runs_sweep", ignore_result=True, queue=Queue.DEFAULT,
             # One indexed query per kind and a few updates: seconds.
             soft_time_limit=60, time_limit=90)
@tenant_task
def sync_runs_sweep_task(*, tenant_id: int) -> int:
    return sync_housekeeping(tenant=Tenant.objects.get(pk=tenant_id))
