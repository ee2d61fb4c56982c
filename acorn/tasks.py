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
