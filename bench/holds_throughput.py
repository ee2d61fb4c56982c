"""holds_throughput: PO holds per second with 8 concurrent workers on
PostgreSQL, and how many units were promised beyond on-hand (goal 0).

Each worker is a process (as Celery workers are) with its own connection
and tenant scope, placing one-line holds of 1-3 units on random products
through ``inventory.services.stock_hold_place`` (the path the channels app
uses), until the stock of most products runs out. Threads would measure
the GIL, not the service: with 8 threads one core runs all the Python.
Oversold = sum over products of max(held + reserved - on_hand, 0), plus
any unit the ledger check finds.
Goal: >= 300 holds/s, 0 oversold.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
import uuid

from django.core.management import call_command
from django.db import connections

from acorn.db.roles import owner_connection

WORKERS = 8
PRODUCTS = 300
UNITS = 20
ATTEMPTS_PER_WORKER = 500
GOAL = 300.0


def _setup():
    from acorn.services import tenant_create
    from acorn.tenancy import tenant_scope
    from inventory.models import Product, StockLevel
    from inventory.services import stock_receive, warehouse_create

    tenant = tenant_create(slug=f"bench-holds-{uuid.uuid4().hex[:8]}", name="Bench holds")
    with tenant_scope(tenant):
        warehouse = warehouse_create(tenant=tenant, code="MAIN", name="Main")
        products = Product.objects.bulk_create(
            [Product(tenant=tenant, sku=f"H-{i:05d}", name=f"Bench {i}") for i in range(PRODUCTS)]
        )
        StockLevel.objects.bulk_create([StockLevel(tenant=tenant, product=p) for p in products])
        for product in products:
            stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=UNITS)
    return tenant, [p.pk for p in products]


def run(report):
    with owner_connection():
        call_command("migrate", verbosity=0)
    from acorn.tenancy import tenant_scope
    from inventory.models import StockLevel
    from inventory.selectors import stock_consistency_check
    from inventory.services import InsufficientStockError, stock_hold_place

    tenant, product_ids = _setup()
    # Forked children must not share the parent's database connection.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    start = context.Barrier(WORKERS + 1)
    results = context.Queue()

    def worker(index):
        rng = random.Random(index)
        ok = refused = 0
        try:
            with tenant_scope(tenant, atomic=False):
                start.wait()
                for attempt in range(ATTEMPTS_PER_WORKER):
                    product_id = rng.choice(product_ids)
                    key = f"{index}:{attempt}"
                    try:
                        stock_hold_place(
                            tenant=tenant,
                            lines=[{"product_id": product_id, "quantity": rng.randint(1, 3)}],
                            source_type="amazon_po",
                            source_ref=key,
                            idempotency_key=key,
                            channel="amazon_vendor",
                        )
                        ok += 1
                    except InsufficientStockError:
                        refused += 1
        finally:
            results.put((ok, refused))
            connections.close_all()

    processes = [context.Process(target=worker, args=(i,)) for i in range(WORKERS)]
    for process in processes:
        process.start()
    # The machine may be shared: the load when the run starts goes with it.
    load_before = os.getloadavg()[0]
    start.wait()
    began = time.perf_counter()
    counts = {"ok": 0, "refused": 0}
    for _ in processes:
        ok, refused = results.get(timeout=600)
        counts["ok"] += ok
        counts["refused"] += refused
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join()
    with tenant_scope(tenant):
        levels = StockLevel.objects.filter(tenant=tenant).values_list("on_hand", "held", "reserved")
        oversold = sum(max(held + reserved - on_hand, 0) for on_hand, held, reserved in levels)
        mismatches = stock_consistency_check(tenant=tenant)
    oversold += sum(abs(m.stored - m.recomputed) for m in mismatches)
    rate = counts["ok"] / elapsed
    report(
        name="holds_throughput",
        value=rate,
        unit="holds/s",
        goal=f">= {GOAL:.0f} holds/s",
        baseline=None,
        ratio=None,
        passed=rate >= GOAL and oversold == 0,
        parameters={
            "workers": WORKERS,
            "products": PRODUCTS,
            "units_per_product": UNITS,
            "placed": counts["ok"],
            "refused": counts["refused"],
            "attempts_per_second": round((counts["ok"] + counts["refused"]) / elapsed, 1),
            "seconds": round(elapsed, 2),
            "oversold": oversold,
            "load_1m_before": round(load_before, 2),
            "load_1m_after": round(os.getloadavg()[0], 2),
        },
    )
