"""The client's requests and parsers against Amazon's own models."""

import datetime
from decimal import Decimal

import pytest

from vendor_api import conformance
from vendor_api.limits import DEFAULT_USAGE_PLANS
from vendor_api.operations.invoices import Invoice, InvoiceItem, InvoiceType, TaxDetail
from vendor_api.operations.orders import (
    AcknowledgementCode,
    AcknowledgementItem,
    ItemAcknowledgement,
    OrderAcknowledgement,
    OrderStatus,
    PurchaseOrder,
    RejectionReason,
    submit_acknowledgement_body,
)
from vendor_api.operations.reports import Report, VendorReportType, create_report_body
from vendor_api.operations.shipments import (
    Carton,
    ContainerIdentificationType,
    ContainerIdentifier,
    ContainerItem,
    ShipmentConfirmation,
    ShipmentConfirmationType,
    ShipmentDetail,
    ShippedItem,
    ShippedItemDetails,
    TransactionType,
    TransportLabel,
    TransportRequest,
)
from vendor_api.operations.transactions import Transaction
from vendor_api.types import Address, ItemQuantity, Money, Party, TaxRegistration

NOW = datetime.datetime(2026, 3, 2, 10, 30, tzinfo=datetime.UTC)


def _parse_example(operation_id: str, response: dict) -> object:
    """Feed an official sandbox response to the client's parser for that operation."""
    payload = response.get("payload") if isinstance(response, dict) else None
    parsers = {
        "getPurchaseOrders": lambda: [PurchaseOrder.parse(o) for o in payload["orders"]],
        "getPurchaseOrder": lambda: PurchaseOrder.parse(payload),
        "getPurchaseOrdersStatus": lambda: [OrderStatus.parse(o) for o in payload["ordersStatus"]],
        "GetShipmentDetails": lambda: [ShipmentDetail.parse(s) for s in payload["shipments"]],
        "GetShipmentLabels": lambda: [TransportLabel.parse(t) for t in payload["transportLabels"]],
        "getTransaction": lambda: Transaction.parse(payload["transactionStatus"]),
        "getReport": lambda: Report.parse(response),
    }
    if payload is None or operation_id not in parsers:
        return response
    return parsers[operation_id]()


CLIENT_OPERATIONS = {
    "getPurchaseOrders", "getPurchaseOrder", "submitAcknowledgement", "getPurchaseOrdersStatus",
    "SubmitShipmentConfirmations", "SubmitShipments", "GetShipmentDetails", "GetShipmentLabels",
    "submitInvoices", "getTransaction", "createReport", "getReport", "getReportDocument",
}
EXAMPLES = [
    e for e in conformance.sandbox_examples()
    if e.status < 300 and e.operation_id in CLIENT_OPERATIONS
]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.label for e in EXAMPLES])
def test_official_sandbox_examples_parse(example):
    """Every official success example parses, even the ones that break the schema."""
    # Given Amazon's own example response for the operation
    # When the client's parser reads it
    parsed = _parse_example(example.operation_id, example.response)
    # Then it yields typed objects without raising
    assert parsed is not None


def test_parser_is_lenient_about_enum_case_and_keeps_decimals():
    """'CASES' (in Amazon's example) maps to Cases; amounts stay exact Decimals."""
    order = PurchaseOrder.parse({
        "purchaseOrderNumber": "2JK3S9VC",
        "orderDetails": {"items": [{
            "itemSequenceNumber": "1", "isBackOrderAllowed": False,
            "orderedQuantity": {"amount": 2, "unitOfMeasure": "CASES", "unitSize": 12},
            "netCost": {"amount": "346.27", "currencyCode": "USD"},
        }], "purchaseOrderDate": "2019-08-20T15:51:00Z"},
    })
    assert str(order.items[0].ordered_quantity.unit_of_measure) == "Cases"
    assert order.items[0].net_cost.amount == Decimal("346.27")
    assert order.purchase_order_date.tzinfo is not None
    assert order.state is None


def _party(party_id: str) -> Party:
    return Party(
        party_id=party_id,
        address=Address(name="ACME GmbH", address_line1="Hauptstr. 1", country_code="DE",
                        city="Berlin", postal_code="10115"),
        tax_registrations=(TaxRegistration(registration_type="VAT", number="DE123456789"),),
    )


