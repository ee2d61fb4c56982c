"""/metrics: bearer token, and what a Prometheus parser reads back."""

import datetime

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from acorn.monitoring import task_metrics
from acorn.tenancy import tenant_scope

TOKEN = "metrics-test-token"


def scrape(token=TOKEN):
    return Client(HTTP_HOST="prometheus-target:8000").get(
        "/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def samples(text):
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_off_without_a_token(settings):
    settings.ACORN_METRICS_TOKEN = ""
    assert scrape().status_code == 404


def test_metrics_refuse_a_wrong_token(settings):
    settings.ACORN_METRICS_TOKEN = TOKEN
    response = scrape("guess")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Client().get("/metrics").status_code == 401


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("amazon", "amazon\x06\x166", "default")
    task_hash = task_metrics.tasks_hash_key()
    client.delete(task_hash)
    yield client
    client.delete("amazon", "amazon\x06\x166", "default", task_hash)


@pytest.mark.django_db
def test_scrape_reads_queues_tasks_spapi_and_sync_lag(settings, broker, tenant_a, tenant_b):
    from channels.models import SyncKind, SyncRun, SyncStatus
    from channels.tests.factories import AmazonVendorAccountFactory
    from channels.tests.selectors.test_api_health import log_calls

    settings.ACORN_METRICS_TOKEN = TOKEN
    # Given messages waiting (one at priority 6), finished tasks recorded
    broker.rpush("amazon", "m1", "m2")
    broker.rpush("amazon\x06\x166", "m3")
    for _ in range(2):
        task_metrics.task_started(task_id="t1")
        task_metrics.task_finished(task_id="t1", task_name="channels.x", state="SUCCESS")
    task_metrics.task_finished(task_id="t2", task_name="channels.x", state="FAILURE")
    # ... and per tenant, API calls and a sync 10 minutes ago
    accounts = {}
    for tenant, failed in ((tenant_a, 1), (tenant_b, 0)):
        with tenant_scope(tenant):
            account = AmazonVendorAccountFactory(tenant=tenant)
            accounts[tenant.slug] = account
            rows = log_calls(tenant, account, "getPurchaseOrders", ok=3, failed=failed)
            if failed:
                from channels.models import ApiCallLog

                ApiCallLog.objects.filter(pk=rows[0].pk).update(attempts=3,
                                                                 throttled_attempts=2)
            SyncRun.objects.create(
                tenant=tenant, account=account, kind=SyncKind.PURCHASE_ORDERS,
                status=SyncStatus.SUCCEEDED, started_at=timezone.now(),
                finished_at=timezone.now() - datetime.timedelta(minutes=10))
    # When Prometheus scrapes
    response = scrape()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    found = samples(response.content.decode())
    # Then the parser reads every family back
    assert found[("acorn_celery_queue_depth", (("queue", "amazon"),))] == 3
    assert found[("acorn_celery_queue_depth", (("queue", "default"),))] == 0
    assert found[("acorn_celery_tasks_total", (("state", "SUCCESS"), ("task", "channels.x")))] == 2
    assert found[("acorn_celery_tasks_total", (("state", "FAILURE"), ("task", "channels.x")))] == 1
    assert found[("acorn_celery_task_duration_seconds_count", (("task", "channels.x"),))] == 2
    assert found[("acorn_celery_task_duration_seconds_bucket",
                  (("le", "+Inf"), ("task", "channels.x")))] == 2
    a = str(accounts["alpha"].pk)
    labels = (("account_id", a), ("operation", "getPurchaseOrders"), ("tenant", "alpha"))
    assert found[("acorn_spapi_calls", labels)] == 4
    assert found[("acorn_spapi_failed_calls", labels)] == 1
    assert found[("acorn_spapi_throttled_attempts", labels)] == 2
    # 3 + 1 + 1 (ok rows, the first retried twice) + 3 (the 500)
    assert found[("acorn_spapi_attempts", labels)] == 8
    lag = found[("acorn_sync_lag_seconds", (("account_id", a), ("tenant", "alpha")))]
    assert 590 < lag < 700
    b = str(accounts["bravo"].pk)
    assert found[("acorn_spapi_calls", (("account_id", b), ("operation", "getPurchaseOrders"),
                                        ("tenant", "bravo")))] == 3
    # And no tenant or account names, only slugs and ids
    text = response.content.decode()
    assert "Alpha Brand" not in text and accounts["alpha"].name not in text


@pytest.mark.django_db
def test_scrape_queries_grow_with_tenants_not_rows(settings, broker, tenant_a):
    from channels.tests.factories import AmazonVendorAccountFactory
    from channels.tests.selectors.test_api_health import log_calls

    settings.ACORN_METRICS_TOKEN = TOKEN

    def add(count):
        with tenant_scope(tenant_a):
            for _ in range(count):
                account = AmazonVendorAccountFactory(tenant=tenant_a)
                log_calls(tenant_a, account, "getPurchaseOrders", ok=2)
                log_calls(tenant_a, account, "submitAcknowledgement", ok=1)

    add(1)
    with CaptureQueriesContext(connection) as small:
        assert scrape().status_code == 200
    add(4)
    with CaptureQueriesContext(connection) as large:
        assert scrape().status_code == 200
    selects = [q for q in large if q["sql"].lstrip().upper().startswith("SELECT")]
    # tenants + (call-log aggregate + accounts) per tenant, + set_config
    assert len(large) == len(small)
    assert len([q for q in selects if "set_config" not in q["sql"]]) == 3
