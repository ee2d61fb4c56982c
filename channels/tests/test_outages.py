"""Outage battery (issue 9): Redis, the Celery broker, PostgreSQL restarts
and the sandbox killed mid-call. Each must give a clear answer, leave a
visible record and an exception on the work queue, and recover on its own
with no duplicate rows.

Real parts only: a private ``redis-server`` this module stops and starts,
PostgreSQL backends terminated with ``pg_terminate_backend``, the sandbox's
own fault injection over HTTP.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from acorn.env import environment
from acorn.tenancy import tenant_scope
from channels.models import (
    AckStatus,
    ChannelException,
    ExceptionKind,
    ExceptionStatus,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    Submission,
    SubmissionStatus,
    SyncKind,
    SyncRun,
    SyncStatus,
)
from channels.services.outages import outage_exceptions_resolve
from channels.services.purchase_orders import accounts_due_for_sync, purchase_orders_sync
from channels.services.runs import sync_runs_sweep
from channels.services.submissions import QUEUED_PICKUP_AFTER, submissions_poll
from channels.tests.factories import AmazonVendorAccountFactory, SkuMappingFactory
from inventory.services.stock import stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory
from tests.outages import (
    RedisServer,
    app_on_redis,
    broker_messages,
    database_backends_terminate,
)

pytestmark = pytest.mark.slow
logger = logging.getLogger(__name__)


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


def _map_catalog(tenant, account, sandbox):
    for item in sandbox.state.vendors["DEMO1"].catalog:
        SkuMappingFactory(tenant=tenant, account=account, asin=item.asin,
                          vendor_product_id=item.vendor_sku,
                          product=ProductFactory(tenant=tenant, sku=f"P-{item.vendor_sku}"))


def _open_exceptions(kind):
    return ChannelException.objects.filter(kind=kind, status=ExceptionStatus.OPEN)


def _no_duplicates(sandbox):
    """Every PO once, its lines once, no event twice."""
    assert PurchaseOrder.objects.count() == len(sandbox.state.orders)
    expected_lines = sum(len(po.lines) for po in sandbox.state.orders.values())
    assert PurchaseOrderLine.objects.count() == expected_lines
    keys = list(PurchaseOrderEvent.objects.values_list("purchase_order_id", "dedupe_key"))
    assert len(keys) == len(set(keys))


def _until(predicate, *, seconds=20.0, step=0.05):
    """Seconds until ``predicate()`` is true (fails after ``seconds``)."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < seconds, "did not recover in time"
        time.sleep(step)
    return time.monotonic() - started


# --- Redis: the API, test connection, PO sync --------------------------------


def test_api_answers_503_json_while_redis_is_down_and_recovers(tenant_a, api_client_for,
                                                              redis_server):
    """Throttling reads Redis on every API request: down -> 503 in the one
    error shape (was an HTML 500); back -> 200 with no restart."""
    api = api_client_for(tenant_a)
    url = reverse("api:channels:po_list")
    with app_on_redis(redis_server):
        assert api.get(url).status_code == 200
        redis_server.stop()
        response = api.get(url)
        assert response.status_code == 503
        assert response["Content-Type"].startswith("application/json")
        assert response["Retry-After"]
        body = response.json()
        assert body["error"]["code"] == "dependency_unavailable"
        assert body["error"]["details"]["dependency"] == "redis"
        assert "Redis" in body["error"]["message"]
        redis_server.start()
        recovery = _until(lambda: api.get(url).status_code == 200)
    logger.info(f"API recovered {recovery:.2f} s after Redis returned")


