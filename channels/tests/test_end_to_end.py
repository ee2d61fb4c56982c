"""The whole vendor flow over real HTTP to the sandbox: POs -> sync ->
planned acknowledgement -> submission -> Success -> shipment + ASN ->
Success -> Amazon receives short, visible per line. Every payload sent is
checked against Amazon's official models."""

import datetime

import pytest
from django.utils import timezone

from channels.gs1 import gs1_is_valid
from channels.models import (
    AckAutoSend,
    AckStatus,
    Carton,
    DocumentType,
    Gs1Settings,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderEventKind,
    ShipmentStatus,
    Submission,
    SubmissionStatus,
)
from channels.services.labels import shipment_labels_pdf
from channels.services.purchase_orders import purchase_order_statuses_sync, purchase_orders_sync
from channels.services.shipments import shipment_create, shipment_ship
from channels.services.submissions import submissions_poll
from channels.tests.services.test_acknowledgement_flow import stock_catalog
from inventory.models import MovementKind, StockLevel, StockMovement
from inventory.selectors.stock import stock_consistency_check
from vendor_api import conformance

OPERATIONS = {
    DocumentType.ACKNOWLEDGEMENT: "submitAcknowledgement",
    DocumentType.SHIPMENT_CONFIRMATION: "SubmitShipmentConfirmations",
}


@pytest.mark.django_db(transaction=True)
def test_po_to_receipt_with_shortage(live, live_account, sandbox, fast_retries):
    # Given POs at Amazon, mapped stock and a GS1 prefix
    sandbox.state.generate(vendor_code="DEMO1", count=3, days=1)
    warehouse, _products = stock_catalog(live, live_account, sandbox)
    live_account.ack_auto_send = AckAutoSend.ALWAYS
    live_account.save()
    Gs1Settings.objects.create(tenant=live, company_prefix="0614141", extension_digit=1)
    # When POs sync, plans are sent and the transactions polled
    purchase_orders_sync(tenant=live, account=live_account, **fast_retries)
    submissions_poll(tenant=live)
    po = PurchaseOrder.objects.filter(state="New").order_by("number").first()
    po.refresh_from_db()
    # Then the PO is acknowledged at Amazon
    assert po.ack_status == AckStatus.ACCEPTED
    assert sandbox.state.orders[po.number].state == "Acknowledged"
    lines = list(po.lines.filter(planned_accept__gt=0).order_by("item_sequence_number"))
    held_before = {ln.product_id: StockLevel.objects.get(product_id=ln.product_id).held
                   for ln in lines}
    # When the accepted lines ship in two cartons, 30 minutes ago
    specs = [{"po_line_id": ln.pk, "quantity": ln.planned_accept, "country_of_origin": "US"}
             for ln in lines]
    first_half = [{"line": i, "quantity": s["quantity"]} for i, s in enumerate(specs) if i % 2 == 0]
    second_half = [{"line": i, "quantity": s["quantity"]} for i, s in enumerate(specs) if i % 2]
    cartons = [{"items": first_half, "weight_kg": "4.2"}]
    if second_half:
        cartons.append({"items": second_half})
    shipment = shipment_create(tenant=live, warehouse=warehouse, lines=specs, cartons=cartons)
    shipment, warnings = shipment_ship(tenant=live, shipment_id=shipment.pk)
    assert warnings == []
    # Then cartons carry valid SSCCs from the tenant's counter
    ssccs = list(Carton.objects.filter(shipment=shipment).values_list("sscc", flat=True))
    assert all(gs1_is_valid(s) and s.startswith("10614141") for s in ssccs)
    pdf = shipment_labels_pdf(shipment=shipment, cartons=list(shipment.cartons.all()),
                              purchase_order_numbers=[po.number], ship_to=po.ship_to)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= len(ssccs)
    # And holds were consumed into shipment movements that the ledger agrees with
    for ln in lines:
        units = ln.planned_accept * ln.units_per_order_unit
        level = StockLevel.objects.get(product_id=ln.product_id)
        assert level.held == held_before[ln.product_id] - units
    moved = StockMovement.objects.filter(kind=MovementKind.SHIPMENT, source_ref=str(po.pk))
    assert -sum(m.quantity for m in moved) == sum(
        ln.planned_accept * ln.units_per_order_unit for ln in lines)
    assert stock_consistency_check(tenant=live) == []
    # When the ASN transaction is polled
    submissions_poll(tenant=live)
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.CONFIRMED
    assert PurchaseOrderEvent.objects.filter(purchase_order=po,
                                             kind=PurchaseOrderEventKind.SHIPPED).exists()
    # When Amazon receives one unit short on the first line
    short_line = lines[0]
    received = {ln.item_sequence_number: ln.planned_accept for ln in lines}
    received[short_line.item_sequence_number] -= 1
    sandbox.control("POST", "/_sandbox/receive",
                    {"purchase_order_number": po.number, "received": received})
    # (a second later: the status window ends at whole seconds)
    purchase_order_statuses_sync(tenant=live, account=live_account,
                                 now=timezone.now() + datetime.timedelta(seconds=2),
                                 **fast_retries)
    # Then the shortage is visible on that line only
    short_line.refresh_from_db()
    assert short_line.received_quantity == short_line.shipped_quantity - 1
    for ln in lines[1:]:
        ln.refresh_from_db()
        assert ln.received_quantity == ln.shipped_quantity
    # And every payload we sent conforms to Amazon's models, each sent once
    for submission in Submission.objects.all():
        assert submission.status == SubmissionStatus.SUCCESS
        assert conformance.validate_request(
            operation_id=OPERATIONS[submission.document_type], body=submission.payload) == []
    at_amazon = sandbox.control("GET", "/_sandbox/submissions")["submissions"]
    assert len(at_amazon) == Submission.objects.count()
