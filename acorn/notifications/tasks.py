"""Thin Celery tasks of the notification centre."""

from celery import shared_task

from acorn.models import Tenant
from acorn.tenancy import tenant_task


@shared_task(name="acorn.notifications_digest", ignore_result=True, queue="default",
             soft_time_limit=300, time_limit=360)
@tenant_task
def notifications_digest_task(*, tenant_id: int) -> None:
    from acorn.notifications.services import notifications_digest_send

    notifications_digest_send(tenant=Tenant.objects.get(pk=tenant_id))
