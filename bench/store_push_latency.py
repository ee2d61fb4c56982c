"""store_push_latency: seconds from a committed stock change to the Shopify
sandbox store showing the new quantity, with a real Celery worker and beat.

Nothing calls the engine by hand: inventory's write marks the ATP outbox,
beat's 3 s backstop (``channels.stores_push_dispatch`` via for_each_tenant)
drains it and enqueues the push on the ``stores`` queue, the worker pushes
through the Shopify adapter over HTTP. Each sample adjusts one product's
stock, then polls the sandbox's control API every 50 ms until its
``available`` matches. Samples are spaced by a random 0-3 s so they do not
lock onto the beat's phase.
Goal: p95 <= 15 s (the p50 is reported alongside).
"""

from __future__ import annotations

import random
import statistics
import time
import uuid

from django.conf import settings
from django.core.management import call_command

from acorn.db.roles import owner_connection

SAMPLES = 30
PRODUCTS = 10
GOAL_P95 = 15.0
TIMEOUT = 60.0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def run(report):
    with owner_connection():
        call_command("migrate", verbosity=0)
    from acorn.services import tenant_create
    from acorn.tenancy import tenant_scope
    from channels.tests.stores.engine_support import shop_connect
    from channels.tests.stores.shopify_support import SHOPIFY_MOUNT
    from channels.tests.stores.worker_support import worker_and_beat
    from inventory.services import product_create, stock_adjust, stock_receive, warehouse_create
    from vendor_api.sandbox.testing import running_sandbox

    tenant = tenant_create(slug=f"bench-store-{uuid.uuid4().hex[:8]}", name="Bench store push")
    skus = [f"LAT-{index:03d}" for index in range(PRODUCTS)]
    rng = random.Random(7)
    latencies: list[float] = []
    with running_sandbox(purchase_orders=0, mounts=[SHOPIFY_MOUNT],
                         validate_responses=False) as sandbox:
        with tenant_scope(tenant, atomic=False):
            warehouse = warehouse_create(tenant=tenant, code="MAIN", name="Main")
            products = {}
            for sku in skus:
                products[sku] = product_create(tenant=tenant, sku=sku, name=sku)
                stock_receive(tenant=tenant, product=products[sku], warehouse=warehouse,
                              quantity=100, idempotency_key=f"bench-{sku}")
            store = shop_connect(tenant=tenant, sandbox_url=sandbox.base_url,
                                 warehouse=warehouse, skus=skus)
        expected = dict.fromkeys(skus, 100)
        with worker_and_beat(settings_module="acorn.settings.bench",
                             extra_env={"REDIS_URL": settings.REDIS_URL}):
            deadline = time.monotonic() + TIMEOUT
            while any(store.available(sku) != 100 for sku in skus):
                if time.monotonic() > deadline:
                    raise SystemExit("the first push never reached the sandbox")
                time.sleep(0.2)
            for sample in range(SAMPLES):
                time.sleep(rng.uniform(0, 3))
                sku = skus[sample % PRODUCTS]
                delta = rng.choice([-3, -2, -1, 1, 2, 3])
                with tenant_scope(tenant, atomic=False):
                    stock_adjust(tenant=tenant, product=products[sku], warehouse=warehouse,
                                 quantity=delta, reason="cycle count",
                                 idempotency_key=f"bench-{sample}-{uuid.uuid4().hex}")
                started = time.monotonic()
                expected[sku] += delta
                while store.available(sku) != expected[sku]:
                    if time.monotonic() - started > TIMEOUT:
                        raise SystemExit(f"sample {sample}: no change after {TIMEOUT} s")
                    time.sleep(0.05)
                latencies.append(time.monotonic() - started)
    p50 = statistics.median(latencies)
    p95 = _percentile(latencies, 0.95)
    parameters = {"samples": SAMPLES, "products": PRODUCTS, "beat_seconds": 3.0,
                  "worker_concurrency": 2, "max": round(max(latencies), 3)}
    report(name="store_push_latency_p50", value=p50, unit="s", goal="informational",
           baseline=None, ratio=None, passed=True, parameters=parameters)
    report(name="store_push_latency_p95", value=p95, unit="s", goal=f"<= {GOAL_P95:g} s",
           baseline=GOAL_P95, ratio=p95 / GOAL_P95, passed=p95 <= GOAL_P95,
           parameters=parameters)
