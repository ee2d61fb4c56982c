"""Platform tasks: housekeeping and import jobs. Domain tasks live in their apps."""

from celery import current_app, shared_task
from django.core.management import call_command

from acorn.dataio.jobs import JOB_SOFT_TIME_LIMIT_S, import_job_run
from acorn.models import Tenant
from acorn.monitoring.heartbeats import BEAT_LAST_RUN_KEY, heartbeat_write
from acorn.queues import Queue
from acorn.tenancy import tenant_task


@shared_task(
    name="acorn.tasks.housekeeping",
    ignore_result=True,
    queue=Queue.DEFAULT,
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
    queue=Queue.DEFAULT,
    # Only enqueues one message per tenant.
    soft_time_limit=60,
    time_limit=90,
)
def for_each_tenant(task_name: str, **kwargs):
    """Fan a per-tenant task out to every active tenant, by task name.

    Beat schedules this with the name of a task taking ``tenant_id``; the
    kernel imports no app to do it. A message sent by name is routed to the
    default queue unless told otherwise, so the queue the task declares (in
    the worker's registry) is passed along.
    """
    options = _declared_routing(task_name)
    for tenant_id in Tenant.objects.filter(is_active=True).values_list("id", flat=True):
        current_app.send_task(task_name, kwargs={"tenant_id": tenant_id, **kwargs}, **options)


def _declared_routing(task_name: str) -> dict:
    task = current_app.tasks.get(task_name)
    queue = getattr(task, "queue", None)
    return {"queue": str(queue)} if queue else {}


@shared_task(
    name="acorn.monitoring_heartbeat",
    ignore_result=True,
    queue=Queue.DEFAULT,
    # One cache write; anything slower is itself a finding.
    soft_time_limit=20,
    time_limit=30,
)
def monitoring_heartbeat():
    """Beat schedules this every minute; readiness reads when it last ran."""

    heartbeat_write(BEAT_LAST_RUN_KEY)


@shared_task(
    name="acorn.import_job_run",
    queue=Queue.DEFAULT,
    ignore_result=True,
    # A 20k-row file (the row limit) reads and checks in well under a
    # minute; past the soft limit the job is marked failed with a reason.
    soft_time_limit=JOB_SOFT_TIME_LIMIT_S,
    time_limit=JOB_SOFT_TIME_LIMIT_S + 60,
)
@tenant_task
def import_job_run_task(*, tenant_id: int, job_id: int) -> None:
    import_job_run(tenant=Tenant.objects.get(pk=tenant_id), job_id=job_id)


# The notification centre's tasks (acorn/notifications/tasks.py), registered
# with the kernel's, since Celery discovers ``<app>.tasks`` only.
from acorn.notifications.tasks import notifications_digest_task  # noqa: E402,F401