@pytest.mark.django_db(transaction=True)
def test_connection_test_with_redis_down_is_recorded_and_readable(tenant, member_client,
                                                                  sandbox, grant, redis_server):
    """Test connection reads the LWA token cache: down -> a FAILED run with
    the reason and a readable message (was a 500 with no record)."""
    with tenant_scope(tenant, atomic=False):
        account = AmazonVendorAccountFactory(
            tenant=tenant, endpoint_override=sandbox.base_url,
            lwa_client_id=grant["client_id"], lwa_client_secret=grant["client_secret"],
            lwa_refresh_token=grant["refresh_token"])
    client = member_client(tenant, "admin")
    url = reverse("channels:account_test",
                  kwargs={"tenant_slug": tenant.slug, "account_id": account.pk})
    with app_on_redis(redis_server):
        redis_server.stop()
        response = client.post(url, follow=True)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Connection failed" in page and "redis unavailable" in page
        with tenant_scope(tenant, atomic=False):
            run = SyncRun.objects.get(kind=SyncKind.CONNECTION_TEST)
            assert run.status == SyncStatus.FAILED
            assert run.error_code == "dependency_unavailable"
        redis_server.start()
        response = client.post(url, follow=True)
        assert "Connection OK" in response.content.decode()
    with tenant_scope(tenant, atomic=False):
        assert list(SyncRun.objects.order_by("pk").values_list("status", flat=True)) == [
            SyncStatus.FAILED, SyncStatus.SUCCEEDED]


@pytest.mark.django_db(transaction=True)
def test_po_sync_with_redis_down_fails_visibly_and_the_next_tick_recovers(
    live, live_account, sandbox, fast_retries, redis_server
):
    """The rate limiter lives in Redis: down -> the run ends FAILED with the
    reason and SYNC_FAILED opens (it stayed RUNNING forever); the account is
    due again on the next tick; back -> it syncs, resolves, no duplicates."""
    sandbox.state.generate(vendor_code="DEMO1", count=12, days=2)
    _map_catalog(live, live_account, sandbox)
    with app_on_redis(redis_server):
        redis_server.stop()
        run = purchase_orders_sync(tenant=live, account=live_account, plan=False,
                                   **fast_retries)
        run.refresh_from_db()
        assert run.status == SyncStatus.FAILED
        assert run.error_code == "dependency_unavailable"
        assert "redis unavailable" in run.error_message
        assert _open_exceptions(ExceptionKind.SYNC_FAILED).count() == 1
        assert [a.pk for a in accounts_due_for_sync(tenant=live, kind=SyncKind.PURCHASE_ORDERS)
                ] == [live_account.pk]
        redis_server.start()
        started = time.monotonic()
        run = purchase_orders_sync(tenant=live, account=live_account, plan=False,
                                   **fast_retries)
        recovery = time.monotonic() - started
    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    assert not _open_exceptions(ExceptionKind.SYNC_FAILED).exists()
    assert not SyncRun.objects.filter(status=SyncStatus.RUNNING).exists()
    _no_duplicates(sandbox)
    logger.info(f"PO sync recovered in {recovery:.2f} s (one tick) after Redis returned")


# --- The broker: Send after the submission is committed ----------------------


@pytest.fixture
def review_po(live, live_account, sandbox, fast_retries):
    """A synced PO waiting for review, stock to accept it."""
    live_account.ack_auto_send = "never"
    live_account.save()
    sandbox.state.generate(vendor_code="DEMO1", count=1, days=1)
    _map_catalog(live, live_account, sandbox)
    warehouse = WarehouseFactory(tenant=live)
    from channels.models import SkuMapping

    for mapping in SkuMapping.objects.select_related("product"):
        stock_receive(tenant=live, product=mapping.product, warehouse=warehouse, quantity=1000)
    purchase_orders_sync(tenant=live, account=live_account, plan=True, **fast_retries)
    po = PurchaseOrder.objects.get()
    if po.ack_status != AckStatus.REVIEW:
        po.ack_status = AckStatus.REVIEW
        po.save()
    return po


