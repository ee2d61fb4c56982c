"""Account housekeeping: LWA client-secret expiry reminders."""

from celery import shared_task

from acorn.models import Tenant
from acorn.queues import Queue
from acorn.tenancy import tenant_scope
from channels.services.accounts import account_secret_expiry_check


@shared_task(name="channels.account_secret_expiry_check", ignore_result=True,
             queue=Queue.DEFAULT,
             # A date comparison per account: seconds for every tenant.
             soft_time_limit=120, time_limit=180)
def account_secret_expiry_check_task() -> int:
    opened = 0
    for tenant in Tenant.objects.filter(is_active=True):
        with tenant_scope(tenant):
            opened += account_secret_expiry_check(tenant=tenant)
    return opened
