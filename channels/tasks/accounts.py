"""Account housekeeping: LWA client-secret expiry reminders."""

from celery import shared_task

from acorn.models import Tenant
from acorn.queues import Queue
from acorn.tenancy import tenant_task
from channels.services.accounts import account_secret_expiry_check


@shared_task(name="channels.account_secret_expiry_check", ignore_result=True,
             queue=Queue.DEFAULT,
             # A date comparison per account of one tenant: seconds.
             soft_time_limit=120, time_limit=180)
@tenant_task
def account_secret_expiry_check_task(*, tenant_id: int) -> int:
    return account_secret_expiry_check(tenant=Tenant.objects.get(pk=tenant_id))
