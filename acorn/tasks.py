"""Platform tasks: housekeeping only. Domain tasks live in their apps."""

from celery import shared_task
from django.core.management import call_command


@shared_task(
    name="acorn.tasks.housekeeping",
    ignore_result=True,
    # Deleting expired sessions is one statement; a minute is generous and
    # a hung database call is cut off.
    soft_time_limit=60,
    time_limit=90,
)
def housekeeping():
    call_command("clearsessions")


@shared_task(
    name="acorn.tasks.for_each_tenant",
    ignore_result=True,
    # Only enqueues one message per tenant.
    soft_time_limit=60,
    time_limit=90,
)
def for_each_tenant(task_name: str, **kwargs):
    """Fan a per-tenant task out to every active tenant, by task name.

    Beat schedules this with the name of a task taking ``tenant_id``; the
    kernel imports no app to do it.
    """
    from acorn.celery_app import app
    from acorn.models import Tenant

    for tenant_id in Tenant.objects.filter(is_active=True).values_list("id", flat=True):
        app.send_task(task_name, kwargs={"tenant_id": tenant_id, **kwargs})


# The notification centre's tasks (acorn/notifications/tasks.py), registered
# with the kernel's, since Celery discovers ``<app>.tasks`` only.
from acorn.notifications.tasks import notifications_digest_task  # noqa: E402,F401
