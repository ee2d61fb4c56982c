"""invoice_batch: 1,000 invoices rendered on the documents queue by 2 real
Celery workers (invoices/s, peak memory per worker), then every stored
document validated (pikepdf container checks, Factur-X XSD, Factur-X and
CEN Schematron).

The 1,000 invoices are issued first, as ops would in bulk; each issue
enqueues its rendering after commit (the product's hook), so the queue is
full when the workers start. Throughput is measured between the first and
the last ``rendered_at`` (worker start-up excluded); memory is the peak RSS
of each worker's pool process, sampled every 0.2 s with psutil.
Validation uses the test-only validator (it reads shared/einvoice-validation)
in this process after the renders, reported separately.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid

INVOICES = 1000
WORKERS = 2
TIMEOUT_SECONDS = 3600


def _worker(name: str, env: dict) -> subprocess.Popen:
    from django.conf import settings

    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "acorn.celery_app", "worker",
         "--pool=prefork", "--concurrency=1", "-Q", "documents", "-n", f"{name}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
        env=env, cwd=settings.BASE_DIR, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _watch_memory(processes, peaks: dict, stop: threading.Event) -> None:
    import psutil

    handles = [psutil.Process(p.pid) for p in processes]
    while not stop.is_set():
        for index, handle in enumerate(handles):
            try:
                tree = [handle, *handle.children(recursive=True)]
                rss = max(p.memory_info().rss for p in tree)
            except psutil.Error:
                continue
            peaks[index] = max(peaks.get(index, 0), rss)
        stop.wait(0.2)


def run(report):
    import redis
    from django.conf import settings
    from django.db import connection

    from acorn.env import environment
    from acorn.services import tenant_create
    from acorn.tenancy import tenant_scope
    from invoicing.models import InvoiceRendering, RenderingStatus
    from invoicing.tests import einvoice_validation as validation
    from invoicing.tests.document_cases import CASES, issued_case

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("documents")  # leftovers of an earlier run
    tenant = tenant_create(slug=f"bench-batch-{uuid.uuid4().hex[:8]}", name="Bench batch")
    cases = sorted(CASES)
    start = time.perf_counter()
    invoice_ids = [issued_case(tenant, cases[i % len(cases)], lines=3).pk
                   for i in range(INVOICES)]
    issue_seconds = time.perf_counter() - start
    db = connection.settings_dict
    env = {**environment(), "DJANGO_SETTINGS_MODULE": "acorn.settings.bench",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    workers = [_worker(f"bench-docs-{i}-{uuid.uuid4().hex[:6]}", env) for i in range(WORKERS)]
    peaks: dict = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_memory, args=(workers, peaks, stop), daemon=True)
    watcher.start()
    try:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        with tenant_scope(tenant):
            renderings = InvoiceRendering.objects.filter(tenant=tenant)
            while time.monotonic() < deadline:
                done = renderings.exclude(status=RenderingStatus.PENDING).count()
                if done >= INVOICES:
                    break
                time.sleep(1)
            rows = list(renderings.order_by("rendered_at"))
    finally:
        stop.set()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        watcher.join(timeout=5)
    ok = [r for r in rows if r.status == RenderingStatus.OK]
    failed = [r for r in rows if r.status == RenderingStatus.FAILED]
    stamps = [r.rendered_at for r in ok if r.rendered_at]
    span = (max(stamps) - min(stamps)).total_seconds() if len(stamps) > 1 else 0.0
    rate = (len(stamps) - 1) / span if span else 0.0
    # Validate every stored document.
    start = time.perf_counter()
    invalid = 0
    for rendering in ok:
        with rendering.pdf_file.open("rb") as handle:
            content = handle.read()
        problems = validation.pdf_problems(content) + validation.xml_problems(
            validation.embedded_xml(content))
        invalid += bool(problems)
    validate_seconds = time.perf_counter() - start
    sizes = sorted(r.pdf_size for r in ok) or [0]
    peak_mb = [round(peaks.get(i, 0) / 2**20, 1) for i in range(WORKERS)]
    report(
        name="invoice_batch", value=rate, unit="invoices/s", goal="all rendered and valid",
        baseline=None, ratio=None,
        passed=len(ok) == INVOICES and invalid == 0 and len(invoice_ids) == INVOICES,
        parameters={"invoices": INVOICES, "workers": WORKERS, "ok": len(ok),
                    "failed": len(failed), "invalid": invalid,
                    "render_span_s": round(span, 1), "peak_rss_mb_per_worker": peak_mb,
                    "pdf_bytes_median": sizes[len(sizes) // 2],
                    "issue_s": round(issue_seconds, 1),
                    "validate_ms_per_invoice": round(1000 * validate_seconds / max(len(ok), 1),
                                                     1)},
    )
