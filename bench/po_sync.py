"""po_sync: 20,000 POs x 10 lines from the sandbox into PostgreSQL.

One account syncs a sandbox holding 20,000 POs of 10 lines each, created
over the last 7 days (one 7-day window), through ``purchase_orders_sync``
exactly as the Celery task runs it: created and changed passes, pages of
100, the shared Redis token bucket, the call log hook.

getPurchaseOrders is raised from Amazon's default 10 rps / burst 10 to
RATE / BURST on both the sandbox and the client: at 10 rps the ideal
alone is 40 s per sync. The ratio is measured against the configured
rate. Acknowledgement planning (the other half of channels) is not run
(``plan=False``): this measures the sync.

Reported:
- po_sync_time_ratio: wall time of the first sync / (pages / RATE); goal <= 1.2
- po_sync_lines_per_second: lines upserted per second of the first sync
- po_sync_resync_rows_written: rows inserted/updated/deleted in the PO,
  line, event and exception tables by a no-change re-sync of the same
  window (pg_stat_user_tables deltas); goal 0
"""

from __future__ import annotations

import os
import time
import uuid

PURCHASE_ORDERS = 20_000
LINES_PER_PO = 10
RATE = 25.0
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


def _writes(tables) -> int:
    import psycopg
    from django.conf import settings

    # Statistics are flushed by backends about once a second when idle.
    time.sleep(2.5)
    url = settings.DATABASE_OWNER_URL.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as owner:
        row = owner.execute(
            "SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            "FROM pg_stat_user_tables WHERE relname = ANY(%s)", [list(tables)],
        ).fetchone()
    return int(row[0])


def run(report) -> None:
    from django.conf import settings
    from django.db import connection

    from acorn.services import tenant_create
    from acorn.tenancy import tenant_scope
    from channels.models import AccountEnvironment, AmazonVendorAccount, PurchaseOrderLine
    from channels.services.accounts import account_create
    from channels.services.purchase_orders import purchase_orders_sync
    from inventory.models import Product, StockLevel
    from vendor_api.limits import RedisTokenBucket, UsagePlan
    from vendor_api.sandbox.testing import running_sandbox

    redis_url = getattr(settings, "REDIS_URL", "") or os.environ.get(
        "REDIS_URL", "redis://127.0.0.1:6379/14")
    key_prefix = f"bench-po-sync-{uuid.uuid4().hex[:8]}:"
    limiter = RedisTokenBucket.from_url(redis_url, key_prefix=key_prefix)
    plan = UsagePlan(rate=RATE, burst=BURST)
    suffix = uuid.uuid4().hex[:8]
    with running_sandbox(purchase_orders=0, validate_responses=False) as sandbox:
        sandbox.state.scenario.rate_limits["getPurchaseOrders"] = plan
        vendor = sandbox.state.vendors[sandbox.vendor_code]
        started = time.monotonic()
        orders = sandbox.state.generate(vendor_code=sandbox.vendor_code,
                                        count=PURCHASE_ORDERS, days=6.9)
        _widen(orders, vendor.catalog)
        generation_seconds = time.monotonic() - started
        tenant = tenant_create(slug=f"bench-sync-{suffix}", name="Bench sync")
        with tenant_scope(tenant):
            account = account_create(
                tenant=tenant, name="Bench", region="NA", marketplace_id="ATVPDKIKX0DER",
                environment=AccountEnvironment.LOCAL_SANDBOX, endpoint_override=sandbox.base_url,
                vendor_codes=[sandbox.vendor_code], lwa_client_id=sandbox.credentials.client_id,
                lwa_client_secret=sandbox.credentials.client_secret,
                lwa_refresh_token=sandbox.credentials.refresh_token, initial_lookback_days=7,
            )
            products = Product.objects.bulk_create([
                Product(tenant=tenant, sku=f"B-{item.vendor_sku}", name=item.vendor_sku)
                for item in vendor.catalog
            ])
            StockLevel.objects.bulk_create([StockLevel(tenant=tenant, product=p)
                                            for p in products])
            from channels.models import SkuMapping

            SkuMapping.objects.bulk_create([
                SkuMapping(tenant=tenant, account=account, asin=item.asin,
                           vendor_product_id=item.vendor_sku, product=product)
                for item, product in zip(vendor.catalog, products, strict=True)
            ])
        options = {"limiter": limiter, "usage_plans": {"getPurchaseOrders": plan}}

        with tenant_scope(tenant, atomic=False):
            started = time.monotonic()
            first = purchase_orders_sync(tenant=tenant, account=account, plan=False, **options)
            first_seconds = time.monotonic() - started
            lines = PurchaseOrderLine.objects.filter(tenant=tenant).count()
            # A no-change re-sync re-reads the same whole window.
            AmazonVendorAccount.objects.filter(tenant=tenant, pk=account.pk).update(
                po_changed_high_water=None)
            data_before, log_before = _writes(DATA_TABLES), _writes(LOG_TABLES)
            started = time.monotonic()
            second = purchase_orders_sync(tenant=tenant, account=account, plan=False, **options)
            second_seconds = time.monotonic() - started
            data_after, log_after = _writes(DATA_TABLES), _writes(LOG_TABLES)
        stats = sandbox.stats()
    connection.close()
    for key in limiter.redis.scan_iter(f"{key_prefix}*"):
        limiter.redis.delete(key)

    pages = first.counts.get("pages", 0)
    ideal = pages / RATE
    ratio = first_seconds / ideal if ideal else float("inf")
    parameters = {
        "purchase_orders": PURCHASE_ORDERS, "lines_per_po": LINES_PER_PO,
        "rate": RATE, "burst": BURST, "amazon_default_rate": 10.0, "pages": pages,
        "ideal_seconds": round(ideal, 2), "first_sync_seconds": round(first_seconds, 2),
        "first_status": first.status, "first_error": first.error_message[:200],
        "created": first.counts.get("created", 0), "lines": lines,
        "resync_seconds": round(second_seconds, 2),
        "resync_unchanged": second.counts.get("unchanged", 0),
        "resync_rows_written": data_after - data_before,
        "resync_log_rows_written": log_after - log_before,
        "sandbox_429": stats.get("responses:429", 0),
        "generation_seconds": round(generation_seconds, 2),
    }
    report(
        name="po_sync_time_ratio", value=ratio, unit="x rate-limit ideal",
        goal="<= 1.2", baseline=ideal, ratio=ratio,
        passed=ratio <= 1.2 and first.status == "succeeded", parameters=parameters,
    )
    report(
        name="po_sync_lines_per_second", value=lines / first_seconds if first_seconds else 0,
        unit="lines/s", goal="informational", baseline=None, ratio=None, passed=True,
        parameters={"lines": lines, "seconds": round(first_seconds, 2)},
    )
    report(
        name="po_sync_resync_rows_written", value=data_after - data_before, unit="rows",
        goal="== 0", baseline=None, ratio=None, passed=data_after - data_before == 0,
        parameters={"resync_rows_written": data_after - data_before,
                    "resync_log_rows_written": log_after - log_before,
                    "resync_seconds": round(second_seconds, 2)},
    )
