"""A worker killed (SIGKILL) mid-POST never leads to a second acknowledgement.

Real processes: a `celery worker` subprocess on Redis (a database of this
test's own), the sandbox over HTTP, PostgreSQL. The acknowledgement POST is
slowed by a latency fault; the worker is killed while Amazon is still
handling it (the POST lands after the worker died). The message comes back
to a second worker, which finds the submission SENDING, treats the outcome
as unknown, waits out the grace period, asks getPurchaseOrdersStatus, finds
the acknowledgement and marks it a success without sending it again.
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from acorn.env import environment
from channels.models import AckAutoSend, AckStatus, PurchaseOrder, Submission, SubmissionStatus
from channels.services import submissions as submission_services
from channels.services.acknowledgements import acknowledgement_plan, acknowledgement_send
from channels.services.purchase_orders import purchase_orders_sync
from channels.tests.services.test_acknowledgement_flow import stock_catalog

REDIS_DB = 12
LATENCY_SECONDS = 5


def _redis_url() -> str:
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    return f"{base}/{REDIS_DB}"


def _start_worker(name: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "acorn.celery_app", "worker",
         "--pool=prefork", "--concurrency=1", "-Q", "amazon,default",
         "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel=INFO"],
        env=env, cwd=settings.BASE_DIR, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_send_leads_to_exactly_one_acknowledgement(
    live, live_account, sandbox, fast_retries, monkeypatch
):
    broker_url = _redis_url()
    redis.Redis.from_url(broker_url).flushdb()
    # Given a PO in review at a slow Amazon, its submission queued (the
    # test sends the task to the real broker itself)
    sandbox.state.generate(vendor_code="DEMO1", count=1, days=1)
    stock_catalog(live, live_account, sandbox)
    live_account.ack_auto_send = AckAutoSend.NEVER
    live_account.save()
    purchase_orders_sync(tenant=live, account=live_account, plan=False, **fast_retries)
    po = PurchaseOrder.objects.get(state="New")
    acknowledgement_plan(tenant=live, purchase_order=po)
    monkeypatch.setattr(submission_services, "_send_later", lambda **kwargs: None)
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    assert submission.status == SubmissionStatus.QUEUED
    sandbox.control("POST", "/_sandbox/faults", {"faults": [
        {"operation": "submitAcknowledgement", "kind": "latency",
         "seconds": LATENCY_SECONDS, "count": 1}]})
    env = {
        **environment(),
        "DJANGO_SETTINGS_MODULE": "channels.tests.worker_settings",
        "ACORN_TEST_BROKER_URL": broker_url,
        "REDIS_URL": broker_url,
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER']}@"
                        f"{connection.settings_dict['HOST']}:{connection.settings_dict['PORT']}/"
                        f"{connection.settings_dict['NAME']}",
    }
    # Not the current app: a Celery() made current would take over every
    # shared_task of the tests that run after this one (sent to this
    # broker instead of run eagerly).
    sender = Celery(broker=broker_url, set_as_current=False)
    first = _start_worker(f"ch2-first-{uuid.uuid4().hex[:6]}", env)
    second = None
    try:
        # When the first worker takes the send task and the POST is in flight
        sender.send_task("channels.submission_send", queue="amazon",
                         kwargs={"tenant_id": live.pk, "submission_id": submission.pk})
        _wait(lambda: sandbox.stats().get("calls:submitAcknowledgement"), 60,
              "the acknowledgement POST")
        # ... and the worker is killed mid-call
        _kill(first)
        submission.refresh_from_db()
        assert submission.status == SubmissionStatus.SENDING
        # Then a second worker gets the message back, reconciles, and stops
        second = _start_worker(f"ch2-second-{uuid.uuid4().hex[:6]}", env)

        def settled():
            submission.refresh_from_db()
            return submission.status == SubmissionStatus.SUCCESS

        _wait(settled, 90, "the submission to be reconciled")
    finally:
        for process in (first, second):
            if process is None:
                continue
            _kill(process)
            output = process.stdout.read().decode(errors="replace")
            if submission.status != SubmissionStatus.SUCCESS:
                # Diagnostics when the test fails.
                sys.stderr.write(output[-3000:])
    # And Amazon received exactly one acknowledgement of the PO
    acks = sandbox.control("GET", "/_sandbox/submissions?kind=acknowledgement")["submissions"]
    assert len(acks) == 1
    assert submission.send_attempts == 1
    assert "reconciliation" in submission.status_detail
    po.refresh_from_db()
    assert po.ack_status == AckStatus.ACCEPTED
    assert Submission.objects.count() == 1
