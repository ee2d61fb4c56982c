"""store_bulk_push: 10,000 SKUs pushed to a Shopify sandbox shop under its cost limit.

One shop on the Advanced plan's bucket (4,000 points, restoring 200/s)
holds 10,000 variants at one location. The Shopify adapter reads the
catalog (a bulk operation), then pushes every SKU the way the sync engine
does: read the levels in batches (compare-and-set tokens), write 250 rows a
call with ``changeFromQuantity`` and an idempotency key, paced by the Redis
cost governor.

Reported: elapsed time divided by the cost-budget ideal, the least time the
points actually spent allow, ``(sum of actualQueryCost - maximumAvailable)
/ restoreRate`` (goal <= 1.25), with the THROTTLED answers counted (goal:
no storm, <= 3) and every row applied.
"""

from __future__ import annotations

import time
import uuid

SKUS = 10_000
MAXIMUM_AVAILABLE = 4000.0
RESTORE_RATE = 200.0


def run(report) -> None:
    import redis
    from django.conf import settings
    from django.core.cache import cache

    from channels.stores.shopify import CostGovernor
    from channels.tests.stores.shopify_support import (
        SHOPIFY_MOUNT,
        adapter_for,
        bulk_push,
        control,
        shop_create,
    )
    from vendor_api.sandbox.testing import running_sandbox

    prefix = f"bench:shopify:cost:{uuid.uuid4().hex[:8]}:"
    connection = redis.Redis.from_url(settings.REDIS_URL)
    with running_sandbox(purchase_orders=0, mounts=[SHOPIFY_MOUNT],
                         validate_responses=False) as sandbox:
        shop = shop_create(sandbox.base_url, generate={"variants": SKUS, "available": 5},
                           maximum_available=MAXIMUM_AVAILABLE, restore_rate=RESTORE_RATE)
        adapter = adapter_for(shop, cache,
                              governor=CostGovernor(redis_client=connection, key_prefix=prefix))
        started = time.monotonic()
        page = adapter.list_skus()
        location = adapter.list_locations()[0].location_id
        targets = {item.ref: index % 50 for index, item in enumerate(page.items)}
        outcomes = bulk_push(adapter, targets, location, key_prefix=str(uuid.uuid4()))
        elapsed = time.monotonic() - started
        base = f"/_sandbox/shopify/{shop['name']}"
        stats = control(sandbox.base_url, "GET", base + "/stats")["stats"]
        log = control(sandbox.base_url, "GET", base + "/log?last=100000")["log"]
    for key in connection.scan_iter(prefix + "*"):
        connection.delete(key)

    spent = sum(entry["actual"] or 0 for entry in log)
    ideal = max(0.0, spent - MAXIMUM_AVAILABLE) / RESTORE_RATE
    ratio = elapsed / ideal if ideal else float("inf")
    throttled = stats.get("throttled", 0)
    parameters = {
        "skus": SKUS, "maximum_available": MAXIMUM_AVAILABLE, "restore_rate": RESTORE_RATE,
        "elapsed_seconds": round(elapsed, 2), "ideal_seconds": round(ideal, 2),
        "points_spent": spent, "calls": len(log), "throttled": throttled,
        "max_requested": max(entry["requested"] for entry in log),
        "max_cost_exceeded": stats.get("max_cost_exceeded", 0),
        "applied": outcomes["applied"], "governor_wait_seconds":
            round(adapter.counters["waited_seconds"], 2),
    }
    report(
        name="store_bulk_push_vs_cost_ideal", value=ratio, unit="x cost-budget ideal",
        goal="<= 1.25 with <= 3 THROTTLED and every row applied", baseline=ideal, ratio=ratio,
        passed=ratio <= 1.25 and throttled <= 3 and outcomes["applied"] == SKUS,
        parameters=parameters,
    )
