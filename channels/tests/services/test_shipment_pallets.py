"""Palletised shipments: cartons on pallets, SSCC-18s from one counter,
the ASN's pallets[] against Amazon's model and the sandbox, pallet labels."""

import pytest

from acorn.exceptions import ApplicationError
from channels.gs1 import gs1_is_valid
from channels.models import (
    AckAutoSend,
    AckStatus,
    Carton,
    DocumentType,
    Gs1Settings,
    Pallet,
    PurchaseOrder,
    ShipmentStatus,
    Submission,
    SubmissionStatus,
)
from channels.services.clients import account_client_build
from channels.services.labels import shipment_labels_pdf
from channels.services.purchase_orders import purchase_orders_sync
from channels.services.shipments import (
    PALLET_CARTON_TWICE,
    shipment_asn_payload,
    shipment_create,
    shipment_ship,
)
from channels.services.submissions import submission_payload_problems, submissions_poll
from channels.tests.services.test_acknowledgement_flow import stock_catalog

pytestmark = pytest.mark.django_db(transaction=True)


def accepted_lines(live, account, sandbox, fast_retries):
    """A PO Amazon accepted in full, stock mapped, a GS1 prefix set."""
    sandbox.state.generate(vendor_code="DEMO1", count=1, days=1)
    warehouse, _products = stock_catalog(live, account, sandbox)
    account.ack_auto_send = AckAutoSend.ALWAYS
    account.save()
    Gs1Settings.objects.create(tenant=live, company_prefix="0614141", extension_digit=3)
    purchase_orders_sync(tenant=live, account=account, **fast_retries)
    submissions_poll(tenant=live)
    po = PurchaseOrder.objects.get(state="New")
    assert po.ack_status == AckStatus.ACCEPTED
    lines = list(po.lines.filter(planned_accept__gt=0).order_by("item_sequence_number"))
    return warehouse, po, lines


def split_cartons(specs):
    """Two cartons per line where the quantity allows, else one."""
    cartons = []
    for index, spec in enumerate(specs):
        first = spec["quantity"] // 2
        for quantity in (first, spec["quantity"] - first):
            if quantity:
                cartons.append({"items": [{"line": index, "quantity": quantity}],
                                "weight_kg": "3.5", "length_cm": "40", "width_cm": "30",
                                "height_cm": "25"})
    return cartons


def test_palletised_asn_validates_and_amazon_accepts_it(live, live_account, sandbox,
                                                        fast_retries):
    """Cartons stacked N per pallet get SSCCs from the same counter as the
    pallets; the ASN lists pallets with their cartons and a pallet count,
    conforms to Amazon's model and is accepted; labels follow cartons."""
    # Given an accepted PO and its lines split into cartons
    warehouse, po, lines = accepted_lines(live, live_account, sandbox, fast_retries)
    specs = [{"po_line_id": ln.pk, "quantity": ln.planned_accept, "country_of_origin": "US"}
             for ln in lines]
    cartons = split_cartons(specs)
    # When a truck shipment is built with two cartons per pallet
    shipment = shipment_create(
        tenant=live, warehouse=warehouse, lines=specs, cartons=cartons, cartons_per_pallet=2,
        shipment_type="LessThanTruckLoad", carrier_scac="ABFS",
        bill_of_lading_number="BOL-778812",
    )
    # Then every carton is on a pallet, two per pallet, in order
    pallets = list(Pallet.objects.filter(shipment=shipment).order_by("sequence_number"))
    boxes = list(Carton.objects.filter(shipment=shipment).order_by("sequence_number"))
    assert len(pallets) == (len(boxes) + 1) // 2
    assert [c.pallet.sequence_number for c in boxes] == [i // 2 + 1 for i in range(len(boxes))]
    assert shipment.shipment_structure == "PalletizedAssortmentCase"
    # And cartons then pallets took consecutive, valid, unique SSCCs
    ssccs = [c.sscc for c in boxes] + [p.sscc for p in pallets]
    assert len(set(ssccs)) == len(ssccs)
    assert all(gs1_is_valid(s) and s.startswith("30614141") for s in ssccs)
    assert [int(s[8:17]) for s in ssccs] == list(range(1, len(ssccs) + 1))
    assert Gs1Settings.objects.get().next_serial == len(ssccs) + 1
    # And the ASN carries pallets with their cartons and a pallet count
    payload = shipment_asn_payload(shipment=shipment, confirmation_type="Original",
                                   now=shipment.created_at.replace(microsecond=0))
    assert submission_payload_problems(
        document_type=DocumentType.SHIPMENT_CONFIRMATION, payload=payload) == []
    (asn,) = payload["shipmentConfirmations"]
    assert asn["shipmentMeasurements"]["palletCount"] == len(pallets)
    assert "cartonCount" not in asn["shipmentMeasurements"]
    assert asn["shipmentMeasurements"]["grossShipmentWeight"]["unitOfMeasure"] == "Kg"
    first = asn["pallets"][0]
    assert first["palletIdentifiers"] == [
        {"containerIdentificationType": "SSCC", "containerIdentificationNumber": pallets[0].sscc}]
    assert first["cartonReferenceDetails"] == {"cartonCount": 2,
                                               "cartonReferenceNumbers": ["1", "2"]}
    assert asn["cartons"][0]["dimensions"] == {"length": "0.4", "width": "0.3",
                                               "height": "0.25", "unitOfMeasure": "Meter"}
    # When it ships and the ASN transaction is polled
    shipment, _warnings = shipment_ship(tenant=live, shipment_id=shipment.pk)
    submissions_poll(tenant=live)
    # Then Amazon accepted it and lists the pallets among its containers
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.CONFIRMED
    submission = Submission.objects.get(document_type=DocumentType.SHIPMENT_CONFIRMATION)
    assert submission.status == SubmissionStatus.SUCCESS
    assert submission.payload["shipmentConfirmations"][0]["pallets"]
    with account_client_build(account=live_account) as client:
        page = client.get_shipment_details_page(
            vendor_shipment_identifier=shipment.shipment_identifier)
    (detail,) = page.shipments
    assert detail.current_status == "Shipped"
    containers = detail.raw["containers"]
    assert {c["containerIdentifiers"][0]["containerIdentificationNumber"]
            for c in containers if c["containerType"] == "pallet"} == {p.sscc for p in pallets}
    # And the labels PDF has one page per carton, then one per pallet
    pdf = shipment_labels_pdf(shipment=shipment, cartons=boxes, pallets=pallets,
                              purchase_order_numbers=[po.number], ship_to=po.ship_to)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages == len(boxes) + len(pallets)


def test_explicit_pallets_reject_a_carton_on_two_pallets(live, live_account, sandbox,
                                                         fast_retries):
    """A carton can be on one pallet only; nothing is created otherwise."""
    # Given an accepted PO packed in at least two cartons
    warehouse, _po, lines = accepted_lines(live, live_account, sandbox, fast_retries)
    specs = [{"po_line_id": ln.pk, "quantity": ln.planned_accept} for ln in lines]
    cartons = split_cartons(specs)
    assert len(cartons) >= 2
    # When the same carton is put on two pallets
    with pytest.raises(ApplicationError) as error:
        shipment_create(tenant=live, warehouse=warehouse, lines=specs, cartons=cartons,
                        pallets=[{"cartons": [0, 1]}, {"cartons": [1]}])
    # Then it is refused, and no SSCC was spent
    assert error.value.message == PALLET_CARTON_TWICE.format(carton=2)
    assert Gs1Settings.objects.get().next_serial == 1
    assert not Pallet.objects.exists()
