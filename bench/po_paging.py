"""getPurchaseOrders paging under one shared rate limit, 4 processes.

A sandbox holding 20,000 POs (180 days) serves pages of 100; four client
processes page through 7-day windows sharing the Redis token bucket for
(region, vendor, getPurchaseOrders) at Amazon's default 10 rps / burst 10.
Reported: steady-state pages/s divided by the configured rate (goal >= 0.9,
with zero unrecovered 429s) and LWA token calls per 1,000 API calls.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid

PURCHASE_ORDERS = 20_000
PROCESSES = 4
CALLS_PER_PROCESS = 60  # 240 pages at 10 rps: ~24 s of steady paging
PAGE_SIZE = 100
RATE = 10.0
BURST = 10


def run(report) -> None:
    from django.conf import settings

    from vendor_api.sandbox.testing import running_sandbox
    from vendor_api.tests.workers import paging_worker

    redis_url = settings.REDIS_URL
    key_prefix = f"bench-po-paging-{uuid.uuid4().hex[:8]}"
    with running_sandbox(purchase_orders=0, validate_responses=False) as sandbox:
        started = time.monotonic()
        sandbox.state.generate(vendor_code=sandbox.vendor_code, count=PURCHASE_ORDERS, days=180)
        generation_seconds = time.monotonic() - started
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        start_at = time.time() + 8.0  # spawn + Django import on a busy host
        credentials = {
            "client_id": sandbox.credentials.client_id,
            "client_secret": sandbox.credentials.client_secret,
            "refresh_token": sandbox.credentials.refresh_token,
        }
        workers = [
            context.Process(target=paging_worker, kwargs={
                "base_url": sandbox.base_url, "redis_url": redis_url, "key_prefix": key_prefix,
                "credentials": credentials, "calls": CALLS_PER_PROCESS, "start_at": start_at,
                "results": results, "page_size": PAGE_SIZE, "days_back": 7.0,
            })
            for _ in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=300) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        stats = sandbox.stats()
        _clean_redis(redis_url, key_prefix)

    calls = sum(o["calls"] for o in outcomes)
    errors = sum(o["errors"] for o in outcomes)
    throttled = sum(o["throttled_attempts"] for o in outcomes)
    token_calls = stats.get("lwa_token_calls", 0)
    elapsed = max(o["finished"] for o in outcomes) - min(o["began"] for o in outcomes)
    # The first BURST pages are free; the steady rate is what the quota allows.
    steady_rate = (calls - BURST) / elapsed
    ratio = steady_rate / RATE
    parameters = {
        "purchase_orders": PURCHASE_ORDERS, "processes": PROCESSES, "page_size": PAGE_SIZE,
        "rate": RATE, "burst": BURST, "pages": calls, "elapsed_seconds": round(elapsed, 2),
        "throttled_attempts": throttled, "unrecovered_errors": errors,
        "sandbox_429": stats.get("responses:429", 0),
        "generation_seconds": round(generation_seconds, 2),
    }
    report(
        name="po_paging_throughput_ratio", value=ratio, unit="x configured rate",
        goal=">= 0.9 with 0 unrecovered 429s", baseline=None, ratio=ratio,
        passed=ratio >= 0.9 and errors == 0, parameters=parameters,
    )
    per_thousand = token_calls / calls * 1000 if calls else 0.0
    report(
        name="po_paging_lwa_calls_per_1000", value=per_thousand, unit="token calls / 1000 calls",
        goal="<= 1 per process-hour (ideally 1 in total)", baseline=None, ratio=None,
        passed=token_calls <= PROCESSES, parameters={"token_calls": token_calls, "calls": calls},
    )


def _clean_redis(redis_url: str, key_prefix: str) -> None:
    import redis

    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter(f"*{key_prefix}*"):
        connection.delete(key)
