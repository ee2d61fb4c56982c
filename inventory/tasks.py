"""Thin Celery tasks: enter the tenant, call the service of the same name.

Schedules belong in acorn/schedule.py (the one place periodic tasks are
declared); suggested entries are in the app's report.
"""

from celery import shared_task

from acorn.models import Tenant
from acorn.queues import Queue
from acorn.tenancy import tenant_task
from inventory import services


@shared_task(name="inventory.stock_hold_expire", ignore_result=True, queue=Queue.DEFAULT,
             # Releasing a tenant's expired holds takes milliseconds each.
             soft_time_limit=120, time_limit=180)
@tenant_task
def stock_hold_expire_task(*, tenant_id: int) -> None:
    services.stock_hold_expire(tenant=Tenant.objects.get(pk=tenant_id))


@shared_task(name="inventory.purchase_plan_refresh", ignore_result=True, queue=Queue.DEFAULT,
             # A 20k-product tenant refreshes in well under a minute.
             soft_time_limit=300, time_limit=360)
@tenant_task
def purchase_plan_refresh_task(*, tenant_id: int) -> None:
    services.purchase_plan_refresh(tenant=Tenant.objects.get(pk=tenant_id))
