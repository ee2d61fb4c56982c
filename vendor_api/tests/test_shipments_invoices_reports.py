"""ASNs, invoices and vendor reports against the sandbox."""

import datetime
from decimal import Decimal

from vendor_api import conformance
from vendor_api.operations.invoices import Invoice, InvoiceItem, InvoiceType
from vendor_api.operations.reports import ProcessingStatus, VendorReportType
from vendor_api.operations.shipments import (
    ShipmentConfirmation,
    ShipmentConfirmationType,
    ShippedItem,
    ShippedItemDetails,
    TransactionType,
    TransportRequest,
)
from vendor_api.operations.transactions import TransactionStatus
from vendor_api.types import ItemQuantity, Money, Party

NOW = datetime.datetime.now(tz=datetime.UTC)


def _first_order(client):
    return next(client.iter_purchase_orders(created_after=NOW - datetime.timedelta(days=31),
                                            now=NOW))


def _asn(order, identifier):
    item = order.items[0]
    return ShipmentConfirmation(
        shipment_identifier=identifier, confirmation_type=ShipmentConfirmationType.ORIGINAL,
        confirmation_date=NOW, selling_party=Party(party_id="DEMO1"),
        ship_from_party=Party(party_id="WH1"), ship_to_party=order.ship_to_party,
        shipped_items=(ShippedItem(
            item_sequence_number=item.item_sequence_number,
            amazon_product_identifier=item.amazon_product_identifier,
            shipped_quantity=item.ordered_quantity,
            details=ShippedItemDetails(purchase_order_number=order.purchase_order_number),
        ),),
    )


def test_reused_asn_identifier_fails(client):
    order = _first_order(client)
    first = client.submit_shipment_confirmations(confirmations=[_asn(order, "ASN-1")])
    assert client.get_transaction(transaction_id=first.transaction_id).status == (
        TransactionStatus.SUCCESS)
    again = client.submit_shipment_confirmations(confirmations=[_asn(order, "ASN-1")])
    transaction = client.get_transaction(transaction_id=again.transaction_id)
    assert transaction.errors[0].code == "DUPLICATE_SHIPMENT_ID"
    assert transaction.errors[0].message == "Shipment identifier ASN-1 was already used."


def test_transport_request_then_details_and_labels(client):
    request = TransportRequest(
        vendor_shipment_identifier="00050003", transaction_type=TransactionType.NEW,
        transaction_date=NOW, selling_party=Party(party_id="DEMO1"),
        ship_from_party=Party(party_id="WH1"), ship_to_party=Party(party_id="ABE2"),
        freight_term="Collect", requested_pick_up=NOW,
    )
    client.submit_shipments(shipments=[request])
    details = client.get_shipment_details_page(vendor_shipment_identifier="00050003")
    assert details.shipments[0].current_status == "TransportationRequested"
    labels = client.get_shipment_labels_page(vendor_shipment_identifier="00050003")
    assert labels.labels[0].labels[0].label.startswith(b"%PDF")


def test_invoice_total_inconsistent_with_lines_fails(client):
    order = _first_order(client)
    item = order.items[0]
    invoice = Invoice(
        invoice_type=InvoiceType.INVOICE, invoice_id="INV-9", date=NOW,
        remit_to_party=Party(party_id="DEMO1"),
        invoice_total=Money(amount=Decimal("1.00"), currency_code="USD"),
        items=(InvoiceItem(item_sequence_number=int(item.item_sequence_number),
                           invoiced_quantity=ItemQuantity(amount=1), net_cost=item.net_cost,
                           purchase_order_number=order.purchase_order_number),),
    )
    receipt = client.submit_invoices(invoices=[invoice])
    transaction = client.get_transaction(transaction_id=receipt.transaction_id)
    assert transaction.status == TransactionStatus.FAILURE
    assert transaction.errors[0].code == "INVOICE_TOTAL_MISMATCH"


def test_every_vendor_report_is_generated_gzip_and_conforms(client):
    for report_type in VendorReportType:
        report_id = client.create_report(
            report_type=report_type, marketplace_ids=["ATVPDKIKX0DER"],
            data_start_time=NOW - datetime.timedelta(hours=3), data_end_time=NOW,
        )
        report = client.get_report(report_id=report_id)
        assert report.processing_status == ProcessingStatus.DONE
        location = client.get_report_document(report_document_id=report.report_document_id)
        assert location.compression_algorithm == "GZIP"
        document = client.download_report_document(location=location)
        assert conformance.validate_report_document(
            report_type=report_type.value, document=document) == []
