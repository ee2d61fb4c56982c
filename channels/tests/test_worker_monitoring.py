"""A real Celery worker: failing tasks open one record each (tenant tasks
on the tenant's work queue, platform tasks for operators), the worker's
heartbeat and the heartbeat task make /health/ready pass, and /metrics
counts the failures the worker processes recorded.

Real processes: a `celery worker` subprocess (prefork, 2 children) on a
Redis database of this test's own as broker, sharing the test's cache
(same Redis, same key prefix) and PostgreSQL database.
"""

import time
import uuid

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client

from acorn.env import env, environment
from acorn.models import PlatformTaskFailure, TaskFailureStatus
from acorn.monitoring import heartbeats, task_metrics
from channels.models import ChannelException, ExceptionKind, ExceptionStatus
from channels.tests.test_worker_sigkill import _kill, _wait

BROKER_DB = 11
FAILURES = 3


def _broker_url() -> str:
    base = env("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0]
    return f"{base}/{BROKER_DB}"


def _start_worker(env):
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "acorn.celery_app", "worker",
         "--pool=prefork", "--concurrency=2", "-Q", "amazon,default",
         "-n", f"monitoring-{uuid.uuid4().hex[:6]}@%h", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
        env=env, cwd=settings.BASE_DIR, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_failing_tasks_are_recorded_once_and_readiness_sees_the_worker(live, settings):
    broker_url = _broker_url()
    redis.Redis.from_url(broker_url).flushdb()
    redis.Redis.from_url(settings.REDIS_URL).delete(task_metrics.tasks_hash_key())
    cache.delete_many([heartbeats.WORKER_HEARTBEAT_KEY, heartbeats.BEAT_LAST_RUN_KEY])
    env = {
        **environment(),
        "DJANGO_SETTINGS_MODULE": "channels.tests.worker_settings",
        "ACORN_TEST_BROKER_URL": broker_url,
        "ACORN_TEST_CACHE_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "ACORN_WORKER_HEARTBEAT_SECONDS": "1",
        "REDIS_URL": settings.REDIS_URL,
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER']}@"
                        f"{connection.settings_dict['HOST']}:{connection.settings_dict['PORT']}/"
                        f"{connection.settings_dict['NAME']}",
    }
    # Not the current app: shared tasks of later tests would bind to it and
    # be sent to this broker instead of running eagerly.
    sender = Celery(broker=broker_url, set_as_current=False)
    # Given readiness without any worker: the worker and beat checks fail
    body = Client().get("/health/ready").json()
    assert {"worker", "beat"} <= set(body["failed"])
    worker = _start_worker(env)
    output = ""
    try:
        # When a tenant task fails three times with the same arguments (an
        # account id that is no number: the ORM raises ValueError)...
        for _ in range(FAILURES):
            sender.send_task("channels.purchase_order_statuses_sync", queue="amazon",
                             kwargs={"tenant_id": live.pk, "account_id": "not-a-number"})
        # ... and a platform task fails (its required argument is missing)
        sender.send_task("acorn.tasks.for_each_tenant", queue="default", kwargs={})
        sender.send_task("acorn.tasks.for_each_tenant", queue="default", kwargs={})
        # ... and beat's heartbeat task runs
        sender.send_task("acorn.monitoring_heartbeat", queue="default")

        def tenant_failures():
            rows = list(ChannelException.objects.filter(kind=ExceptionKind.TASK_FAILED))
            return rows if rows and rows[0].detail.get("failure_count") == FAILURES else None

        rows = _wait(tenant_failures, 60, "three failures on one exception")
        _wait(lambda: PlatformTaskFailure.objects.filter(failure_count=2).exists(), 30,
              "the platform task failure")
        # Then the tenant's work queue has one exception with the reason
        assert len(rows) == 1
        exception = rows[0]
        assert exception.status == ExceptionStatus.OPEN
        assert exception.message.startswith(
            "Background task channels.purchase_order_statuses_sync failed: ValueError:")
        assert "not-a-number" in exception.detail["error"]
        assert exception.detail["task"] == "channels.purchase_order_statuses_sync"
        assert exception.account is None
        # And the platform failure is one row counting two failures
        platform = PlatformTaskFailure.objects.get()
        assert platform.task_name == "acorn.tasks.for_each_tenant"
        assert platform.status == TaskFailureStatus.OPEN
        assert platform.last_error_type == "TypeError"
        assert "task_name" in platform.last_error_message
        # And readiness passes: the worker's heartbeat and the task's key
        _wait(lambda: heartbeats.heartbeat_read(heartbeats.BEAT_LAST_RUN_KEY), 30,
              "the heartbeat task")
        ready = Client().get("/health/ready")
        assert ready.status_code == 200, ready.json()
        # And /metrics counts the failures the worker children recorded
        settings.ACORN_METRICS_TOKEN = "scrape"
        text = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape").content.decode()
        assert ('acorn_celery_tasks_total{state="FAILURE",'
                'task="channels.purchase_order_statuses_sync"} 3.0') in text
        assert 'acorn_celery_tasks_total{state="SUCCESS",task="acorn.monitoring_heartbeat"} 1.0' \
            in text
        # When the worker stops, its heartbeat goes stale
        _kill(worker)
        settings.ACORN_WORKER_HEARTBEAT_SECONDS = 1
        time.sleep(3.5)
        stale = Client().get("/health/ready").json()
        assert stale["failed"] == ["worker"]
    finally:
        _kill(worker)
        output = worker.stdout.read().decode(errors="replace")
    assert "Traceback" in output  # the failures were real exceptions in the worker
