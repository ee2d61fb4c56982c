"""A bulk push of 10,000 SKUs stays inside Shopify's cost budget.

The shop's bucket is small against the work (2,000 points, restoring
2,000/s so the test takes about 15 s): about 30,000 points of reads and writes
must be paced by the Redis governor. Counted at the sandbox: no query over
1,000 points, no storm of THROTTLED answers, every row applied.
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.core.cache import cache

from channels.tests.stores.shopify_support import (
    SHOPIFY_MOUNT,
    adapter_for,
    bulk_push,
    control,
    push_worker,
    shop_create,
)
from vendor_api.sandbox.testing import running_sandbox

SKUS = 10_000


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(purchase_orders=0, mounts=[SHOPIFY_MOUNT],
                         validate_responses=False) as handle:
        yield handle


def test_bulk_push_of_10000_skus_stays_within_the_cost_budget(sandbox):
    shop = shop_create(sandbox.base_url, generate={"variants": SKUS, "available": 5},
                       maximum_available=2000, restore_rate=2000)
    adapter = adapter_for(shop, cache, redis_url=settings.REDIS_URL)
    page = adapter.list_skus()  # 10,000 variants: one bulk operation, no paging
    assert len(page.items) == SKUS and page.next_cursor is None
    location = adapter.list_locations()[0].location_id
    targets = {item.ref: index % 50 for index, item in enumerate(page.items)}
    outcomes = bulk_push(adapter, targets, location, key_prefix=str(uuid.uuid4()))
    assert outcomes == {"applied": SKUS, "stale": 0, "rejected": 0}

    stats = control(sandbox.base_url, "GET", f"/_sandbox/shopify/{shop['name']}/stats")
    log = control(sandbox.base_url, "GET",
                  f"/_sandbox/shopify/{shop['name']}/log?last=100000")["log"]
    assert stats["stats"].get("max_cost_exceeded", 0) == 0
    assert max(entry["requested"] for entry in log) <= 1000
    spent = sum(entry["actual"] or 0 for entry in log)
    assert spent > 10 * 2000  # the budget really bound: the bucket was refilled many times
    throttled = stats["stats"].get("throttled", 0)
    assert throttled <= 3, f"{throttled} THROTTLED answers: the governor let calls through"
    levels = control(sandbox.base_url, "GET", f"/_sandbox/shopify/{shop['name']}/levels")
    assert sorted(level["available"] for level in levels["levels"]) == sorted(targets.values())


def test_two_processes_share_one_cost_budget(sandbox):
    import multiprocessing
    import time

    shop = shop_create(sandbox.base_url, generate={"variants": 4000, "available": 5},
                       maximum_available=1000, restore_rate=1000)
    adapter = adapter_for(shop, cache, redis_url=settings.REDIS_URL)
    items = adapter.list_skus().items
    location = adapter.list_locations()[0].location_id
    refs = [(item.ref.item_id, item.ref.variant_id) for item in items]
    prefix = f"test:shopify:shared:{uuid.uuid4().hex[:8]}:"
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.time() + 6.0
    workers = [context.Process(target=push_worker, kwargs={
        "shop_base_url": shop["base_url"], "access_token": shop["access_token"],
        "redis_url": settings.REDIS_URL, "governor_prefix": prefix, "refs": half,
        "location_id": location, "start_at": start_at, "results": results})
        for half in (refs[:2000], refs[2000:])]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert sum(o["applied"] for o in outcomes) == 4000
    stats = control(sandbox.base_url, "GET", f"/_sandbox/shopify/{shop['name']}/stats")["stats"]
    # ~12,000 points through a 1,000-point bucket from two processes at once.
    assert stats.get("throttled", 0) <= 3, stats