@pytest.mark.django_db(transaction=True)
def test_send_with_the_broker_down_stays_queued_visibly_and_is_sent_once_it_returns(
    live, review_po, member_client, sandbox, redis_server
):
    """Send commits the submission, then the broker refuses the message:
    the answer is a normal redirect (was a 500), the submission stays
    QUEUED with the reason shown, an exception is open; once the broker is
    back the beat's poll sends it, once."""
    client = member_client(live, "operations")
    url = reverse("channels:ack_review",
                  kwargs={"tenant_slug": live.slug, "purchase_order_id": review_po.pk})
    with app_on_redis(redis_server, broker=True):
        redis_server.stop()
        response = client.post(url, {"send": "1"})
        assert response.status_code == 302
        submission = Submission.objects.get()
        assert submission.status == SubmissionStatus.QUEUED
        assert "task queue was unreachable" in submission.status_detail
        detail_url = reverse("channels:submission_detail",
                             kwargs={"tenant_slug": live.slug, "submission_id": submission.pk})
        assert "task queue was unreachable" in client.get(detail_url).content.decode()
        exception = _open_exceptions(ExceptionKind.DEPENDENCY_UNAVAILABLE).get()
        assert exception.submission_id == submission.pk
        # The poll is what the beat runs every minute; the queue is back.
        redis_server.start()
        later = timezone.now() + QUEUED_PICKUP_AFTER + datetime.timedelta(seconds=1)
        counts = submissions_poll(tenant=live, now=later)
    assert counts.get("picked_up") == 1
    submission.refresh_from_db()
    assert submission.status != SubmissionStatus.QUEUED
    assert submission.send_attempts == 1
    assert len(sandbox.control("GET", "/_sandbox/submissions?kind=acknowledgement")
               ["submissions"]) == 1
    assert Submission.objects.count() == 1
    assert outage_exceptions_resolve(tenant=live) == 1
    assert not _open_exceptions(ExceptionKind.DEPENDENCY_UNAVAILABLE).exists()


@pytest.mark.django_db(transaction=True)
def test_a_live_broker_carries_the_send_message(live, review_po, member_client, redis_server):
    """The same Send with the broker up puts one message on the amazon
    queue (so the outage test above fails for the right reason)."""
    client = member_client(live, "operations")
    url = reverse("channels:ack_review",
                  kwargs={"tenant_slug": live.slug, "purchase_order_id": review_po.pk})
    with app_on_redis(redis_server, broker=True):
        assert client.post(url, {"send": "1"}).status_code == 302
        messages = broker_messages(redis_server, "amazon")
    assert [m["headers"]["task"] for m in messages] == ["channels.submission_send"]
    assert Submission.objects.get().status == SubmissionStatus.QUEUED
    assert not _open_exceptions(ExceptionKind.DEPENDENCY_UNAVAILABLE).exists()


# --- PostgreSQL restart --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_po_sync_survives_a_database_restart_mid_call(live, live_account, sandbox,
                                                     fast_retries):
    """The database drops the worker's connection while an SP-API call is
    in flight: the run ends FAILED with the reason (on a new connection),
    SYNC_FAILED opens; the next run syncs everything once."""
    sandbox.state.generate(vendor_code="DEMO1", count=8, days=2)
    _map_catalog(live, live_account, sandbox)
    # The first page hangs a second; meanwhile the "restart" happens.
    sandbox.control("POST", "/_sandbox/faults", {"faults": [
        {"operation": "getPurchaseOrders", "kind": "hang", "seconds": 1.0, "count": 1}]})
    terminated = []
    killer = threading.Timer(0.4, lambda: terminated.append(database_backends_terminate()))
    killer.start()
    run = purchase_orders_sync(tenant=live, account=live_account, plan=False, prefetch=False,
                               **fast_retries)
    killer.join()
    assert terminated and terminated[0] >= 1
    run.refresh_from_db()
    assert run.status == SyncStatus.FAILED
    assert run.error_code == "dependency_unavailable"
    assert "database unavailable" in run.error_message
    assert _open_exceptions(ExceptionKind.SYNC_FAILED).count() == 1
    started = time.monotonic()
    second = purchase_orders_sync(tenant=live, account=live_account, plan=False,
                                  **fast_retries)
    recovery = time.monotonic() - started
    assert second.status == SyncStatus.SUCCEEDED, second.error_message
    assert not _open_exceptions(ExceptionKind.SYNC_FAILED).exists()
    _no_duplicates(sandbox)
    logger.info(f"PO sync recovered in {recovery:.2f} s after the database restart")


