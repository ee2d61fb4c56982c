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
