"""Sandbox Vendor Shipments: SubmitShipmentConfirmations (ASN),
SubmitShipments, GetShipmentDetails, GetShipmentLabels (mirrors
operations/shipments.py)."""

from __future__ import annotations

import base64
import hashlib

from vendor_api.sandbox.server import SandboxRequest, SandboxResponse
from vendor_api.sandbox.state import Grant, SandboxState, format_time, utc_now
from vendor_api.sandbox.vendor.common import (
    BadRequest,
    bad_request,
    business_error,
    find_line,
    offset_page,
    transaction_accepted,
    visible,
)

# A 1x1 PDF is enough for a label the client decodes and stores.
LABEL_PDF = base64.b64encode(b"%PDF-1.4\n% sandbox label\n%%EOF\n").decode()


# vendorShipments.json, billOfLadingNumber: "mandatory in Shipment
# Confirmation message for FTL and LTL shipments".
BOL_SHIPMENT_TYPES = ("TruckLoad", "LessThanTruckLoad")


def _asn_structure_errors(asn: dict) -> list[dict]:
    """Business rules of one ASN beyond its schema: the BOL of truck
    shipments, and pallets that point at the ASN's own cartons."""
    identifier = asn["shipmentIdentifier"]
    errors = []
    if asn.get("shipmentType") in BOL_SHIPMENT_TYPES and not (
        asn.get("transportationDetails") or {}
    ).get("billOfLadingNumber"):
        errors.append(business_error(
            "MISSING_BILL_OF_LADING",
            f"Shipment {identifier}: the bill of lading number is mandatory for "
            f"{asn['shipmentType']} shipments.",
        ))
    cartons = {carton["cartonSequenceNumber"] for carton in asn.get("cartons") or []}
    on_pallets: set[str] = set()
    for pallet in asn.get("pallets") or []:
        references = pallet.get("cartonReferenceDetails") or {}
        numbers = references.get("cartonReferenceNumbers") or []
        pallet_id = pallet["palletIdentifiers"][0]["containerIdentificationNumber"] if pallet[
            "palletIdentifiers"] else "?"
        unknown = [n for n in numbers if n not in cartons]
        twice = [n for n in numbers if n in on_pallets]
        on_pallets.update(numbers)
        count = references.get("cartonCount")
        if unknown or twice or (count is not None and count != len(numbers)):
            errors.append(business_error(
                "INVALID_CARTON_REFERENCE",
                f"Shipment {identifier}: pallet {pallet_id} refers to cartons that are not in "
                f"the shipment, are on another pallet, or disagree with its carton count.",
            ))
    return errors


def submit_shipment_confirmations(request: SandboxRequest, grant: Grant, state: SandboxState):
    body = request.json()
    errors: list[dict] = []
    accepted = []
    for asn in body.get("shipmentConfirmations", []):
        identifier = asn["shipmentIdentifier"]
        known = identifier in state.shipment_confirmations
        if asn["shipmentConfirmationType"] == "Original" and known:
            errors.append(business_error("DUPLICATE_SHIPMENT_ID",
                                 f"Shipment identifier {identifier} was already used."))
            continue
        if asn["shipmentConfirmationType"] == "Replace" and not known:
            errors.append(business_error("INVALID_SHIPMENT_ID",
                                 f"No shipment {identifier} to replace."))
            continue
        structure_errors = _asn_structure_errors(asn)
        if structure_errors:
            errors.extend(structure_errors)
            continue
        numbers = set()
        for item in asn["shippedItems"]:
            number = (item.get("itemDetails") or {}).get("purchaseOrderNumber")
            po = state.orders.get(number or "")
            if po is None or not visible(po, grant):
                errors.append(business_error("INVALID_ORDER_ID", f"Invalid order ID {number}."))
                continue
            if find_line(po, item) is None:
                errors.append(business_error("INVALID_ITEM", f"Purchase order {number} has no line "
                                     f"{item.get('itemSequenceNumber')}."))
                continue
            numbers.add(number)
        accepted.append((identifier, asn, numbers))

    def apply() -> None:
        for identifier, asn, numbers in accepted:
            with state.lock:
                state.shipment_confirmations[identifier] = asn
            if state.scenario.auto_receive:
                for number in numbers:
                    state.receive(order=state.orders[number],
                                  shortage_rate=state.scenario.shortage_rate)

    return transaction_accepted(body, state, kind="shipmentConfirmation", errors=errors,
                                apply=apply)


