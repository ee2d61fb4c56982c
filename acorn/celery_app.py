"""The Celery application and the periodic schedule (queues: acorn.queues)."""

from celery import Celery

from acorn.env import settings_module_default

# Production unless told otherwise: a worker or beat started without
# configuration refuses to run without its secrets (wsgi.py does the same);
# the demo and the tests name their settings module.
settings_module_default("acorn.settings.production")

app = Celery("acorn")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every task names its queue (acorn.queues.Queue); the queues are declared
# on first use, so a worker started with ``-Q amazon`` needs no list here.
app.conf.task_create_missing_queues = True


@app.on_after_finalize.connect
def setup_periodic_tasks(sender, **kwargs):
    """The one place periodic tasks are declared (each with its cadence)."""
    from acorn.schedule import periodic_tasks

    for name, schedule, task_name, options in periodic_tasks():
        sender.add_periodic_task(schedule, sender.signature(task_name, **options), name=name)
