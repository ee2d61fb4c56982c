"""A real Celery worker on the documents queue renders an issued invoice.

Real processes: a `celery worker -Q documents` subprocess on Redis (a
database of this test's own), PostgreSQL and the storage folder. The test
issues the invoice, then sends ``invoicing.invoice_render`` by name to the
real broker (the test process itself runs Celery eagerly), and waits for
the worker's rendering, which must pass the whole validation battery.
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
from acorn.tenancy import tenant_scope
from invoicing.models import InvoiceRendering, RenderingStatus
from invoicing.tests import einvoice_validation as validation
from invoicing.tests.document_cases import issued_case

REDIS_DB = 13


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_the_documents_queue_renders_and_stores_valid_documents(tenant_a):
    broker_url = f"{settings.REDIS_URL.rsplit('/', 1)[0]}/{REDIS_DB}"
    redis.Redis.from_url(broker_url).delete("documents")
    invoice = issued_case(tenant_a, "eu_intra_community_k", lines=2)
    with tenant_scope(tenant_a):
        # The eager issue hook rendered English; the worker renders German.
        assert not InvoiceRendering.objects.filter(invoice=invoice, language="de").exists()
    db = connection.settings_dict
    env = {
        **environment(),
        "DJANGO_SETTINGS_MODULE": "channels.tests.worker_settings",
        "ACORN_TEST_BROKER_URL": broker_url, "REDIS_URL": broker_url,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "acorn.celery_app", "worker", "--pool=prefork",
         "--concurrency=1", "-Q", "documents", "-n", f"docs-{uuid.uuid4().hex[:6]}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
        env=env, cwd=settings.BASE_DIR, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        Celery(broker=broker_url, set_as_current=False).send_task(
            "invoicing.invoice_render", queue="documents",
            kwargs={"tenant_id": tenant_a.pk, "invoice_id": invoice.pk, "language": "de"})
        deadline = time.monotonic() + 90
        rendering = None
        while time.monotonic() < deadline:
            with tenant_scope(tenant_a):
                rendering = InvoiceRendering.objects.filter(
                    invoice=invoice, language="de").exclude(
                    status=RenderingStatus.PENDING).first()
            if rendering is not None:
                break
            time.sleep(0.5)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    assert rendering is not None, output[-3000:]
    assert rendering.status == RenderingStatus.OK, rendering.reason
    with rendering.pdf_file.open("rb") as handle:
        validation.assert_valid_pdf(handle.read())
