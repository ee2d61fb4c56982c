"""The SP-API vendor operations of the sandbox, one module per API family
(mirroring ``vendor_api/operations/``), served at their real paths.

Methods and paths come from the repository's request contracts
(``vendor_api.contracts``), so the sandbox needs nothing outside the
repository at run time.
"""

from __future__ import annotations

from vendor_api import contracts
from vendor_api.sandbox.server import Router
from vendor_api.sandbox.vendor import invoices, orders, reports, shipments, transactions
from vendor_api.sandbox.vendor.common import OperationHandler, operation_endpoint
from vendor_api.sandbox.vendor.orders import (
    get_purchase_orders,
    order_json,
    order_json_warm,
    order_status_json,
)
from vendor_api.sandbox.vendor.shipments import asn_shipment_json

__all__ = [
    "OPERATIONS", "asn_shipment_json", "get_purchase_orders", "order_json", "order_json_warm",
    "order_status_json", "register",
]

OPERATIONS: dict[str, OperationHandler] = {
    "getPurchaseOrders": orders.get_purchase_orders,
    "getPurchaseOrder": orders.get_purchase_order,
    "submitAcknowledgement": orders.submit_acknowledgement,
    "getPurchaseOrdersStatus": orders.get_purchase_orders_status,
    "SubmitShipmentConfirmations": shipments.submit_shipment_confirmations,
    "SubmitShipments": shipments.submit_shipments,
    "GetShipmentDetails": shipments.get_shipment_details,
    "GetShipmentLabels": shipments.get_shipment_labels,
    "submitInvoices": invoices.submit_invoices,
    "getTransaction": transactions.get_transaction,
    "createReport": reports.create_report,
    "getReport": reports.get_report,
    "getReportDocument": reports.get_report_document,
}


def register(router: Router) -> None:
    """Serve each operation at its real path, taken from the contracts."""
    for operation_id, handler in OPERATIONS.items():
        route = contracts.contract(operation_id)
        router.add(route.method, route.path, operation_endpoint(operation_id, handler))
    router.add("GET", "/_sandbox/documents/{documentId}", reports.download_document)