@pytest.mark.django_db(transaction=True)
def test_api_after_a_database_restart_answers_normally(tenant_a, api_client_for):
    """Connections the restart killed are replaced: the next request works."""
    api = api_client_for(tenant_a)
    url = reverse("api:channels:po_list")
    assert api.get(url).status_code == 200
    assert database_backends_terminate() >= 1
    # The test client keeps its connection (production closes it after
    # each request): the request on the dead one answers 503 in the error
    # shape, and the broken connection is dropped so the next one works.
    first = api.get(url)
    assert first.status_code == 503
    assert first.json()["error"]["code"] == "dependency_unavailable"
    assert first.json()["error"]["details"]["dependency"] == "database"
    assert api.get(url).status_code == 200


# --- The sandbox killed mid-call ------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_po_sync_with_the_sandbox_dying_mid_call_fails_visibly_and_recovers(
    live, live_account, sandbox, fast_retries, fault
):
    """Every attempt's connection dies mid-answer: FAILED with the transport
    error, SYNC_FAILED open; the sandbox back -> synced once, resolved."""
    sandbox.state.generate(vendor_code="DEMO1", count=6, days=2)
    _map_catalog(live, live_account, sandbox)
    sandbox.control("POST", "/_sandbox/faults", {"faults": [
        {"operation": "getPurchaseOrders", "kind": fault, "rate": 1.0}]})
    run = purchase_orders_sync(tenant=live, account=live_account, plan=False, **fast_retries)
    assert run.status == SyncStatus.FAILED
    assert run.error_code
    assert _open_exceptions(ExceptionKind.SYNC_FAILED).count() == 1
    assert PurchaseOrder.objects.count() == 0
    sandbox.control("POST", "/_sandbox/faults", {"faults": []})
    second = purchase_orders_sync(tenant=live, account=live_account, plan=False, **fast_retries)
    assert second.status == SyncStatus.SUCCEEDED, second.error_message
    assert not _open_exceptions(ExceptionKind.SYNC_FAILED).exists()
    _no_duplicates(sandbox)


# --- A crash nobody recorded: the sweeper ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_run_left_running_past_its_time_limit_is_failed_and_queued(live, live_account):
    """A worker killed mid-sync leaves RUNNING; past the task's hard limit
    (660 s for PO sync) plus grace the sweeper fails it with the reason and
    opens SYNC_FAILED; a younger run and other kinds' limits are kept."""
    from channels.services.runs import sync_run_start, sync_run_time_limits
    from channels.tasks.purchase_orders import purchase_orders_sync_task

    limits = sync_run_time_limits()
    assert limits[SyncKind.PURCHASE_ORDERS] == purchase_orders_sync_task.time_limit == 660
    now = timezone.now()
    stuck = sync_run_start(tenant=live, account=live_account, kind=SyncKind.PURCHASE_ORDERS)
    young = sync_run_start(tenant=live, account=live_account,
                           kind=SyncKind.PURCHASE_ORDER_STATUS)
    report = sync_run_start(tenant=live, account=live_account, kind=SyncKind.FORECAST_REPORT)
    SyncRun.objects.filter(pk=stuck.pk).update(started_at=now - datetime.timedelta(seconds=721))
    SyncRun.objects.filter(pk=young.pk).update(started_at=now - datetime.timedelta(seconds=700))
    SyncRun.objects.filter(pk=report.pk).update(started_at=now - datetime.timedelta(hours=1))
    assert sync_runs_sweep(tenant=live, now=now) == 1
    stuck.refresh_from_db()
    assert stuck.status == SyncStatus.FAILED
    assert stuck.error_code == "time_limit_exceeded"
    assert "time limit is 660 s" in stuck.error_message
    assert SyncRun.objects.get(pk=young.pk).status == SyncStatus.RUNNING
    assert SyncRun.objects.get(pk=report.pk).status == SyncStatus.RUNNING
    exception = _open_exceptions(ExceptionKind.SYNC_FAILED).get()
    assert "never finished" in exception.message
    # Swept once: a second sweep changes nothing.
    assert sync_runs_sweep(tenant=live, now=now) == 0


