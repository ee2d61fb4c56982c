"""po_sync: 20,000 POs x 10 lines from the sandbox into PostgreSQL.

One account syncs a sandbox holding 20,000 POs of 10 lines each, created
over the last 7 days (one 7-day window), through ``purchase_orders_sync``
exactly as the Celery task runs it: pages of 100, the shared Redis token
bucket, the call log hook. Its first sync reads the created range only
(the account has no high-water mark yet).

The sandbox runs in its own process (``_sandbox_serve``), so serving
400 KB pages does not compete with the sync for the GIL. getPurchaseOrders
runs at Amazon's default usage plan, 10 rps / burst 10, on both the
sandbox and the client (whose token bucket keeps 5 % headroom below the
plan). The ratio is measured against the configured rate. Acknowledgement
planning (the other half of channels) is not run (``plan=False``): this
measures the sync.

The size is a parameter (``run(report, purchase_orders=..., days=...)``);
``bench/po_sync_100k.py`` runs 100,000 POs over 180 days (a large
vendor's six-month backfill).

Reported (``po_sync`` is the name prefix):
- po_sync_time_ratio: wall time of the first sync / (pages / RATE); goal <= 1.2
- po_sync_lines_per_second: lines upserted per second of the first sync
- po_sync_resync_rows_written: rows inserted/updated/deleted in the PO,
  line, event and exception tables by a no-change re-sync of the same
  window (pg_stat_user_tables deltas); goal 0
- po_sync_worker_peak_rss: the syncing process's peak resident memory
  during the first sync, sampled every 50 ms, above its size before;
  goal <= MEMORY_BUDGET_MB whatever the PO count (pages are streamed:
  at most PREFETCH_DEPTH prepared pages wait, one per writer is written)
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

PURCHASE_ORDERS = 20_000
DAYS = 6.9
LINES_PER_PO = 10
# Streamed pages: the fetchers' pages in flight, the prefetch queue and
# the writers' pages are ~10 pages of ~2 MB of Python objects each; the
# sync's own dedupe set grows by ~100 bytes per PO (10 MB at 100,000).
MEMORY_BUDGET_MB = 200
RATE = 10.0  # Amazon's default usage plan for getPurchaseOrders
BURST = 10
DATA_TABLES = ("channels_purchaseorder", "channels_purchaseorderline",
               "channels_purchaseorderevent", "channels_channelexception",
               "channels_skumapping")
LOG_TABLES = ("channels_apicalllog", "channels_syncrun", "channels_amazonvendoraccount")


def _widen(orders, catalog) -> None:
    """Give every generated PO exactly LINES_PER_PO distinct lines."""
    from vendor_api.sandbox.generator import OrderLine

    for po in orders:
        used = {line.asin for line in po.lines}
        spare = [item for item in catalog if item.asin not in used]
        while len(po.lines) < LINES_PER_PO:
            item = spare.pop()
            po.lines.append(OrderLine(
                sequence=str(len(po.lines) + 1), asin=item.asin, vendor_sku=item.vendor_sku,
                ordered=12, net_cost=item.net_cost, list_price=item.list_price,
                back_order_allowed=False,
            ))
        del po.lines[LINES_PER_PO:]


def _sandbox_serve(*, rate: float = RATE, burst: int = BURST,
                   count: int = PURCHASE_ORDERS, days: float = DAYS) -> None:
    """The sandbox process: generate the POs, serve, report, wait for stdin EOF.

    Writes one JSON line (base URL, credentials, catalog) to stdout once
    it listens; stops when the benchmark closes its stdin.
    """
    import django

    django.setup()
    from vendor_api.limits import UsagePlan
    from vendor_api.sandbox.server import SandboxServer
    from vendor_api.sandbox.state import SandboxState
    from vendor_api.sandbox.testing import DEMO_CREDENTIALS, DEMO_VENDOR_CODE
    from vendor_api.sandbox.vendor import order_json_warm

    state = SandboxState(purchase_orders=0, validate_responses=False)
    state.scenario.rate_limits["getPurchaseOrders"] = UsagePlan(rate=rate, burst=burst)
    vendor = state.vendors[DEMO_VENDOR_CODE]
    started = time.monotonic()
    orders = state.generate(vendor_code=DEMO_VENDOR_CODE, count=count, days=days)
    _widen(orders, vendor.catalog)
    # Amazon has its POs' JSON at hand: the sandbox builds (and encodes)
    # each once before listening, not while the sync is timed.
    order_json_warm(orders)
    generation_seconds = time.monotonic() - started
    server = SandboxServer(host="127.0.0.1", port=0, state=state, mounts=[]).start()
    print(json.dumps({
        "base_url": server.base_url, "vendor_code": DEMO_VENDOR_CODE,
        "client_id": DEMO_CREDENTIALS.client_id,
        "client_secret": DEMO_CREDENTIALS.client_secret,
        "refresh_token": DEMO_CREDENTIALS.refresh_token,
        "catalog": [[item.asin, item.vendor_sku] for item in vendor.catalog],
        "generation_seconds": generation_seconds,
    }), flush=True)
    sys.stdin.read()
    server.stop()


def _sandbox_start(*, count: int, days: float) -> tuple[subprocess.Popen, dict]:
    process = subprocess.Popen(
        [sys.executable, "-c", "from bench.po_sync import _sandbox_serve; "
         f"_sandbox_serve(rate={RATE!r}, burst={BURST!r}, count={count!r}, days={days!r})"],
        cwd=str(Path(__file__).resolve().parent.parent), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        raise RuntimeError(f"The sandbox process exited ({process.returncode}).")
    return process, json.loads(line)


def _sandbox_stats(base_url: str) -> dict:
    import requests

    response = requests.get(base_url + "/_sandbox/stats", timeout=10)
    response.raise_for_status()
    return response.json()["stats"]


def _writes(tables) -> int:
    import psycopg
    from django.conf import settings
    from django.db import connection

    # A backend flushes its table statistics at most once a second, and an
    # idle one only after 10 s: ask the sync's backend (all its writes go
    # through Django's connection) to flush at its next transaction end.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(1.5)
    url = settings.DATABASE_OWNER_URL.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as owner:
        row = owner.execute(
            "SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            "FROM pg_stat_user_tables WHERE relname = ANY(%s)", [list(tables)],
        ).fetchone()
    return int(row[0])


class RssSampler:
    """The process's resident set size, sampled in a thread: the peak
    while running, in MB (Linux /proc)."""

    def __init__(self, every: float = 0.05):
        self.every = every
        self.peak = self.now()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    @staticmethod
    def now() -> float:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            self.peak = max(self.peak, self.now())

    def __enter__(self) -> RssSampler:
        self.before = self.now()
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, self.now())


def run(report, *, purchase_orders: int = PURCHASE_ORDERS, days: float = DAYS,
        name: str = "po_sync", resync: bool = True) -> None:
    """``resync``: also time a no-change re-sync of the whole window and
    count the rows it writes (as long as the first sync again)."""
    from django.conf import settings
    from django.db import connection

    from acorn.services import tenant_create
    from acorn.tenancy import tenant_scope
    from channels.models import (
        AccountEnvironment,
        AmazonVendorAccount,
        PurchaseOrderLine,
        SkuMapping,
    )
    from channels.services.accounts import account_create
    from channels.services.purchase_orders import purchase_orders_sync
    from inventory.models import Product, StockLevel
    from vendor_api.limits import RATE_HEADROOM, RedisTokenBucket, UsagePlan

    redis_url = settings.REDIS_URL
    key_prefix = f"bench-po-sync-{uuid.uuid4().hex[:8]}:"
    limiter = RedisTokenBucket.from_url(redis_url, key_prefix=key_prefix)
    plan = UsagePlan(rate=RATE, burst=BURST)
    suffix = uuid.uuid4().hex[:8]
    process, sandbox = _sandbox_start(count=purchase_orders, days=days)
    try:
        tenant = tenant_create(slug=f"bench-sync-{suffix}", name="Bench sync")
        with tenant_scope(tenant):
            account = account_create(
                tenant=tenant, name="Bench", region="NA", marketplace_id="ATVPDKIKX0DER",
                environment=AccountEnvironment.LOCAL_SANDBOX,
                endpoint_override=sandbox["base_url"], vendor_codes=[sandbox["vendor_code"]],
                lwa_client_id=sandbox["client_id"], lwa_client_secret=sandbox["client_secret"],
                lwa_refresh_token=sandbox["refresh_token"],
                initial_lookback_days=math.ceil(days),
            )
            products = Product.objects.bulk_create([
                Product(tenant=tenant, sku=f"B-{sku}", name=sku)
                for _, sku in sandbox["catalog"]
            ])
            StockLevel.objects.bulk_create([StockLevel(tenant=tenant, product=p)
                                            for p in products])
            SkuMapping.objects.bulk_create([
                SkuMapping(tenant=tenant, account=account, asin=asin, vendor_product_id=sku,
                           product=product)
                for (asin, sku), product in zip(sandbox["catalog"], products, strict=True)
            ])
        options = {"limiter": limiter, "usage_plans": {"getPurchaseOrders": plan}}

        with tenant_scope(tenant, atomic=False):
            with RssSampler() as memory:
                started, cpu_started = time.monotonic(), time.process_time()
                first = purchase_orders_sync(tenant=tenant, account=account, plan=False,
                                             **options)
                first_seconds = time.monotonic() - started
                # The worker's own CPU (all its threads): above the ideal
                # wall time the sync could not keep up even on idle cores.
                first_cpu_seconds = time.process_time() - cpu_started
            lines = PurchaseOrderLine.objects.filter(tenant=tenant).count()
            second, second_seconds = None, 0.0
            data_before = data_after = log_before = log_after = 0
            if resync:
                # A no-change re-sync re-reads the same whole window (as a
                # first sync: created range only).
                AmazonVendorAccount.objects.filter(tenant=tenant, pk=account.pk).update(
                    po_changed_high_water=None)
                data_before, log_before = _writes(DATA_TABLES), _writes(LOG_TABLES)
                started = time.monotonic()
                second = purchase_orders_sync(tenant=tenant, account=account, plan=False,
                                              **options)
                second_seconds = time.monotonic() - started
                data_after, log_after = _writes(DATA_TABLES), _writes(LOG_TABLES)
            # An incremental no-change sync (high-water mark set: created
            # and changed ranges since the mark minus the overlap).
            started = time.monotonic()
            third = purchase_orders_sync(tenant=tenant, account=account, plan=False, **options)
            incremental_seconds = time.monotonic() - started
        stats = _sandbox_stats(sandbox["base_url"])
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    connection.close()
    for key in limiter.redis.scan_iter(f"{key_prefix}*"):
        limiter.redis.delete(key)

    pages = first.counts.get("pages", 0)
    ideal = pages / RATE
    # What the client's token bucket alone allows: the burst at once, then
    # RATE * RATE_HEADROOM per second.
    bucket_floor = max(0, pages - BURST) / (RATE * RATE_HEADROOM)
    ratio = first_seconds / ideal if ideal else float("inf")
    resync_pages = second.counts.get("pages", 0) if second else 0
    parameters = {
        "purchase_orders": purchase_orders, "days": days, "lines_per_po": LINES_PER_PO,
        "rate": RATE, "burst": BURST, "amazon_default_rate": 10.0,
        "client_headroom": RATE_HEADROOM, "pages": pages,
        "ideal_seconds": round(ideal, 2), "bucket_floor_seconds": round(bucket_floor, 2),
        "first_sync_seconds": round(first_seconds, 2),
        "first_status": first.status, "first_error": first.error_message[:200],
        "created": first.counts.get("created", 0), "lines": lines,
        "resync_seconds": round(second_seconds, 2), "resync_pages": resync_pages,
        "resync_ratio": round(second_seconds / (resync_pages / RATE), 3)
        if resync_pages else None,
        "resync_unchanged": second.counts.get("unchanged", 0) if second else None,
        "resync_rows_written": data_after - data_before,
        "resync_log_rows_written": log_after - log_before,
        "incremental_seconds": round(incremental_seconds, 2),
        "incremental_pages": third.counts.get("pages", 0),
        "sandbox_429": stats.get("responses:429", 0),
        "sandbox_process": True,
        "generation_seconds": round(sandbox["generation_seconds"], 2),
        "worker_cpu_seconds": round(first_cpu_seconds, 2),
        "worker_rss_before_mb": round(memory.before, 1),
        "worker_rss_peak_mb": round(memory.peak, 1),
        "load_1m_after": round(os.getloadavg()[0], 2),
    }
    report(
        name=f"{name}_time_ratio", value=ratio, unit="x rate-limit ideal",
        goal="<= 1.2", baseline=ideal, ratio=ratio,
        passed=ratio <= 1.2 and first.status == "succeeded", parameters=parameters,
    )
    report(
        name=f"{name}_lines_per_second", value=lines / first_seconds if first_seconds else 0,
        unit="lines/s", goal="informational", baseline=None, ratio=None, passed=True,
        parameters={"lines": lines, "seconds": round(first_seconds, 2), "rate": RATE},
    )
    if second is None:
        return _memory_report(report, name=name, memory=memory,
                              purchase_orders=purchase_orders, pages=pages)
    report(
        name=f"{name}_resync_rows_written", value=data_after - data_before, unit="rows",
        goal="== 0", baseline=None, ratio=None, passed=data_after - data_before == 0,
        parameters={"resync_rows_written": data_after - data_before,
                    "resync_log_rows_written": log_after - log_before,
                    "resync_seconds": round(second_seconds, 2)},
    )
    _memory_report(report, name=name, memory=memory, purchase_orders=purchase_orders,
                   pages=pages)


def _memory_report(report, *, name, memory, purchase_orders, pages) -> None:
    growth = memory.peak - memory.before
    report(
        name=f"{name}_worker_peak_rss", value=growth, unit="MB above the size before the sync",
        goal=f"<= {MEMORY_BUDGET_MB} MB", baseline=memory.before, ratio=None,
        passed=growth <= MEMORY_BUDGET_MB,
        parameters={"purchase_orders": purchase_orders, "pages": pages,
                    "rss_before_mb": round(memory.before, 1),
                    "rss_peak_mb": round(memory.peak, 1)},
    )
