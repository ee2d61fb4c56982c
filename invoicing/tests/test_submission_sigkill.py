# ruff: noqa: F811 (the fixtures imported from submission_support are parameters here)
"""A worker killed (SIGKILL) mid-POST leaves exactly one invoice at Amazon.

Real processes: a `celery worker` subprocess on Redis, the sandbox over
HTTP, PostgreSQL. The submitInvoices POST is slowed by a latency fault and
the worker is killed while Amazon is handling it (the invoice lands after
the worker died). The message comes back to a second worker, which finds
the submission SENDING, treats the outcome as unknown and checks at Amazon
(which has no invoice read API) instead of sending again: Amazon holds the
invoice once, and the submission waits for ops, visibly.
"""

import subprocess
import sys
import uuid

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from acorn.env import environment
from channels.models import ChannelException, ExceptionKind, Submission, SubmissionStatus
from channels.services import submissions as submission_services
from channels.tests.test_worker_sigkill import _kill, _wait
from invoicing.services.submission import invoice_submit
from invoicing.tests.submission_support import (  # noqa: F401 (fixtures)
    account,
    grant,
    issued_document,
    live,
    sandbox,
    sandbox_po,
)

LATENCY_SECONDS = 5


def _start_worker(name: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "acorn.celery_app", "worker",
         "--pool=prefork", "--concurrency=1", "-Q", "amazon,default",
         "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel=INFO"],
        env=env, cwd=settings.BASE_DIR, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_submission_leaves_exactly_one_invoice_at_amazon(
        live, account, sandbox, monkeypatch):
    # The broker: this engineer's / CI's Redis database (the test process
    # itself runs tasks eagerly and does not use it).
    broker_url = settings.REDIS_URL
    redis.Redis.from_url(broker_url).flushdb()
    # Given an issued invoice queued for Amazon (the test hands the send
    # task to the real broker itself) and a slow Amazon
    po = sandbox_po(sandbox)
    invoice = issued_document(live, account, po)
    monkeypatch.setattr(submission_services, "_send_later", lambda **kwargs: None)
    outcome = invoice_submit(tenant=live, invoice_id=invoice.pk)
    submission = Submission.objects.get(pk=outcome.submission_id)
    assert submission.status == SubmissionStatus.QUEUED
    sandbox.control("POST", "/_sandbox/faults", {"faults": [
        {"operation": "submitInvoices", "kind": "latency", "seconds": LATENCY_SECONDS,
         "count": 1}]})
    env = {
        **environment(),
        "DJANGO_SETTINGS_MODULE": "channels.tests.worker_settings",
        "ACORN_TEST_BROKER_URL": broker_url,
        "REDIS_URL": broker_url,
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER']}@"
                        f"{connection.settings_dict['HOST']}:{connection.settings_dict['PORT']}/"
                        f"{connection.settings_dict['NAME']}",
    }
    sender = Celery(broker=broker_url, set_as_current=False)
    first = _start_worker(f"inv-first-{uuid.uuid4().hex[:6]}", env)
    second = None
    try:
        # When the first worker takes the send task and the POST is in flight
        sender.send_task("channels.submission_send", queue="amazon",
                         kwargs={"tenant_id": live.pk, "submission_id": submission.pk})
        _wait(lambda: sandbox.stats().get("calls:submitInvoices"), 60, "the invoice POST")
        # ... and the worker is killed mid-call
        _kill(first)
        submission.refresh_from_db()
        assert submission.status == SubmissionStatus.SENDING
        # Then a second worker gets the message back and checks at Amazon
        second = _start_worker(f"inv-second-{uuid.uuid4().hex[:6]}", env)

        def checked():
            submission.refresh_from_db()
            return (submission.status == SubmissionStatus.OUTCOME_UNKNOWN
                    and submission.reconcile_attempts >= 1)

        _wait(checked, 90, "the submission to be checked at Amazon")
    finally:
        for process in (first, second):
            if process is None:
                continue
            _kill(process)
            output = process.stdout.read().decode(errors="replace")
            if submission.status != SubmissionStatus.OUTCOME_UNKNOWN:
                sys.stderr.write(output[-3000:])
    # And Amazon holds exactly one invoice, sent once
    _wait(lambda: sandbox.state.invoices, LATENCY_SECONDS + 5, "the invoice to land")
    assert list(sandbox.state.invoices) == [invoice.number]
    assert sandbox.stats()["calls:submitInvoices"] == 1
    assert submission.send_attempts == 1
    assert Submission.objects.count() == 1
    # ... and ops see it on the work queue
    assert ChannelException.objects.filter(kind=ExceptionKind.OUTCOME_UNKNOWN,
                                           submission=submission).exists()