def submit_shipments(request: SandboxRequest, grant: Grant, state: SandboxState):
    body = request.json()
    errors = []
    for shipment in body.get("shipments", []):
        identifier = shipment["vendorShipmentIdentifier"]
        if shipment["transactionType"] == "Cancel" and identifier not in state.transport_requests:
            errors.append(business_error("INVALID_SHIPMENT_ID",
                                         f"No shipment {identifier} to cancel."))

    def apply() -> None:
        with state.lock:
            for shipment in body.get("shipments", []):
                record = dict(shipment)
                record.setdefault("currentShipmentStatus", "TransportationRequested")
                record.setdefault("shipmentCreateDate", format_time(utc_now()))
                state.transport_requests[shipment["vendorShipmentIdentifier"]] = record

    return transaction_accepted(body, state, kind="shipment", errors=errors, apply=apply)


def _asn_items(asn: dict) -> list[dict]:
    """shippedItems grouped by PO, as GetShipmentDetails' purchaseOrders."""
    by_po: dict[str, list[dict]] = {}
    for item in asn["shippedItems"]:
        number = (item.get("itemDetails") or {}).get("purchaseOrderNumber", "")
        entry = {"itemSequenceNumber": item["itemSequenceNumber"],
                 "shippedQuantity": item["shippedQuantity"]}
        if item.get("amazonProductIdentifier"):
            entry["buyerProductIdentifier"] = item["amazonProductIdentifier"]
        if item.get("vendorProductIdentifier"):
            entry["vendorProductIdentifier"] = item["vendorProductIdentifier"]
        by_po.setdefault(number, []).append(entry)
    return [{"purchaseOrderNumber": number, "items": items} if number else {"items": items}
            for number, items in by_po.items()]


def _asn_containers(asn: dict) -> list[dict]:
    containers = []
    for carton in asn.get("cartons") or []:
        container = {
            "containerType": "carton",
            "containerSequenceNumber": carton["cartonSequenceNumber"],
            "containerIdentifiers": carton.get("cartonIdentifiers") or [],
            "packedItems": [{"itemSequenceNumber": item["itemReference"],
                             "packedQuantity": item["shippedQuantity"]}
                            for item in carton.get("items") or []],
        }
        for name in ("trackingNumber", "weight", "dimensions"):
            if carton.get(name):
                container[name] = carton[name]
        containers.append(container)
    for sequence, pallet in enumerate(asn.get("pallets") or [], start=1):
        container = {"containerType": "pallet", "containerSequenceNumber": str(sequence),
                     "containerIdentifiers": pallet["palletIdentifiers"]}
        for name in ("tier", "block", "weight", "dimensions"):
            if pallet.get(name) is not None:
                container[name] = pallet[name]
        numbers = (pallet.get("cartonReferenceDetails") or {}).get("cartonReferenceNumbers")
        if numbers:
            container["innerContainersDetails"] = {
                "containerCount": len(numbers),
                "containerSequenceNumbers": [{"containerSequenceNumber": n} for n in numbers],
            }
        containers.append(container)
    return containers


def asn_shipment_json(asn: dict) -> dict:
    """An accepted ASN as GetShipmentDetails shows it: a shipped shipment."""
    confirmed = asn["shipmentConfirmationDate"]
    shipped = asn.get("shippedDate") or confirmed
    transport = asn.get("transportationDetails") or {}
    data = {
        "vendorShipmentIdentifier": asn["shipmentIdentifier"],
        "transactionType": "New",
        "transactionDate": confirmed,
        "currentShipmentStatus": "Shipped",
        "currentshipmentStatusDate": shipped,
        "shipmentStatusDetails": [{"shipmentStatus": "Shipped", "shipmentStatusDate": shipped}],
        "shipmentConfirmDate": shipped,
        "sellingParty": asn["sellingParty"],
        "shipFromParty": asn["shipFromParty"],
        "shipToParty": asn["shipToParty"],
        "purchaseOrders": _asn_items(asn),
        "containers": _asn_containers(asn),
    }
    measurements = asn.get("shipmentMeasurements") or {}
    totals = {}
    if asn.get("cartons"):
        totals["totalCartonCount"] = len(asn["cartons"])
    if measurements.get("grossShipmentWeight"):
        totals["shipmentWeight"] = measurements["grossShipmentWeight"]
    if measurements.get("shipmentVolume"):
        totals["shipmentVolume"] = measurements["shipmentVolume"]
    if totals:
        data["shipmentMeasurements"] = totals
    details = {"shippedDate": shipped}
    if asn.get("shipmentType"):
        details["shipMode"] = asn["shipmentType"]
    if transport.get("transportationMode"):
        details["transportationMode"] = transport["transportationMode"]
    if asn.get("estimatedDeliveryDate"):
        details["estimatedDeliveryDate"] = asn["estimatedDeliveryDate"]
    carrier = {key: transport[source] for key, source in
               (("code", "carrierScac"), ("shipmentReferenceNumber",
                                          "carrierShipmentReferenceNumber"))
               if transport.get(source)}
    if carrier:
        details["carrierDetails"] = carrier
    if transport.get("billOfLadingNumber"):
        details["billOfLadingNumber"] = transport["billOfLadingNumber"]
    data["transportationDetails"] = details
    return data


