"""Vendor report tasks: request per account (daily), then collect."""

from celery import shared_task

from acorn.models import Tenant
from acorn.queues import Queue
from acorn.tenancy import tenant_task
from channels.models import AccountStatus, AmazonVendorAccount, SyncRun
from channels.services import reports as services

# Amazon builds vendor reports in minutes; poll every 2 minutes, give up
# after an hour (the run stays RUNNING and the next day's request retries).
COLLECT_COUNTDOWN_SECONDS = 120
COLLECT_MAX_POLLS = 30


@shared_task(name="channels.vendor_reports_dispatch", ignore_result=True, queue=Queue.DEFAULT,
             # One query for a tenant's active accounts, then enqueues.
             soft_time_limit=60, time_limit=90)
@tenant_task
def vendor_reports_dispatch_task(*, tenant_id: int) -> int:
    ids = list(AmazonVendorAccount.objects.filter(
        tenant_id=tenant_id, status=AccountStatus.ACTIVE
    ).values_list("pk", flat=True))
    enqueued = 0
    for account_id in ids:
        for report_type in services.REPORT_KINDS:
            vendor_report_request_task.delay(
                tenant_id=tenant_id, account_id=account_id, report_type=str(report_type)
            )
            enqueued += 1
    return enqueued


@shared_task(name="channels.vendor_report_request", ignore_result=True, queue=Queue.AMAZON,
             # createReport is one call (1/min quota: may wait up to a minute).
             soft_time_limit=120, time_limit=150)
@tenant_task
def vendor_report_request_task(*, tenant_id: int, account_id: int, report_type: str) -> None:
    tenant = Tenant.objects.get(pk=tenant_id)
    account = AmazonVendorAccount.objects.filter(tenant=tenant, pk=account_id).first()
    if account is None or account.status != AccountStatus.ACTIVE:
        return
    run = services.vendor_report_request(tenant=tenant, account=account, report_type=report_type)
    if run.counts.get("report_id"):
        vendor_report_collect_task.apply_async(
            kwargs={"tenant_id": tenant_id, "run_id": run.pk},
            countdown=COLLECT_COUNTDOWN_SECONDS,
        )


@shared_task(name="channels.vendor_report_collect", ignore_result=True, queue=Queue.AMAZON,
             # Downloading and importing one document: well under a minute.
             soft_time_limit=180, time_limit=240)
@tenant_task
def vendor_report_collect_task(*, tenant_id: int, run_id: int) -> None:
    tenant = Tenant.objects.get(pk=tenant_id)
    run = SyncRun.objects.select_related("account").filter(tenant=tenant, pk=run_id).first()
    if run is None:
        return
    run = services.vendor_report_collect(tenant=tenant, run=run)
    if run.status == "running" and run.counts.get("polls", 0) < COLLECT_MAX_POLLS:
        vendor_report_collect_task.apply_async(
            kwargs={"tenant_id": tenant_id, "run_id": run_id},
            countdown=COLLECT_COUNTDOWN_SECONDS,
        )