def test_the_sweeper_is_scheduled():
    from acorn.schedule import periodic_tasks

    entries = {name: (task, options) for name, _schedule, task, options in periodic_tasks()}
    assert entries["channels-sync-runs-sweep"] == (
        "acorn.tasks.for_each_tenant", {"args": ("channels.sync_runs_sweep",)})
    from acorn.celery_app import app

    assert "channels.sync_runs_sweep" in app.tasks


@pytest.mark.django_db(transaction=True)
def test_a_dashboard_page_on_a_dead_connection_answers_a_readable_503(tenant, member_client):
    """A page whose database connection died answers a plain 503 page in
    the reader's language (was Django's 500), and the next one works."""
    client = member_client(tenant, "viewer")
    home = reverse("tenant_home", kwargs={"tenant_slug": tenant.slug})
    assert client.get(home).status_code == 200
    assert database_backends_terminate() >= 1
    response = client.get(home, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 503
    assert response["Retry-After"]
    page = response.content.decode()
    assert "数据库" in page and "暂时不可用" in page
    assert client.get(home).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_sync_leaves_a_run_the_sweeper_fails(
    live, live_account, sandbox, fast_retries, redis_server
):
    """A real worker is SIGKILLed while its PO sync waits on Amazon: the run
    stays RUNNING (nothing in the process can record anything); the sweep
    past the task's hard limit fails it with the reason and opens
    SYNC_FAILED; the next sync writes every PO once."""
    import uuid

    from celery import Celery
    from django.db import connection

    from channels.tests.test_worker_sigkill import _kill, _start_worker, _wait

    sandbox.state.generate(vendor_code="DEMO1", count=5, days=2)
    _map_catalog(live, live_account, sandbox)
    sandbox.control("POST", "/_sandbox/faults", {"faults": [
        {"operation": "getPurchaseOrders", "kind": "hang", "seconds": 30, "count": 1}]})
    settings_dict = connection.settings_dict
    env = {
        **environment(),
        "DJANGO_SETTINGS_MODULE": "channels.tests.worker_settings",
        "ACORN_TEST_BROKER_URL": redis_server.url,
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:"
                        f"{settings_dict['PORT']}/{settings_dict['NAME']}",
    }
    worker = _start_worker(f"h6-sweep-{uuid.uuid4().hex[:6]}", env)
    try:
        Celery(broker=redis_server.url, set_as_current=False).send_task(
            "channels.purchase_orders_sync", queue="amazon",
            kwargs={"tenant_id": live.pk, "account_id": live_account.pk})
        _wait(lambda: sandbox.stats().get("calls:getPurchaseOrders"), 60, "the sync's call")
        _kill(worker)
    finally:
        _kill(worker)
    run = SyncRun.objects.get(kind=SyncKind.PURCHASE_ORDERS)
    assert run.status == SyncStatus.RUNNING
    assert sync_runs_sweep(tenant=live) == 0  # not yet past its limit
    later = run.started_at + datetime.timedelta(seconds=660 + 61)
    assert sync_runs_sweep(tenant=live, now=later) == 1
    run.refresh_from_db()
    assert run.status == SyncStatus.FAILED and run.error_code == "time_limit_exceeded"
    assert _open_exceptions(ExceptionKind.SYNC_FAILED).count() == 1
    sandbox.control("POST", "/_sandbox/faults", {"faults": []})
    second = purchase_orders_sync(tenant=live, account=live_account, plan=False,
                                  **fast_retries)
    assert second.status == SyncStatus.SUCCEEDED, second.error_message
    assert not _open_exceptions(ExceptionKind.SYNC_FAILED).exists()
    _no_duplicates(sandbox)
