"""Periodic tasks, declared in one place. Apps add theirs here by name.

Tasks are referenced by name so this module imports no app (floor rule).
"""

from celery.schedules import crontab


def periodic_tasks():
    """Yield (name, schedule, task name, signature options)."""
    # Every 5 minutes: drop expired lockout records and stale sessions.
    yield (
        "acorn-housekeeping",
        crontab(minute="*/5"),
        "acorn.tasks.housekeeping",
        {},
    )
