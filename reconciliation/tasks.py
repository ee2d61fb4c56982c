"""Thin Celery tasks of the reconciliation app."""

from celery import shared_task

from acorn.models import Tenant
from acorn.tenancy import tenant_task


@shared_task(name="reconciliation.remittance_import_run", ignore_result=True, queue="default",
             # A 250,000-line export parses and stores in well under a minute.
             soft_time_limit=600, time_limit=660)
@tenant_task
def remittance_import_run_task(*, tenant_id: int, import_id: int) -> None:
    from reconciliation.services.imports import remittance_import_run

    remittance_import_run(tenant=Tenant.objects.get(pk=tenant_id), import_id=import_id)


@shared_task(name="reconciliation.deductions_classify", ignore_result=True, queue="default",
             soft_time_limit=300, time_limit=360)
@tenant_task
def deductions_classify_task(*, tenant_id: int) -> None:
    """Classify new remittance deductions, apply recoveries, match returns,
    alert on stuck submissions (every 10 minutes)."""
    from reconciliation.services.deductions import deductions_sweep

    deductions_sweep(tenant=Tenant.objects.get(pk=tenant_id))


@shared_task(name="reconciliation.dispute_windows_alert", ignore_result=True, queue="default",
             soft_time_limit=300, time_limit=360)
@tenant_task
def dispute_windows_alert_task(*, tenant_id: int) -> None:
    from reconciliation.services.deductions import dispute_windows_alert

    dispute_windows_alert(tenant=Tenant.objects.get(pk=tenant_id))