def test_acknowledgement_body_validates():
    # Given a split acknowledgement (accepted + backordered + rejected)
    ack = OrderAcknowledgement(
        purchase_order_number="2JK3S9VC", selling_party=_party("DEMO1"), acknowledgement_date=NOW,
        items=(AcknowledgementItem(
            item_sequence_number="1", amazon_product_identifier="B07DFVDRAB",
            ordered_quantity=ItemQuantity(amount=10),
            net_cost=Money(amount=Decimal("10.20"), currency_code="USD"),
            acknowledgements=(
                ItemAcknowledgement(code=AcknowledgementCode.ACCEPTED,
                                    quantity=ItemQuantity(amount=7), scheduled_ship_date=NOW),
                ItemAcknowledgement(code=AcknowledgementCode.BACKORDERED,
                                    quantity=ItemQuantity(amount=2)),
                ItemAcknowledgement(code=AcknowledgementCode.REJECTED,
                                    quantity=ItemQuantity(amount=1),
                                    rejection_reason=RejectionReason.OBSOLETE_PRODUCT),
            ),
        ),),
    )
    # When it is built
    body = submit_acknowledgement_body(acknowledgements=[ack])
    # Then it conforms to the model, money as a string and taxInfo as one object
    assert conformance.validate_request(operation_id="submitAcknowledgement", body=body) == []
    assert body["acknowledgements"][0]["items"][0]["netCost"]["amount"] == "10.20"
    assert "taxInfo" in body["acknowledgements"][0]["sellingParty"]


def test_shipment_bodies_validate():
    asn = ShipmentConfirmation(
        shipment_identifier="ASN-0001", confirmation_type=ShipmentConfirmationType.ORIGINAL,
        confirmation_date=NOW, selling_party=_party("DEMO1"), ship_from_party=_party("WH1"),
        ship_to_party=Party(party_id="ABE2"), shipped_date=NOW, carton_count=1,
        shipped_items=(ShippedItem(
            item_sequence_number="001", amazon_product_identifier="B07DFVDRAB",
            shipped_quantity=ItemQuantity(amount=10),
            details=ShippedItemDetails(purchase_order_number="2JK3S9VC", lot_number="L1",
                                       country_of_origin="DE"),
        ),),
        cartons=(Carton(
            carton_sequence_number="1",
            identifiers=(ContainerIdentifier(kind=ContainerIdentificationType.SSCC,
                                             number="003456789012345675"),),
            items=(ContainerItem(item_reference="001", shipped_quantity=ItemQuantity(amount=10)),),
        ),),
    )
    body = {"shipmentConfirmations": [asn.to_json()]}
    assert conformance.validate_request(
        operation_id="SubmitShipmentConfirmations", body=body) == []
    request = TransportRequest(
        vendor_shipment_identifier="00050003", transaction_type=TransactionType.NEW,
        transaction_date=NOW, selling_party=_party("DEMO1"), ship_from_party=_party("WH1"),
        ship_to_party=Party(party_id="ABE2"), freight_term="Collect", requested_pick_up=NOW,
    )
    assert conformance.validate_request(
        operation_id="SubmitShipments", body={"shipments": [request.to_json()]}) == []


def test_invoice_body_validates_with_integer_sequence_and_postal_or_zip():
    invoice = Invoice(
        invoice_type=InvoiceType.INVOICE, invoice_id="INV-1", date=NOW,
        remit_to_party=_party("DEMO1"),
        invoice_total=Money(amount=Decimal("119.00"), currency_code="EUR"),
        tax_details=(TaxDetail(tax_type="VAT", tax_rate=Decimal("19"),
                               tax_amount=Money(amount=Decimal("19.00"), currency_code="EUR")),),
        items=(InvoiceItem(item_sequence_number=1, invoiced_quantity=ItemQuantity(amount=10),
                           net_cost=Money(amount=Decimal("10.00"), currency_code="EUR"),
                           purchase_order_number="2JK3S9VC"),),
    )
    body = {"invoices": [invoice.to_json()]}
    assert conformance.validate_request(operation_id="submitInvoices", body=body) == []
    assert body["invoices"][0]["items"][0]["itemSequenceNumber"] == 1
    assert "postalOrZipCode" in body["invoices"][0]["remitToParty"]["address"]


def test_create_report_body_validates():
    body = create_report_body(
        report_type=VendorReportType.SALES, marketplace_ids=["ATVPDKIKX0DER"],
        data_start_time=NOW, data_end_time=NOW,
        report_options={"reportPeriod": "DAY", "distributorView": "MANUFACTURING",
                        "sellingProgram": "RETAIL"},
    )
    assert conformance.validate_request(operation_id="createReport", body=body) == []


def test_validator_reports_bad_requests_with_reasons():
    problems = conformance.validate_request(
        operation_id="getPurchaseOrders",
        query={"limit": "101", "createdAfter": "2019-09-2100:00:00", "bogus": "1"},
    )
    assert problems == [
        "query.limit: 101 is greater than the maximum of 100",
        "query.createdAfter: '2019-09-2100:00:00' is not a 'date-time'",
        "query: unknown parameters bogus",
    ]


def test_default_usage_plans_match_the_models():
    """The hard-coded table (used when the models are absent) equals the models' tables."""
    from_models = conformance.usage_plan_tables()
    for operation, plan in DEFAULT_USAGE_PLANS.items():
        assert from_models[operation] == (plan.rate, plan.burst), operation
