"""/health/live and /health/ready: no login, odd Host headers, no HTTPS
redirect, real checks of PostgreSQL, Redis, the broker and heartbeats."""

import time

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from acorn.env import environment
from acorn.monitoring import heartbeats


@pytest.fixture
def fresh_heartbeats():
    heartbeats.heartbeat_write(heartbeats.WORKER_HEARTBEAT_KEY)
    heartbeats.heartbeat_write(heartbeats.BEAT_LAST_RUN_KEY)
    yield
    cache.delete_many([heartbeats.WORKER_HEARTBEAT_KEY, heartbeats.BEAT_LAST_RUN_KEY])


def test_live_answers_without_login_database_or_allowed_host():
    # No django_db mark: any database access would raise here.
    client = Client(HTTP_HOST="10.0.3.7:8000")  # a load balancer's probe
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    # while any other page with that Host is refused
    assert client.get("/accounts/login/").status_code == 400


@override_settings(SECURE_SSL_REDIRECT=True)
def test_probes_are_not_redirected_to_https():
    client = Client()
    assert client.get("/health/live").status_code == 200
    assert client.get("/accounts/login/").status_code == 301


@pytest.mark.django_db
def test_ready_when_every_dependency_answers(fresh_heartbeats):
    response = Client(HTTP_HOST="web").get("/health/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "redis", "broker", "worker", "beat"}
    assert all(check["ok"] for check in body["checks"].values())
    # nothing about tenants in the answer
    assert "tenant" not in response.content.decode().lower()


@pytest.mark.django_db
def test_stale_worker_heartbeat_fails_readiness_with_the_reason(fresh_heartbeats, settings):
    settings.ACORN_WORKER_HEARTBEAT_SECONDS = 30
    cache.set(heartbeats.WORKER_HEARTBEAT_KEY, {"at": time.time() - 600, "host": "w1"})
    response = Client().get("/health/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["failed"] == ["worker"]
    assert "600 s ago on w1 (limit 90 s)" in body["checks"]["worker"]["detail"]


@pytest.mark.django_db
def test_missing_beat_run_fails_readiness(fresh_heartbeats):
    cache.delete(heartbeats.BEAT_LAST_RUN_KEY)
    body = Client().get("/health/ready").json()
    assert body["failed"] == ["beat"]
    assert body["checks"]["beat"]["detail"].startswith("no run of the scheduled heartbeat task")


@pytest.mark.django_db
def test_unreachable_redis_and_broker_fail_readiness(fresh_heartbeats, settings):
    from celery import current_app

    # a port nothing listens on
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    old_broker = current_app.conf.broker_url, current_app.conf.broker_write_url
    current_app.conf.broker_url = current_app.conf.broker_write_url = "redis://127.0.0.1:9/0"
    try:
        started = time.monotonic()
        response = Client().get("/health/ready")
        elapsed = time.monotonic() - started
    finally:
        current_app.conf.broker_url, current_app.conf.broker_write_url = old_broker
    body = response.json()
    assert response.status_code == 503
    assert {"redis", "broker"} <= set(body["failed"])
    assert "database" not in body["failed"]
    assert "Connection" in body["checks"]["redis"]["detail"]
    assert elapsed < 15


def test_heartbeat_task_writes_the_beat_key():
    from acorn.tasks import monitoring_heartbeat

    cache.delete(heartbeats.BEAT_LAST_RUN_KEY)
    monitoring_heartbeat.delay()
    assert time.time() - heartbeats.heartbeat_read(heartbeats.BEAT_LAST_RUN_KEY)["at"] < 5


def test_dead_database_gives_503_naming_the_database(tmp_path):
    """A process whose PostgreSQL is unreachable answers ready with 503 and
    the database check failed (not a 500), and live still answers 200."""
    import json
    import subprocess
    import sys

    from django.conf import settings

    script = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "r = c.get('/health/ready'); live = c.get('/health/live')\n"
        "print(json.dumps({'status': r.status_code, 'body': r.json(),"
        " 'live': live.status_code}))\n"
    )
    env = {**environment(), "DJANGO_SETTINGS_MODULE": "acorn.settings.test",
           "DATABASE_URL": "postgres://acorn_app@127.0.0.1:9/nowhere"}
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR,
                            capture_output=True, text=True, timeout=60)
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert "database" in answer["body"]["failed"]
    assert "OperationalError" in answer["body"]["checks"]["database"]["detail"]
    assert answer["live"] == 200


@pytest.mark.django_db
def test_ready_can_be_narrowed_to_some_checks(fresh_heartbeats):
    cache.delete(heartbeats.BEAT_LAST_RUN_KEY)
    narrow = Client().get("/health/ready?only=database,redis")
    assert narrow.status_code == 200
    assert set(narrow.json()["checks"]) == {"database", "redis"}
    assert Client().get("/health/ready").status_code == 503
    unknown = Client().get("/health/ready?only=database,disk")
    assert unknown.status_code == 400 and unknown.json()["unknown_checks"] == ["disk"]
