"""Every project task names its queue and both time limits (the house rule:
a task without them lands on the default queue or runs unbounded)."""

from acorn.celery_app import app
from acorn.queues import Queue

PROJECT_PREFIXES = ("acorn.", "channels.", "inventory.", "invoicing.", "reconciliation.")


def _project_tasks():
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if name.startswith(PROJECT_PREFIXES)}


def test_the_registry_holds_the_project_tasks():
    names = set(_project_tasks())
    assert {"acorn.tasks.for_each_tenant", "channels.submission_send",
            "inventory.stock_hold_expire"} <= names


def test_every_project_task_names_a_known_queue_and_its_time_limits():
    queues = {queue.value for queue in Queue}
    missing = {
        name: [
            label for label, ok in (
                ("queue", getattr(task, "queue", None) in queues),
                ("soft_time_limit", bool(task.soft_time_limit)),
                ("time_limit", bool(task.time_limit)),
                ("soft below hard", bool(task.soft_time_limit and task.time_limit
                                         and task.soft_time_limit < task.time_limit)),
            ) if not ok
        ]
        for name, task in _project_tasks().items()
    }
    assert {name: gaps for name, gaps in missing.items() if gaps} == {}
