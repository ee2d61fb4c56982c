"""atp_bulk: available-to-promise of 50,000 products on one channel, with a
constant number of queries (goal <= 2 s).

The channel has a default buffer rule that also promises inbound stock
within a 28-day horizon, so the inbound query runs too (the worst case).
The catalog is created once and reused by later runs.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acorn.db.roles import owner_connection

PRODUCTS = 50_000
BATCH = 5_000  # rows per INSERT: bounded memory, a few hundred ms each
SLUG = "bench-atp"
GOAL_SECONDS = 2.0


def _catalog():
    from acorn.models import Tenant
    from acorn.services import tenant_create
    from acorn.tenancy import tenant_scope
    from inventory.models import InboundSupply, Product, StockLevel
    from inventory.services import channel_rule_set, warehouse_create

    tenant = Tenant.objects.filter(slug=SLUG).first() or tenant_create(slug=SLUG, name="Bench ATP")
    with tenant_scope(tenant):
        if Product.objects.filter(tenant=tenant).count() >= PRODUCTS:
            return tenant
        warehouse = warehouse_create(tenant=tenant, code="MAIN", name="Main")
        today = timezone.now().date()
        for start in range(0, PRODUCTS, BATCH):
            products = Product.objects.bulk_create([
                Product(tenant=tenant, sku=f"ATP-{i:06d}", name=f"Bench {i}", safety_stock=i % 5)
                for i in range(start, start + BATCH)
            ])
            StockLevel.objects.bulk_create([
                StockLevel(tenant=tenant, product=p, on_hand=p.pk % 100,
                           held=min(p.pk % 7, p.pk % 100))
                for p in products
            ])
            InboundSupply.objects.bulk_create([
                InboundSupply(tenant=tenant, product=p, warehouse=warehouse, quantity=24,
                              expected_on=today + timedelta(days=p.pk % 40), reference="PO-IN")
                for p in products[::3]
            ])
        channel_rule_set(tenant=tenant, channel="amazon_vendor",
                         allocation_percent=Decimal("80"), keep_back=2, max_listed=500,
                         include_inbound=True, inbound_horizon_days=28)
    return tenant


def run(report):
    with owner_connection():
        call_command("migrate", verbosity=0)
    from acorn.tenancy import tenant_scope
    from inventory.selectors import atp_for_products

    tenant = _catalog()
    timings = []
    with tenant_scope(tenant):
        for _ in range(3):
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                atp = atp_for_products(tenant=tenant, channel="amazon_vendor")
                timings.append(time.perf_counter() - began)
    best = min(timings)
    # Statements the ORM ran (the RLS set_config goes straight to the
    # cursor and is not captured: one more round trip per transaction).
    query_count = len(queries.captured_queries)
    report(
        name="atp_bulk", value=best, unit="s", goal=f"<= {GOAL_SECONDS} s",
        baseline=None, ratio=None, passed=best <= GOAL_SECONDS and len(atp) >= PRODUCTS,
        parameters={
            "products": len(atp), "queries": query_count,
            "runs_seconds": [round(t, 3) for t in timings],
            "available_units": sum(row.available for row in atp.values()),
        },
    )
