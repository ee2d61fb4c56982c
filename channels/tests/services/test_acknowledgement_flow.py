"""From sandbox POs to an acknowledgement Amazon accepted, over real HTTP."""

import pytest

from channels.models import (
    AckAutoSend,
    AckStatus,
    DocumentType,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderEventKind,
    Submission,
    SubmissionStatus,
)
from channels.services.acknowledgements import acknowledgement_send
from channels.services.purchase_orders import purchase_orders_sync
from channels.services.submissions import submissions_poll
from channels.tests.factories import SkuMappingFactory
from inventory.services.stock import stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory
from vendor_api import conformance


def stock_catalog(tenant, account, sandbox, *, on_hand=10_000):
    """Map every sandbox catalog item to a product with ``on_hand`` units."""
    warehouse = WarehouseFactory(tenant=tenant, code="MAIN")
    products = {}
    for item in sandbox.state.vendors["DEMO1"].catalog:
        product = ProductFactory(tenant=tenant, sku=f"P-{item.vendor_sku}")
        SkuMappingFactory(tenant=tenant, account=account, asin=item.asin,
                          vendor_product_id=item.vendor_sku, product=product)
        if on_hand:
            stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=on_hand)
        products[item.asin] = product
    return warehouse, products


@pytest.mark.django_db(transaction=True)
def test_sandbox_pos_are_planned_sent_and_accepted(live, sandbox, live_account, fast_retries):
    """Synced POs are planned from stock, auto-sent once, and Amazon accepts them."""
    # Given two new POs at Amazon, every item mapped and plenty of stock
    sandbox.state.generate(vendor_code="DEMO1", count=2, days=1)
    stock_catalog(live, live_account, sandbox)
    live_account.ack_auto_send = AckAutoSend.WHEN_FULLY_AVAILABLE
    live_account.save()
    # When the account syncs (planning and sending run after commit)
    purchase_orders_sync(tenant=live, account=live_account, **fast_retries)
    # Then every PO was fully accepted and its acknowledgement sent once
    pos = list(PurchaseOrder.objects.filter(state="New"))
    assert pos
    for po in pos:
        assert po.ack_status == AckStatus.SUBMITTED, po.ack_status
        assert all(line.planned_accept == line.ordered_quantity for line in po.lines.all())
    submissions = Submission.objects.filter(document_type=DocumentType.ACKNOWLEDGEMENT)
    assert submissions.count() == len(pos)
    assert set(submissions.values_list("status", flat=True)) == {SubmissionStatus.SENT}
    for submission in submissions:
        assert conformance.validate_request(
            operation_id="submitAcknowledgement", body=submission.payload) == []
    # When the transactions are polled
    submissions_poll(tenant=live)
    # Then Amazon's Success shows on every PO, and Amazon has them acknowledged
    for po in pos:
        po.refresh_from_db()
        assert po.ack_status == AckStatus.ACCEPTED
        assert PurchaseOrderEvent.objects.filter(
            purchase_order=po, kind=PurchaseOrderEventKind.ACK_ACCEPTED).exists()
        assert sandbox.state.orders[po.number].state == "Acknowledged"
    # When ops ask to send the same version again
    again = acknowledgement_send(tenant=live, purchase_order=pos[0])
    # Then nothing new is submitted
    assert again.document_version == 1
    acks = sandbox.control("GET", "/_sandbox/submissions?kind=acknowledgement")["submissions"]
    assert len(acks) == len(pos)


@pytest.mark.django_db(transaction=True)
def test_amazon_cancellation_after_acknowledgement_releases_the_hold(
    live, sandbox, live_account, fast_retries
):
    """Amazon cancels a line of an acknowledged PO: the next sync flags the
    PO and releases exactly that line's held units; the rest stay held."""
    import datetime

    from django.utils import timezone

    from inventory.models import StockLevel

    # Given an acknowledged PO with two lines, their units held
    sandbox.state.generate(vendor_code="DEMO1", count=4, days=1)
    _warehouse, products = stock_catalog(live, live_account, sandbox)
    live_account.ack_auto_send = AckAutoSend.WHEN_FULLY_AVAILABLE
    live_account.save()
    purchase_orders_sync(tenant=live, account=live_account, **fast_retries)
    submissions_poll(tenant=live)
    po = next(
        po for po in PurchaseOrder.objects.filter(ack_status=AckStatus.ACCEPTED)
        if po.lines.filter(ordered_quantity__gt=0).count() >= 2
        and len({line.product_id for line in po.lines.all()}) == po.lines.count()
    )
    line1, line2 = po.lines.order_by("item_sequence_number")[:2]
    held_before = dict(StockLevel.objects.values_list("product_id", "held"))
    # When Amazon cancels line 2 and the account syncs again
    sandbox.control(
        "POST", f"/_sandbox/purchase-orders/{po.number}/change",
        {"cancel": [line2.item_sequence_number]},
    )
    later = timezone.now() + datetime.timedelta(seconds=2)
    purchase_orders_sync(tenant=live, account=live_account, now=later, **fast_retries)
    # Then the PO is flagged for review and line 2's units are released
    po.refresh_from_db()
    assert po.changed_after_ack
    held_after = dict(StockLevel.objects.values_list("product_id", "held"))
    released = line2.planned_accept * line2.units_per_order_unit
    assert held_after[line2.product_id] == held_before[line2.product_id] - released
    assert held_after[line1.product_id] == held_before[line1.product_id]