def get_shipment_details(request: SandboxRequest, grant: Grant, state: SandboxState):
    """Transport requests (SubmitShipments) and shipments known from
    accepted ASNs (SubmitShipmentConfirmations), by vendorShipmentIdentifier;
    a transport request that was then confirmed shows as Shipped."""
    with state.lock:
        known = dict(state.transport_requests)
        for identifier, asn in state.shipment_confirmations.items():
            shipped = asn_shipment_json(asn)
            request_record = known.get(identifier)
            if request_record is not None:
                shipped = {**request_record, **{key: shipped[key] for key in (
                    "currentShipmentStatus", "currentshipmentStatusDate",
                    "shipmentStatusDetails", "shipmentConfirmDate", "containers",
                    "transportationDetails")}}
            known[identifier] = shipped
    shipments = [s for s in known.values()
                 if s["sellingParty"]["partyId"] in grant.vendor_codes]
    for name, field in (("vendorShipmentIdentifier", "vendorShipmentIdentifier"),
                        ("buyerReferenceNumber", "buyerReferenceNumber"),
                        ("currentShipmentStatus", "currentShipmentStatus")):
        value = request.query_value(name)
        if value:
            shipments = [s for s in shipments if s.get(field) == value]
    if request.query_value("sellerWarehouseCode"):
        shipments = [s for s in shipments
                     if s["shipFromParty"]["partyId"] == request.query_value("sellerWarehouseCode")]
    if request.query_value("buyerWarehouseCode"):
        shipments = [s for s in shipments
                     if s["shipToParty"]["partyId"] == request.query_value("buyerWarehouseCode")]
    try:
        page, token = offset_page(request, shipments)
    except BadRequest as error:
        return bad_request(str(error))
    payload: dict = {"shipments": page}
    if token:
        payload["pagination"] = {"nextToken": token}
    return SandboxResponse(status=200, body={"payload": payload})


def get_shipment_labels(request: SandboxRequest, grant: Grant, state: SandboxState):
    labels = []
    for shipment in state.transport_requests.values():
        if shipment["sellingParty"]["partyId"] not in grant.vendor_codes:
            continue
        wanted = request.query_value("vendorShipmentIdentifier")
        if wanted and shipment["vendorShipmentIdentifier"] != wanted:
            continue
        tracking = "1Z" + hashlib.sha256(
            shipment["vendorShipmentIdentifier"].encode()).hexdigest()[:16].upper()
        labels.append({
            "labelCreateDateTime": shipment["shipmentCreateDate"],
            "shipmentInformation": {
                "vendorDetails": {"sellingParty": shipment["sellingParty"],
                                  "vendorShipmentIdentifier": shipment["vendorShipmentIdentifier"]},
                "shipToParty": shipment["shipToParty"],
                "shipFromParty": shipment["shipFromParty"],
                "masterTrackingId": tracking,
                "totalLabelCount": 1,
                "shipMode": "SmallParcel",
            },
            "labelData": [{"labelSequenceNumber": 1, "labelFormat": "PDF", "carrierCode": "UPSN",
                           "trackingId": tracking, "label": LABEL_PDF}],
        })
    try:
        page, token = offset_page(request, labels)
    except BadRequest as error:
        return bad_request(str(error))
    payload: dict = {"transportLabels": page}
    if token:
        payload["pagination"] = {"nextToken": token}
    return SandboxResponse(status=200, body={"payload": payload})
