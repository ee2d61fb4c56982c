"""The PO sync's writes (one set-based statement per table) keep their
rules: a repeated sync stores the same rows, a re-sync writes nothing,
Amazon's change and cancellation become events once, unmapped lines open
one exception each."""

import datetime

from django.utils import timezone

from channels.models import (
    ChannelException,
    ExceptionKind,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderEventKind,
    PurchaseOrderLine,
    SyncStatus,
)
from channels.services.purchase_orders import purchase_orders_sync
from channels.tests.factories import SkuMappingFactory
from inventory.tests.factories import ProductFactory


def _map_catalog(tenant, account, sandbox, *, skip=()):
    for item in sandbox.state.vendors["DEMO1"].catalog:
        if item.asin not in skip:
            SkuMappingFactory(
                tenant=tenant, account=account, asin=item.asin,
                vendor_product_id=item.vendor_sku,
                product=ProductFactory(tenant=tenant, sku=f"P-{item.vendor_sku}"),
            )


def _snapshot():
    pos = list(PurchaseOrder.objects.order_by("number").values(
        "number", "state", "total_cost", "content_hash", "ack_status", "ordered_at",
        "ack_deadline_at", "ship_to_party_id", "has_unmapped_lines"))
    lines = list(PurchaseOrderLine.objects.order_by(
        "purchase_order__number", "item_sequence_number").values(
        "purchase_order__number", "item_sequence_number", "asin", "ordered_quantity",
        "net_cost", "product__sku", "cancelled_quantity", "units_per_order_unit"))
    events = sorted(PurchaseOrderEvent.objects.values_list(
        "purchase_order__number", "kind", "dedupe_key"))
    return pos, lines, events


def test_a_repeated_sync_stores_the_same_rows_and_records_facts_once(
    scope, sandbox, sandbox_account, fast_retries
):
    """Same POs, lines and events from a sync of the same orders into an
    empty account; re-sync writes nothing; Amazon's change and
    cancellation become events once; unmapped lines open one exception
    each."""
    # Given POs at Amazon and a catalog with one ASIN left unmapped
    sandbox.state.generate(vendor_code="DEMO1", count=12, days=2)
    unmapped = sandbox.state.vendors["DEMO1"].catalog[0].asin
    _map_catalog(scope, sandbox_account, sandbox, skip={unmapped})
    # When the account syncs, and the result is put aside
    purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False, **fast_retries)
    by_sql = _snapshot()
    exceptions_by_sql = ChannelException.objects.filter(kind=ExceptionKind.UNMAPPED_LINE).count()
    PurchaseOrder.objects.all().delete()
    ChannelException.objects.all().delete()
    type(sandbox_account).objects.filter(pk=sandbox_account.pk).update(po_changed_high_water=None)
    # And the same orders are synced again into the emptied account
    run = purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False, **fast_retries)
    # Then the same rows are stored
    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    assert _snapshot() == by_sql
    assert ChannelException.objects.filter(
        kind=ExceptionKind.UNMAPPED_LINE).count() == exceptions_by_sql > 0
    # When nothing changed and it syncs the whole window again
    type(sandbox_account).objects.filter(pk=sandbox_account.pk).update(po_changed_high_water=None)
    again = purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False,
                                 **fast_retries)
    assert again.counts["unchanged"] == 12 and again.counts.get("created", 0) == 0
    # When Amazon changes one line and cancels another
    number = next(n for n, po in sandbox.state.orders.items() if len(po.lines) >= 2
                  and all(line.cancelled == 0 for line in po.lines))
    sandbox.control("POST", f"/_sandbox/purchase-orders/{number}/change",
                    {"lines": {"1": 3}, "cancel": ["2"]})
    later = timezone.now() + datetime.timedelta(seconds=2)
    for _ in range(2):
        purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False, now=later,
                             **fast_retries)
    # Then both facts are recorded once and the lines updated
    po = PurchaseOrder.objects.get(number=number)
    kinds = list(po.events.values_list("kind", flat=True))
    assert kinds.count(PurchaseOrderEventKind.CHANGED) == 1
    assert kinds.count(PurchaseOrderEventKind.CANCELLED) == 1
    line1, line2 = po.lines.order_by("item_sequence_number")[:2]
    assert (line1.ordered_quantity, line2.ordered_quantity) == (3, 0)
    assert line2.cancelled_quantity > 0

