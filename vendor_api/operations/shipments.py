"""Vendor Shipments v1: SubmitShipmentConfirmations (ASN), SubmitShipments,
GetShipmentDetails, GetShipmentLabels (vendorShipments.json).

The ASN model has ~60 optional fields; the dataclasses cover what ACORN
fills (cartons, pallets, SSCC, lots, country of origin, carrier data), and
``extra`` merges any other documented field into the JSON as given.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vendor_api.types import (
    ItemQuantity,
    Party,
    TransactionReceipt,
    format_datetime,
    format_decimal,
    parse_datetime,
    parse_enum,
)

MAX_SHIPMENT_PAGE_SIZE = 50


class ShipmentConfirmationType(enum.StrEnum):
    ORIGINAL = "Original"
    REPLACE = "Replace"


class ShipmentType(enum.StrEnum):
    TRUCK_LOAD = "TruckLoad"
    LESS_THAN_TRUCK_LOAD = "LessThanTruckLoad"
    SMALL_PARCEL = "SmallParcel"


class ShipmentStructure(enum.StrEnum):
    PALLETIZED_ASSORTMENT_CASE = "PalletizedAssortmentCase"
    LOOSE_ASSORTMENT_CASE = "LooseAssortmentCase"
    PALLET_OF_ITEMS = "PalletOfItems"
    PALLETIZED_STANDARD_CASE = "PalletizedStandardCase"
    LOOSE_STANDARD_CASE = "LooseStandardCase"
    MASTER_PALLET = "MasterPallet"
    MASTER_CASE = "MasterCase"


class TransportationMode(enum.StrEnum):
    ROAD = "Road"
    AIR = "Air"
    OCEAN = "Ocean"


class ContainerIdentificationType(enum.StrEnum):
    SSCC = "SSCC"
    AMZNCC = "AMZNCC"
    GTIN = "GTIN"
    BPS = "BPS"
    CID = "CID"


class WeightUnitShort(enum.StrEnum):
    G = "G"
    KG = "Kg"
    OZ = "Oz"
    LB = "Lb"


class ShipmentStatus(enum.StrEnum):
    CREATED = "Created"
    TRANSPORTATION_REQUESTED = "TransportationRequested"
    CARRIER_ASSIGNED = "CarrierAssigned"
    SHIPPED = "Shipped"


class TransactionType(enum.StrEnum):
    NEW = "New"
    CANCEL = "Cancel"


@dataclass(frozen=True)
class Weight:
    value: Decimal
    unit: WeightUnitShort

    def to_json(self) -> dict:
        return {
            "unitOfMeasure": WeightUnitShort(self.unit).value,
            "value": format_decimal(self.value),
        }


@dataclass(frozen=True)
class ShippedItemDetails:
    purchase_order_number: str | None = None
    lot_number: str | None = None
    country_of_origin: str | None = None
    expiry_date: datetime.datetime | None = None

    def to_json(self) -> dict:
        data: dict[str, Any] = {}
        if self.purchase_order_number:
            data["purchaseOrderNumber"] = self.purchase_order_number
        if self.lot_number:
            data["lotNumber"] = self.lot_number
        if self.country_of_origin:
            data["countryOfOrigin"] = self.country_of_origin
        if self.expiry_date:
            data["expiry"] = {"expiryDate": format_datetime(self.expiry_date)}
        return data


@dataclass(frozen=True)
class ShippedItem:
    item_sequence_number: str
    shipped_quantity: ItemQuantity
    amazon_product_identifier: str | None = None
    vendor_product_identifier: str | None = None
    details: ShippedItemDetails | None = None

    def to_json(self) -> dict:
        data: dict[str, Any] = {
            "itemSequenceNumber": self.item_sequence_number,
            "shippedQuantity": self.shipped_quantity.to_json(),
        }
        if self.amazon_product_identifier:
            data["amazonProductIdentifier"] = self.amazon_product_identifier
        if self.vendor_product_identifier:
            data["vendorProductIdentifier"] = self.vendor_product_identifier
        if self.details and self.details.to_json():
            data["itemDetails"] = self.details.to_json()
        return data


@dataclass(frozen=True)
class ContainerIdentifier:
    kind: ContainerIdentificationType
    number: str

    def to_json(self) -> dict:
        return {
            "containerIdentificationType": ContainerIdentificationType(self.kind).value,
            "containerIdentificationNumber": self.number,
        }


@dataclass(frozen=True)
class ContainerItem:
    item_reference: str  # the shipped item's itemSequenceNumber
    shipped_quantity: ItemQuantity
    details: ShippedItemDetails | None = None

    def to_json(self) -> dict:
        data: dict[str, Any] = {
            "itemReference": self.item_reference,
            "shippedQuantity": self.shipped_quantity.to_json(),
        }
        if self.details and self.details.to_json():
            data["itemDetails"] = self.details.to_json()
        return data


@dataclass(frozen=True)
class Carton:
    carton_sequence_number: str
    items: tuple[ContainerItem, ...]
    identifiers: tuple[ContainerIdentifier, ...] = ()
    tracking_number: str | None = None
    weight: Weight | None = None

    def to_json(self) -> dict:
        data: dict[str, Any] = {
            "cartonSequenceNumber": self.carton_sequence_number,
            "items": [item.to_json() for item in self.items],
        }
        if self.identifiers:
            data["cartonIdentifiers"] = [ident.to_json() for ident in self.identifiers]
        if self.tracking_number:
            data["trackingNumber"] = self.tracking_number
        if self.weight:
            data["weight"] = self.weight.to_json()
        return data


@dataclass(frozen=True)
class Pallet:
    identifiers: tuple[ContainerIdentifier, ...]
    carton_reference_numbers: tuple[str, ...] = ()
    items: tuple[ContainerItem, ...] = ()
    tier: int | None = None
    block: int | None = None

    def to_json(self) -> dict:
        data: dict[str, Any] = {"palletIdentifiers": [i.to_json() for i in self.identifiers]}
        if self.carton_reference_numbers:
            data["cartonReferenceDetails"] = {
                "cartonCount": len(self.carton_reference_numbers),
                "cartonReferenceNumbers": list(self.carton_reference_numbers),
            }
        if self.items:
            data["items"] = [item.to_json() for item in self.items]
        if self.tier is not None:
            data["tier"] = self.tier
        if self.block is not None:
            data["block"] = self.block
        return data


@dataclass(frozen=True)
class ShipmentConfirmation:
    shipment_identifier: str
    confirmation_type: ShipmentConfirmationType
    confirmation_date: datetime.datetime
    selling_party: Party
    ship_from_party: Party
    ship_to_party: Party
    shipped_items: tuple[ShippedItem, ...]
    shipment_type: ShipmentType | None = None
    shipment_structure: ShipmentStructure | None = None
    carrier_scac: str | None = None
    carrier_shipment_reference_number: str | None = None  # PRO number
    transportation_mode: TransportationMode | None = None
    bill_of_lading_number: str | None = None
    amazon_reference_number: str | None = None
    shipped_date: datetime.datetime | None = None
    estimated_delivery_date: datetime.datetime | None = None
    gross_weight: Weight | None = None
    carton_count: int | None = None
    pallet_count: int | None = None
    cartons: tuple[Carton, ...] = ()
    pallets: tuple[Pallet, ...] = ()
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        data: dict[str, Any] = {
            "shipmentIdentifier": self.shipment_identifier,
            "shipmentConfirmationType": ShipmentConfirmationType(self.confirmation_type).value,
            "shipmentConfirmationDate": format_datetime(self.confirmation_date),
            "sellingParty": self.selling_party.to_json(),
            "shipFromParty": self.ship_from_party.to_json(),
            "shipToParty": self.ship_to_party.to_json(),
            "shippedItems": [item.to_json() for item in self.shipped_items],
        }
        if self.shipment_type:
            data["shipmentType"] = ShipmentType(self.shipment_type).value
        if self.shipment_structure:
            data["shipmentStructure"] = ShipmentStructure(self.shipment_structure).value
        transport = {
            "carrierScac": self.carrier_scac,
            "carrierShipmentReferenceNumber": self.carrier_shipment_reference_number,
            "transportationMode": TransportationMode(self.transportation_mode).value
            if self.transportation_mode else None,
            "billOfLadingNumber": self.bill_of_lading_number,
        }
        transport = {key: value for key, value in transport.items() if value}
        if transport:
            data["transportationDetails"] = transport
        if self.amazon_reference_number:
            data["amazonReferenceNumber"] = self.amazon_reference_number
        if self.shipped_date:
            data["shippedDate"] = format_datetime(self.shipped_date)
        if self.estimated_delivery_date:
            data["estimatedDeliveryDate"] = format_datetime(self.estimated_delivery_date)
        measurements: dict[str, Any] = {}
        if self.gross_weight:
            measurements["grossShipmentWeight"] = self.gross_weight.to_json()
        if self.carton_count is not None:
            measurements["cartonCount"] = self.carton_count
        if self.pallet_count is not None:
            measurements["palletCount"] = self.pallet_count
        if measurements:
            data["shipmentMeasurements"] = measurements
        if self.cartons:
            data["cartons"] = [carton.to_json() for carton in self.cartons]
        if self.pallets:
            data["pallets"] = [pallet.to_json() for pallet in self.pallets]
        data.update(self.extra)
        return data


@dataclass(frozen=True)
class TransportRequest:
    """One ``Shipment`` of SubmitShipments (Collect/WePay routing request)."""

    vendor_shipment_identifier: str
    transaction_type: TransactionType
    transaction_date: datetime.datetime
    selling_party: Party
    ship_from_party: Party
    ship_to_party: Party
    buyer_reference_number: str | None = None
    freight_term: str | None = None  # Collect | Prepaid
    requested_pick_up: datetime.datetime | None = None
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        data: dict[str, Any] = {
            "vendorShipmentIdentifier": self.vendor_shipment_identifier,
            "transactionType": TransactionType(self.transaction_type).value,
            "transactionDate": format_datetime(self.transaction_date),
            "sellingParty": self.selling_party.to_json(),
            "shipFromParty": self.ship_from_party.to_json(),
            "shipToParty": self.ship_to_party.to_json(),
        }
        if self.buyer_reference_number:
            data["buyerReferenceNumber"] = self.buyer_reference_number
        if self.freight_term:
            data["shipmentFreightTerm"] = self.freight_term
        if self.requested_pick_up:
            data["collectFreightPickupDetails"] = {
                "requestedPickUp": format_datetime(self.requested_pick_up)
            }
        data.update(self.extra)
        return data


@dataclass(frozen=True)
class ShipmentDetail:
    vendor_shipment_identifier: str
    transaction_type: TransactionType | str | None
    transaction_date: datetime.datetime | None
    buyer_reference_number: str | None
    current_status: ShipmentStatus | str | None
    freight_term: str | None
    selling_party: Party | None
    ship_from_party: Party | None
    ship_to_party: Party | None
    purchase_order_numbers: tuple[str, ...]
    raw: dict = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def parse(cls, raw: dict) -> ShipmentDetail:
        return cls(
            vendor_shipment_identifier=raw.get("vendorShipmentIdentifier", ""),
            transaction_type=parse_enum(TransactionType, raw.get("transactionType")),
            transaction_date=parse_datetime(raw.get("transactionDate")),
            buyer_reference_number=raw.get("buyerReferenceNumber"),
            current_status=parse_enum(ShipmentStatus, raw.get("currentShipmentStatus")),
            freight_term=raw.get("shipmentFreightTerm"),
            selling_party=Party.parse(raw.get("sellingParty")),
            ship_from_party=Party.parse(raw.get("shipFromParty")),
            ship_to_party=Party.parse(raw.get("shipToParty")),
            purchase_order_numbers=tuple(
                po.get("purchaseOrderNumber", "") for po in raw.get("purchaseOrders") or []
            ),
            raw=raw,
        )


@dataclass(frozen=True)
class LabelData:
    sequence_number: int | None
    label_format: str | None
    carrier_code: str | None
    tracking_id: str | None
    label: bytes  # decoded from base64 (PDF)


@dataclass(frozen=True)
class TransportLabel:
    created_at: datetime.datetime | None
    vendor_shipment_identifier: str | None
    master_tracking_id: str | None
    ship_mode: str | None
    labels: tuple[LabelData, ...]

    @classmethod
    def parse(cls, raw: dict) -> TransportLabel:
        info = raw.get("shipmentInformation") or {}
        labels = []
        for item in raw.get("labelData") or []:
            try:
                content = base64.b64decode(item.get("label") or "", validate=False)
            except (binascii.Error, ValueError):
                content = b""
            labels.append(LabelData(
                sequence_number=item.get("labelSequenceNumber"),
                label_format=item.get("labelFormat"),
                carrier_code=item.get("carrierCode"),
                tracking_id=item.get("trackingId"),
                label=content,
            ))
        return cls(
            created_at=parse_datetime(raw.get("labelCreateDateTime")),
            vendor_shipment_identifier=(info.get("vendorDetails") or {}).get(
                "vendorShipmentIdentifier"
            ),
            master_tracking_id=info.get("masterTrackingId"),
            ship_mode=info.get("shipMode"),
            labels=tuple(labels),
        )


@dataclass(frozen=True)
class ShipmentDetailPage:
    shipments: tuple[ShipmentDetail, ...]
    next_token: str | None


@dataclass(frozen=True)
class TransportLabelPage:
    labels: tuple[TransportLabel, ...]
    next_token: str | None


def _query(**values: Any) -> dict[str, str]:
    query = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, datetime.datetime):
            value = format_datetime(value)
        elif isinstance(value, enum.Enum):
            value = value.value
        query[name] = str(value)
    return query


class ShipmentsOperations:
    def submit_shipment_confirmations(
        self, *, confirmations: list[ShipmentConfirmation]
    ) -> TransactionReceipt:
        response = self.transport.call(
            operation="SubmitShipmentConfirmations", method="POST",
            path="/vendor/shipping/v1/shipmentConfirmations",
            body={"shipmentConfirmations": [item.to_json() for item in confirmations]},
        )
        return self._transaction_receipt(response)

    def submit_shipments(self, *, shipments: list[TransportRequest]) -> TransactionReceipt:
        response = self.transport.call(
            operation="SubmitShipments", method="POST",
            path="/vendor/shipping/v1/shipments",
            body={"shipments": [item.to_json() for item in shipments]},
        )
        return self._transaction_receipt(response)

    def get_shipment_details_page(
        self, *, limit: int = MAX_SHIPMENT_PAGE_SIZE, next_token: str | None = None,
        sort_order: str | None = None, **filters: datetime.datetime | str | None,
    ) -> ShipmentDetailPage:
        """Filters use the model's names in snake case, e.g. ``created_after``,
        ``vendor_shipment_identifier``, ``buyer_warehouse_code``."""
        camel = {_camel(name): value for name, value in filters.items()}
        response = self.transport.call(
            operation="GetShipmentDetails", method="GET", path="/vendor/shipping/v1/shipments",
            query=_query(limit=limit, sortOrder=sort_order, nextToken=next_token, **camel),
        )
        payload = (response.body or {}).get("payload") or {}
        return ShipmentDetailPage(
            shipments=tuple(ShipmentDetail.parse(item) for item in payload.get("shipments") or []),
            next_token=(payload.get("pagination") or {}).get("nextToken") or None,
        )

    def get_shipment_labels_page(
        self, *, limit: int = MAX_SHIPMENT_PAGE_SIZE, next_token: str | None = None,
        sort_order: str | None = None, **filters: datetime.datetime | str | None,
    ) -> TransportLabelPage:
        camel = {_camel(name): value for name, value in filters.items()}
        response = self.transport.call(
            operation="GetShipmentLabels", method="GET", path="/vendor/shipping/v1/transportLabels",
            query=_query(limit=limit, sortOrder=sort_order, nextToken=next_token, **camel),
        )
        payload = (response.body or {}).get("payload") or {}
        return TransportLabelPage(
            labels=tuple(
                TransportLabel.parse(item) for item in payload.get("transportLabels") or []
            ),
            next_token=(payload.get("pagination") or {}).get("nextToken") or None,
        )


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
