"""getPurchaseOrdersStatus sync: received quantities and shortages."""

import datetime

from django.utils import timezone

from channels.models import (
    ChannelException,
    ExceptionKind,
    PurchaseOrder,
    PurchaseOrderEventKind,
    PurchaseOrderLine,
    SyncStatus,
)
from channels.services.purchase_orders import purchase_order_statuses_sync, purchase_orders_sync
from channels.tests.services.test_purchase_orders_sync import _map_catalog


def test_status_sync_records_receipts_and_a_shortage(scope, sandbox, sandbox_account,
                                                     fast_retries):
    """Amazon received 2 fewer than shipped on line 1: SHORTAGE exception + event."""
    # Given a synced PO whose line 1 we shipped in full
    sandbox.state.generate(vendor_code="DEMO1", count=3, days=2)
    _map_catalog(scope, sandbox_account, sandbox)
    purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False, **fast_retries)
    number, sandbox_po = next((n, po) for n, po in sandbox.state.orders.items()
                              if po.lines[0].open_quantity > 2)
    ordered = sandbox_po.lines[0].open_quantity
    PurchaseOrderLine.objects.filter(purchase_order__number=number,
                                     item_sequence_number="1").update(shipped_quantity=ordered)
    # When Amazon receives 2 short and the status sync runs
    sandbox.control("POST", "/_sandbox/receive", {"purchase_order_number": number,
                                                  "received": {"1": ordered - 2}})
    later = timezone.now() + datetime.timedelta(seconds=2)
    run = purchase_order_statuses_sync(tenant=scope, account=sandbox_account, now=later,
                                       **fast_retries)
    # Then the PO shows Amazon's status and received quantity, and the shortage
    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    po = PurchaseOrder.objects.get(number=number)
    assert po.amazon_status == "CLOSED"
    line = po.lines.get(item_sequence_number="1")
    assert line.received_quantity == ordered - 2
    exception = ChannelException.objects.get(kind=ExceptionKind.SHORTAGE)
    assert exception.message == (f"PO {number} line 1: Amazon received {ordered - 2} of "
                                 f"{ordered} shipped (2 short).")
    assert po.events.filter(kind=PurchaseOrderEventKind.SHORTAGE).count() == 1
    # And a replay records nothing twice
    purchase_order_statuses_sync(tenant=scope, account=sandbox_account, now=later,
                                 **fast_retries)
    assert ChannelException.objects.filter(kind=ExceptionKind.SHORTAGE).count() == 1
    assert po.events.filter(kind=PurchaseOrderEventKind.SHORTAGE).count() == 1
