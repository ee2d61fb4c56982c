"""The periodic schedule names only tasks that exist, and fan-out works."""

import pytest

from acorn.celery_app import app
from acorn.schedule import periodic_tasks


def test_every_periodic_task_is_registered():
    app.loader.import_default_modules()
    names = [task_name for _name, _schedule, task_name, _options in periodic_tasks()]
    assert names, "the schedule is empty"
    assert sorted(set(names) - set(app.tasks)) == []
    fanned_out = [
        options["args"][0]
        for _name, _schedule, task_name, options in periodic_tasks()
        if task_name == "acorn.tasks.for_each_tenant"
    ]
    assert sorted(set(fanned_out) - set(app.tasks)) == []


@pytest.mark.django_db
def test_for_each_tenant_runs_the_task_once_per_active_tenant(tenant_a, tenant_b, monkeypatch):
    from acorn.tasks import for_each_tenant

    sent = []
    monkeypatch.setattr(
        app, "send_task", lambda name, kwargs, **options: sent.append((name, kwargs))
    )
    tenant_b.is_active = False
    tenant_b.save()
    for_each_tenant("inventory.stock_hold_expire")
    assert sent == [("inventory.stock_hold_expire", {"tenant_id": tenant_a.pk})]


@pytest.mark.django_db
def test_for_each_tenant_sends_each_message_to_the_queue_its_task_declares(tenant_a):
    """A message sent by name would land on the default queue; the fan-out
    passes the queue the task declares (submissions_poll: amazon)."""
    import redis
    from django.conf import settings

    from acorn.tasks import for_each_tenant

    app.loader.import_default_modules()
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("amazon")
    try:
        for_each_tenant("channels.submissions_poll")
        assert broker.llen("amazon") == 1
    finally:
        broker.delete("amazon")
