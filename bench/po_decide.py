"""po_decide: the PO sync's parse and decision, per PO, without I/O.

20,000 sandbox POs of 10 lines (the po_sync data) as Amazon's JSON, in
pages of 100: hashed and parsed (``purchase_order_parse``: the prefetch
thread's work) and decided (``purchase_order_changes_decide``, the pure
function; half of each page stored before, with their lines, as in a
re-sync with changes). No database, no HTTP: this is the CPU a page costs
the sync besides its SQL.

Reported:
- po_decide_per_second: POs decided per second; goal >= 2,000 (twice the
  1,000 POs/s that Amazon's default rate of 10 pages/s delivers, so the
  decision never holds the sync back)
- po_parse_per_second: POs hashed and parsed per second (same goal; this
  runs in the prefetch threads while they wait for the rate limit)
"""

from __future__ import annotations

import time

PURCHASE_ORDERS = 20_000
PAGE_SIZE = 100
GOAL = 2_000.0


def run(report, *, purchase_orders: int = PURCHASE_ORDERS) -> None:
    from django.utils import timezone

    from bench.po_sync import _widen
    from channels.services.purchase_order_changes import (
        MappingIndex,
        StoredPurchaseOrder,
        purchase_order_changes_decide,
    )
    from channels.services.purchase_order_parse import PagePreparer
    from vendor_api.operations.orders import RawPurchaseOrderPage
    from vendor_api.sandbox.state import SandboxState
    from vendor_api.sandbox.testing import DEMO_VENDOR_CODE
    from vendor_api.sandbox.vendor import order_json

    state = SandboxState(purchase_orders=0, validate_responses=False)
    vendor = state.vendors[DEMO_VENDOR_CODE]
    orders = state.generate(vendor_code=DEMO_VENDOR_CODE, count=purchase_orders, days=6.9)
    _widen(orders, vendor.catalog)
    raws = [order_json(order) for order in orders]
    pages = [RawPurchaseOrderPage(orders=tuple(raws[start:start + PAGE_SIZE]), next_token=None)
             for start in range(0, len(raws), PAGE_SIZE)]
    # Every other catalog item mapped by ASIN, one by vendor product id.
    mappings = MappingIndex(
        by_asin={item.asin: (n + 1, 1) for n, item in enumerate(vendor.catalog[::2])},
        by_vendor_product={vendor.catalog[1].vendor_sku: (10_000, 6)},
    )

    preparer = PagePreparer(speculate=True)
    started = time.perf_counter()
    prepared = [preparer(page) for page in pages]
    parse_seconds = time.perf_counter() - started

    now = timezone.now()
    inputs = []
    for page_number, page in enumerate(prepared):
        stored, previous = {}, {}
        for index, raw in enumerate(page.orders[::2]):
            po_id = page_number * PAGE_SIZE + index + 1
            number = raw["purchaseOrderNumber"]
            stored[number] = StoredPurchaseOrder(
                id=po_id, content_hash="before", state="New", ack_status="accepted",
                amazon_changed_at=None)
            for item in raw["orderDetails"]["items"]:
                previous[(po_id, str(item["itemSequenceNumber"]))] = (12, 0)
        inputs.append(([(page.order(raw), page.digests[raw["purchaseOrderNumber"]])
                        for raw in page.orders], stored, previous))
    started = time.perf_counter()
    lines = 0
    for page_orders, stored, previous in inputs:
        changes = purchase_order_changes_decide(orders=page_orders, stored=stored,
                                                previous_lines=previous, mappings=mappings,
                                                now=now)
        lines += len(changes.lines)
    decide_seconds = time.perf_counter() - started

    parameters = {"purchase_orders": purchase_orders, "lines": lines, "page_size": PAGE_SIZE,
                  "parse_seconds": round(parse_seconds, 3),
                  "decide_seconds": round(decide_seconds, 3)}
    decide_rate = purchase_orders / decide_seconds
    parse_rate = purchase_orders / parse_seconds
    report(name="po_decide_per_second", value=decide_rate, unit="POs/s",
           goal=f">= {GOAL:,.0f} POs/s", baseline=None, ratio=None,
           passed=decide_rate >= GOAL, parameters=parameters)
    report(name="po_parse_per_second", value=parse_rate, unit="POs/s",
           goal=f">= {GOAL:,.0f} POs/s", baseline=None, ratio=None,
           passed=parse_rate >= GOAL, parameters=parameters)
