"""PO sync tasks: a per-minute dispatcher and thin per-account tasks.

The dispatcher (beat, every minute) enqueues a sync for each active
account whose poll interval is due; per-account tasks enter the tenant,
load the account and call the service of the same name.
"""

from celery import shared_task

from acorn.models import Tenant
from acorn.queues import Queue
from acorn.tenancy import tenant_scope, tenant_task
from channels.models import AmazonVendorAccount, SyncKind
from channels.services import purchase_orders as services


@shared_task(name="channels.purchase_orders_sync_dispatch", ignore_result=True,
             queue=Queue.DEFAULT,
             # One indexed query per tenant; a minute covers thousands.
             soft_time_limit=50, time_limit=60)
def purchase_orders_sync_dispatch_task() -> int:
    enqueued = 0
    for tenant in Tenant.objects.filter(is_active=True):
        with tenant_scope(tenant):
            for kind, task in (
                (SyncKind.PURCHASE_ORDERS, purchase_orders_sync_task),
                (SyncKind.PURCHASE_ORDER_STATUS, purchase_order_statuses_sync_task),
            ):
                for account in services.accounts_due_for_sync(tenant=tenant, kind=kind):
                    task.delay(tenant_id=tenant.pk, account_id=account.pk)
                    enqueued += 1
    return enqueued


@shared_task(name="channels.purchase_orders_sync", ignore_result=True, queue=Queue.AMAZON,
             # 20,000 POs = 400 pages at 10 rps is ~40 s of waiting on the
             # bucket; ten minutes leaves room for backoffs on a bad day.
             soft_time_limit=600, time_limit=660)
@tenant_task
def purchase_orders_sync_task(*, tenant_id: int, account_id: int) -> None:
    tenant = Tenant.objects.get(pk=tenant_id)
    account = AmazonVendorAccount.objects.filter(tenant=tenant, pk=account_id).first()
    if account is not None:
        services.purchase_orders_sync(tenant=tenant, account=account)


@shared_task(name="channels.purchase_order_statuses_sync", ignore_result=True,
             queue=Queue.AMAZON, soft_time_limit=600, time_limit=660)
@tenant_task
def purchase_order_statuses_sync_task(*, tenant_id: int, account_id: int) -> None:
    tenant = Tenant.objects.get(pk=tenant_id)
    account = AmazonVendorAccount.objects.filter(tenant=tenant, pk=account_id).first()
    if account is not None:
        services.purchase_order_statuses_sync(tenant=tenant, account=account)


@shared_task(name="channels.purchase_orders_plan", ignore_result=True, queue=Queue.DEFAULT,
             # One page of POs (100) planned against ATP: seconds.
             soft_time_limit=120, time_limit=180)
@tenant_task
def purchase_orders_plan_task(*, tenant_id: int, purchase_order_ids: list[int]) -> None:
    services.purchase_orders_plan(
        tenant=Tenant.objects.get(pk=tenant_id), purchase_order_ids=purchase_order_ids
    )
