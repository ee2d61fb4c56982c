"""Shipments and their ASN (SubmitShipmentConfirmations).

- ``shipment_create``: a draft from accepted PO lines going to one Amazon
  fulfilment centre (one or several POs), with items (lot, expiry, country
  of origin) and cartons identified by SSCC-18, optionally stacked on
  pallets that carry their own SSCC-18 (same counter, so never a repeat).
- ``shipment_ship``: the goods left. Holds are consumed (inventory writes
  the shipment movements), shipped quantities and PO events recorded, and
  the ASN goes out as a Submission. ASN rules (vendorShipments.json):
  ``shippedDate`` not in the future; send within 30 minutes of departure
  (later is allowed but warned); ``shipmentIdentifier`` unique and never
  reused (it is generated once per shipment and protected by a unique
  constraint; shipments are never deleted).
- ``shipment_transport_update``: fix carrier data (SCAC, bill of lading,
  PRO) of a shipment whose ASN was rejected or needs a correction.
- ``shipment_asn_resend``: after a rejected ASN is fixed, or to correct an
  accepted one, a new version (Original while Amazon has none, Replace
  after one was accepted).
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record
from channels.gs1 import sscc_build
from channels.locks import purchase_orders_lock, shipment_lock
from channels.models import (
    AckStatus,
    Carton,
    CartonItem,
    DocumentType,
    Gs1Settings,
    Pallet,
    PurchaseOrderEvent,
    PurchaseOrderEventKind,
    PurchaseOrderLine,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    Submission,
    SubmissionStatus,
)
from channels.services.acknowledgements import HOLD_SOURCE_TYPE
from channels.services.submissions import Presence, submission_create
from inventory.services import stock_hold_consume
from vendor_api.operations.shipments import (
    Carton as AsnCarton,
)
from vendor_api.operations.shipments import (
    ContainerIdentificationType,
    ContainerIdentifier,
    ContainerItem,
    ShipmentConfirmation,
    ShipmentConfirmationType,
    ShipmentStructure,
    ShipmentType,
    ShippedItem,
    ShippedItemDetails,
    TransportationMode,
    Weight,
    WeightUnitShort,
)
from vendor_api.operations.shipments import (
    Pallet as AsnPallet,
)
from vendor_api.types import Address, ItemQuantity, Party, format_decimal

# vendorShipments.json: "send ASNs within 30 minutes of departure".
ASN_DEADLINE_AFTER_DEPARTURE = timedelta(minutes=30)
SHIPPABLE_ACK = frozenset({AckStatus.SUBMITTED, AckStatus.ACCEPTED})

NO_LINES = "A shipment needs at least one line."
ONE_ACCOUNT = "All lines of a shipment must come from POs of one Amazon account."
ONE_DESTINATION = "All lines of a shipment must go to one fulfilment centre (ship-to {ship_to})."
LINE_NOT_FOUND = "No such purchase order line: {line_id}."
NOT_ACKNOWLEDGED = "PO {number} is not acknowledged; ship accepted lines only."
OVER_ACCEPTED = "PO {number} line {seq}: {quantity} is more than the {open} accepted and unshipped."
LOT_REQUIRED = "PO {number} line {seq}: {sku} is lot-tracked; give the lot number."
CARTONS_DISAGREE = "Item {seq}: cartons hold {packed}, the shipment ships {quantity}."
NO_GS1 = "Set the GS1 company prefix (Settings > GS1 settings) before building cartons."
SHIPPED_IN_FUTURE = "The shipped date may not be in the future."
NOT_DRAFT = "Shipment {identifier} was already shipped."
NOT_FAILED = (
    "Only a shipment whose ASN Amazon rejected or accepted can be sent again."
)
SHIPMENT_NOT_FOUND = "No such shipment."
PALLETS_AND_PER_PALLET = "Give either the pallets or the cartons per pallet, not both."
CARTONS_PER_PALLET_POSITIVE = "Cartons per pallet must be at least 1."
PALLET_CARTON_UNKNOWN = "Pallet {pallet}: there is no carton {carton}."
PALLET_CARTON_TWICE = "Carton {carton} is on more than one pallet."
PALLET_EMPTY = "Pallet {pallet} holds no cartons."
LOOSE_CARTONS = "Cartons {cartons} are on no pallet; a palletised shipment has no loose cartons."
NOT_CORRECTABLE = "Only a shipment whose ASN was rejected or accepted can be corrected."
ASN_LATE_WARNING = (
    "The ASN is sent {minutes} minutes after departure; Amazon asks for 30 minutes at most."
)


def _identifier_new() -> str:
    # 20 characters, unique by construction (random 64 bits + date) and
    # by the (tenant, account, shipment_identifier) constraint.
    return f"ACN{timezone.now():%y%m%d}{uuid.uuid4().hex[:11].upper()}"


def sscc_allocate(*, tenant, count: int) -> list[str]:
    """``count`` new SSCCs from the tenant's atomic serial counter."""
    settings_row = (
        Gs1Settings.objects.select_for_update().filter(tenant=tenant).first()
    )
    if settings_row is None:
        raise ApplicationError(NO_GS1)
    first = settings_row.next_serial
    Gs1Settings.objects.filter(tenant=tenant, pk=settings_row.pk).update(
        next_serial=F("next_serial") + count, updated_at=timezone.now()
    )
    return [
        sscc_build(extension_digit=settings_row.extension_digit,
                   company_prefix=settings_row.company_prefix, serial=first + offset)
        for offset in range(count)
    ]


@transaction.atomic
def shipment_create(
    *,
    tenant,
    warehouse,
    lines: list[dict],
    cartons: list[dict] | None = None,
    pallets: list[dict] | None = None,
    cartons_per_pallet: int | None = None,
    carrier_scac: str = "",
    bill_of_lading_number: str = "",
    carrier_reference_number: str = "",
    shipment_type: str = ShipmentType.SMALL_PARCEL,
    estimated_delivery_at: datetime.datetime | None = None,
    actor=None,
) -> Shipment:
    """A draft shipment of accepted PO lines to one fulfilment centre.

    ``lines``: ``[{"po_line_id", "quantity", "lot_number"?, "expiry_date"?,
    "country_of_origin"?}]`` in ordered units. ``cartons``: ``[{"items":
    [{"line": index into lines, "quantity"}], "weight_kg"?, ...}]``; without
    cartons everything goes into one carton. Each carton gets an SSCC.

    Palletising (none for small parcel): ``pallets``: ``[{"cartons": [index
    into cartons], "weight_kg"?, "length_cm"?, "width_cm"?, "height_cm"?,
    "stackable"?, "tier"?, "block"?}]``, or ``cartons_per_pallet``: cartons
    stacked in order, that many per pallet. Every carton of a palletised
    shipment is on exactly one pallet. Pallets get SSCCs after the cartons,
    from the same counter.
    """
    if not lines:
        raise ApplicationError(NO_LINES)
    line_ids = [int(line["po_line_id"]) for line in lines]
    po_lines = {
        line.pk: line
        for line in PurchaseOrderLine.objects.filter(tenant=tenant, pk__in=line_ids)
        .select_related("purchase_order__account", "product")
    }
    for line_id in line_ids:
        if line_id not in po_lines:
            raise ApplicationError(LINE_NOT_FOUND.format(line_id=line_id))
    purchase_orders = purchase_orders_lock(
        tenant=tenant, purchase_order_ids={line.purchase_order_id for line in po_lines.values()}
    )
    accounts = {po.account_id for po in purchase_orders}
    if len(accounts) != 1:
        raise ApplicationError(ONE_ACCOUNT)
    destinations = {po.ship_to_party_id for po in purchase_orders}
    if len(destinations) != 1:
        raise ApplicationError(ONE_DESTINATION.format(ship_to=", ".join(sorted(destinations))))
    by_po = {po.pk: po for po in purchase_orders}
    account = purchase_orders[0].account
    # Quantities already in other draft or shipped shipments count too.
    committed: dict[int, int] = defaultdict(int)
    for line_id, quantity in ShipmentItem.objects.filter(
        tenant=tenant, po_line_id__in=line_ids, shipment__status=ShipmentStatus.DRAFT
    ).values_list("po_line_id", "quantity"):
        committed[line_id] += quantity
    shipment = Shipment(
        tenant=tenant, account=account, shipment_identifier=_identifier_new(),
        ship_to_party_id=destinations.pop(), ship_from=account.ship_from or {},
        warehouse=warehouse, shipment_type=shipment_type,
        shipment_structure=ShipmentStructure.PALLETIZED_ASSORTMENT_CASE
        if pallets or cartons_per_pallet else ShipmentStructure.LOOSE_ASSORTMENT_CASE,
        carrier_scac=carrier_scac, bill_of_lading_number=bill_of_lading_number,
        carrier_reference_number=carrier_reference_number,
        estimated_delivery_at=estimated_delivery_at,
    )
    shipment.full_clean(exclude=["tenant", "account", "warehouse"], validate_constraints=False)
    shipment.save()
    items = []
    for index, spec in enumerate(lines, start=1):
        line = po_lines[int(spec["po_line_id"])]
        po = by_po[line.purchase_order_id]
        if po.ack_status not in SHIPPABLE_ACK:
            raise ApplicationError(NOT_ACKNOWLEDGED.format(number=po.number))
        quantity = int(spec["quantity"])
        open_quantity = line.planned_accept - line.shipped_quantity - committed[line.pk]
        if quantity <= 0 or quantity > open_quantity:
            raise ApplicationError(OVER_ACCEPTED.format(
                number=po.number, seq=line.item_sequence_number, quantity=quantity,
                open=max(open_quantity, 0)))
        committed[line.pk] += quantity
        product = line.product
        lot_number = (spec.get("lot_number") or "").strip()
        if product is not None and product.is_lot_tracked and not lot_number:
            raise ApplicationError(LOT_REQUIRED.format(
                number=po.number, seq=line.item_sequence_number, sku=product.sku))
        item = ShipmentItem(
            tenant=tenant, shipment=shipment, po_line=line, item_sequence_number=index,
            quantity=quantity, lot_number=lot_number,
            expiry_date=spec.get("expiry_date") or None,
            country_of_origin=(spec.get("country_of_origin")
                               or (product.country_of_origin if product else "") or "").upper(),
        )
        item.full_clean(exclude=["tenant", "shipment", "po_line"], validate_constraints=False)
        items.append(item)
    ShipmentItem.objects.bulk_create(items)
    cartons = cartons or [{"items": [{"line": i, "quantity": item.quantity}
                                     for i, item in enumerate(items)]}]
    pallet_specs = _pallet_specs(cartons=len(cartons), pallets=pallets,
                                 cartons_per_pallet=cartons_per_pallet)
    ssccs = sscc_allocate(tenant=tenant, count=len(cartons) + len(pallet_specs))
    pallet_rows = [
        Pallet(
            tenant=tenant, shipment=shipment, sequence_number=sequence,
            sscc=ssccs[len(cartons) + sequence - 1],
            weight_kg=spec.get("weight_kg"), length_cm=spec.get("length_cm"),
            width_cm=spec.get("width_cm"), height_cm=spec.get("height_cm"),
            is_stackable=bool(spec.get("stackable", True)),
            tier=spec.get("tier"), block=spec.get("block"),
        )
        for sequence, spec in enumerate(pallet_specs, start=1)
    ]
    for pallet in pallet_rows:
        pallet.full_clean(exclude=["tenant", "shipment"], validate_constraints=False)
    Pallet.objects.bulk_create(pallet_rows)
    pallet_of = {
        carton_index: pallet
        for pallet, spec in zip(pallet_rows, pallet_specs, strict=True)
        for carton_index in spec["cartons"]
    }
    packed: dict[int, int] = defaultdict(int)
    carton_rows, contents = [], []
    for sequence, (spec, sscc) in enumerate(zip(cartons, ssccs, strict=False), start=1):
        carton = Carton(
            tenant=tenant, shipment=shipment, pallet=pallet_of.get(sequence - 1),
            sequence_number=sequence, sscc=sscc,
            weight_kg=spec.get("weight_kg"), length_cm=spec.get("length_cm"),
            width_cm=spec.get("width_cm"), height_cm=spec.get("height_cm"),
            tracking_number=spec.get("tracking_number", ""),
        )
        carton_rows.append(carton)
        for content in spec["items"]:
            item = items[int(content["line"])]
            quantity = int(content["quantity"])
            packed[int(content["line"])] += quantity
            contents.append((carton, item, quantity))
    for index, item in enumerate(items):
        if packed[index] != item.quantity:
            raise ApplicationError(CARTONS_DISAGREE.format(
                seq=item.item_sequence_number, packed=packed[index], quantity=item.quantity))
    Carton.objects.bulk_create(carton_rows)
    CartonItem.objects.bulk_create([
        CartonItem(tenant=tenant, carton=carton, shipment_item=item, quantity=quantity)
        for carton, item, quantity in contents if quantity > 0
    ])
    audit_record(actor=actor, action=AuditAction.CREATE, instance=shipment,
                 summary=f"Shipment {shipment.shipment_identifier} drafted",
                 after={"items": len(items), "cartons": len(carton_rows),
                        "pallets": len(pallet_rows)})
    return shipment


def _pallet_specs(*, cartons: int, pallets: list[dict] | None,
                  cartons_per_pallet: int | None) -> list[dict]:
    """Pallet specs with carton indexes checked: each carton on one pallet."""
    if pallets and cartons_per_pallet:
        raise ApplicationError(PALLETS_AND_PER_PALLET)
    if cartons_per_pallet is not None and not pallets:
        if int(cartons_per_pallet) < 1:
            raise ApplicationError(CARTONS_PER_PALLET_POSITIVE)
        size = int(cartons_per_pallet)
        return [{"cartons": list(range(start, min(start + size, cartons)))}
                for start in range(0, cartons, size)]
    if not pallets:
        return []
    seen: set[int] = set()
    specs = []
    for number, spec in enumerate(pallets, start=1):
        indexes = [int(index) for index in spec.get("cartons") or []]
        if not indexes:
            raise ApplicationError(PALLET_EMPTY.format(pallet=number))
        for index in indexes:
            if not 0 <= index < cartons:
                raise ApplicationError(PALLET_CARTON_UNKNOWN.format(pallet=number,
                                                                    carton=index + 1))
            if index in seen:
                raise ApplicationError(PALLET_CARTON_TWICE.format(carton=index + 1))
            seen.add(index)
        specs.append({**spec, "cartons": indexes})
    loose = [str(index + 1) for index in range(cartons) if index not in seen]
    if loose:
        raise ApplicationError(LOOSE_CARTONS.format(cartons=", ".join(loose)))
    return specs


def _party(raw: dict, fallback_id: str = "") -> Party:
    address = None
    raw_address = (raw or {}).get("address")
    if raw_address and raw_address.get("name") and raw_address.get("addressLine1"):
        address = Address.parse(raw_address)
    return Party(party_id=(raw or {}).get("partyId") or fallback_id, address=address)


def _date_time(day: datetime.date | None) -> datetime.datetime | None:
    if day is None:
        return None
    return datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=datetime.UTC)


def shipment_asn_payload(*, shipment: Shipment, confirmation_type: str, now) -> dict:
    """The SubmitShipmentConfirmations body of a shipment."""
    items = list(
        shipment.items.select_related("po_line__purchase_order").order_by("item_sequence_number")
    )
    cartons = list(shipment.cartons.prefetch_related("contents__shipment_item__po_line")
                   .order_by("sequence_number"))
    pallets = list(shipment.pallets.order_by("sequence_number"))
    cartons_on = defaultdict(list)
    for carton in cartons:
        if carton.pallet_id is not None:
            cartons_on[carton.pallet_id].append(str(carton.sequence_number))
    first_po = items[0].po_line.purchase_order
    vendor_code = first_po.selling_party_id or (shipment.account.vendor_codes or [""])[0]

    def quantity(amount, line):
        return ItemQuantity(amount=amount, unit_of_measure=line.order_unit,
                            unit_size=line.unit_size or None)

    def details(item):
        return ShippedItemDetails(
            purchase_order_number=item.po_line.purchase_order.number,
            lot_number=item.lot_number or None,
            country_of_origin=item.country_of_origin or None,
            expiry_date=_date_time(item.expiry_date),
        )

    shipped_items = tuple(
        ShippedItem(
            item_sequence_number=str(item.item_sequence_number),
            shipped_quantity=quantity(item.quantity, item.po_line),
            amazon_product_identifier=item.po_line.asin or None,
            vendor_product_identifier=item.po_line.vendor_product_id or None,
            details=details(item),
        )
        for item in items
    )
    asn_cartons = tuple(
        AsnCarton(
            carton_sequence_number=str(carton.sequence_number),
            identifiers=(ContainerIdentifier(ContainerIdentificationType.SSCC, carton.sscc),),
            items=tuple(
                ContainerItem(
                    item_reference=str(content.shipment_item.item_sequence_number),
                    shipped_quantity=quantity(content.quantity, content.shipment_item.po_line),
                )
                for content in carton.contents.all()
            ),
            tracking_number=carton.tracking_number or None,
            weight=Weight(value=carton.weight_kg, unit=WeightUnitShort.KG)
            if carton.weight_kg else None,
        )
        for carton in cartons
    )
    asn_pallets = tuple(
        AsnPallet(
            identifiers=(ContainerIdentifier(ContainerIdentificationType.SSCC, pallet.sscc),),
            carton_reference_numbers=tuple(cartons_on[pallet.pk]),
            tier=pallet.tier, block=pallet.block,
        )
        for pallet in pallets
    )
    confirmation = ShipmentConfirmation(
        shipment_identifier=shipment.shipment_identifier,
        confirmation_type=ShipmentConfirmationType(confirmation_type),
        confirmation_date=now,
        selling_party=Party(party_id=vendor_code),
        ship_from_party=_party(shipment.ship_from, fallback_id=vendor_code),
        ship_to_party=_party(first_po.ship_to, fallback_id=shipment.ship_to_party_id),
        shipped_items=shipped_items,
        shipment_type=ShipmentType(shipment.shipment_type),
        shipment_structure=ShipmentStructure(shipment.shipment_structure),
        carrier_scac=shipment.carrier_scac or None,
        carrier_shipment_reference_number=shipment.carrier_reference_number or None,
        transportation_mode=TransportationMode.ROAD,
        bill_of_lading_number=shipment.bill_of_lading_number or None,
        shipped_date=shipment.shipped_at,
        estimated_delivery_date=shipment.estimated_delivery_at,
        # vendorShipments.json: cartonCount "only for non-palletized
        # shipments", palletCount "only for palletized shipments".
        carton_count=None if pallets else len(cartons),
        pallet_count=len(pallets) if pallets else None,
        gross_weight=_gross_weight(cartons=cartons, pallets=pallets),
        cartons=asn_cartons,
        pallets=asn_pallets,
    )
    data = confirmation.to_json()
    # Dimensions and pallet weight are not in the client's dataclasses.
    for carton, raw in zip(cartons, data.get("cartons") or [], strict=True):
        _measures_add(raw, carton, with_weight=False)
    for pallet, raw in zip(pallets, data.get("pallets") or [], strict=True):
        _measures_add(raw, pallet, with_weight=True)
    return {"shipmentConfirmations": [data]}


CENTIMETRES_PER_METRE = Decimal(100)


def _measures_add(raw: dict, container, *, with_weight: bool) -> None:
    """Dimensions (in metres: the model has no centimetres) and weight."""
    sides = (container.length_cm, container.width_cm, container.height_cm)
    if all(side is not None for side in sides):
        length, width, height = (
            format_decimal((side / CENTIMETRES_PER_METRE).normalize()) for side in sides
        )
        raw["dimensions"] = {"length": length, "width": width, "height": height,
                             "unitOfMeasure": "Meter"}
    if with_weight and container.weight_kg is not None:
        raw["weight"] = Weight(value=container.weight_kg, unit=WeightUnitShort.KG).to_json()


def _gross_weight(*, cartons, pallets) -> Weight | None:
    """Pallet weights when every pallet is weighed, else carton weights."""
    if pallets and all(pallet.weight_kg is not None for pallet in pallets):
        return Weight(value=sum((p.weight_kg for p in pallets), Decimal(0)),
                      unit=WeightUnitShort.KG)
    if cartons and all(carton.weight_kg is not None for carton in cartons):
        return Weight(value=sum((c.weight_kg for c in cartons), Decimal(0)),
                      unit=WeightUnitShort.KG)
    return None


def _asn_submit(*, tenant, shipment: Shipment, confirmation_type: str, now) -> Submission:
    shipment.asn_version += 1
    shipment.save(update_fields=["asn_version", "updated_at"])
    submission, _created = submission_create(
        tenant=tenant, account=shipment.account,
        document_type=DocumentType.SHIPMENT_CONFIRMATION,
        document_ref=shipment.shipment_identifier, document_version=shipment.asn_version,
        payload=shipment_asn_payload(shipment=shipment, confirmation_type=confirmation_type,
                                     now=now.replace(microsecond=0)),
    )
    return submission


@transaction.atomic
def shipment_ship(
    *, tenant, shipment_id: int, shipped_at: datetime.datetime | None = None, actor=None
) -> tuple[Shipment, list[str]]:
    """The goods left: consume holds, record shipped quantities, send the ASN.

    Returns the shipment and warnings (e.g. an ASN later than 30 minutes
    after departure). Consuming uses one idempotency key per shipment and
    PO, so a replay moves no stock twice.
    """
    now = timezone.now()
    shipment = shipment_lock(tenant=tenant, shipment_id=shipment_id)
    if shipment is None:
        raise NotFoundError(SHIPMENT_NOT_FOUND)
    if shipment.status != ShipmentStatus.DRAFT:
        raise ApplicationError(NOT_DRAFT.format(identifier=shipment.shipment_identifier))
    shipped_at = shipped_at or now
    if shipped_at > now + timedelta(minutes=1):
        raise ApplicationError(SHIPPED_IN_FUTURE)
    items = list(
        shipment.items.select_related("po_line__purchase_order", "po_line__product")
        .order_by("item_sequence_number")
    )
    purchase_orders = purchase_orders_lock(
        tenant=tenant, purchase_order_ids={item.po_line.purchase_order_id for item in items}
    )
    by_po: dict[int, list[ShipmentItem]] = defaultdict(list)
    for item in items:
        by_po[item.po_line.purchase_order_id].append(item)
    for po in purchase_orders:
        stock_hold_consume(
            tenant=tenant, source_type=HOLD_SOURCE_TYPE, source_ref=str(po.pk),
            lines=[
                {"product_id": item.po_line.product_id,
                 "quantity": item.quantity * max(item.po_line.units_per_order_unit, 1),
                 "line_ref": item.po_line.item_sequence_number,
                 **({"lot": item.lot_number} if item.lot_number else {})}
                for item in by_po[po.pk]
            ],
            idempotency_key=f"shipment:{shipment.pk}:po:{po.pk}",
            warehouse=shipment.warehouse, actor=actor,
        )
        for item in by_po[po.pk]:
            PurchaseOrderLine.objects.filter(tenant=tenant, pk=item.po_line_id).update(
                shipped_quantity=F("shipped_quantity") + item.quantity, updated_at=now
            )
        PurchaseOrderEvent.objects.bulk_create([PurchaseOrderEvent(
            tenant=tenant, purchase_order=po, kind=PurchaseOrderEventKind.SHIPPED,
            dedupe_key=f"shipped:{shipment.shipment_identifier}", occurred_at=shipped_at,
            detail={"shipment": shipment.shipment_identifier,
                    "lines": {i.po_line.item_sequence_number: i.quantity for i in by_po[po.pk]}},
            actor_label=(getattr(actor, "get_username", lambda: "")() or "system")[:200],
        )], ignore_conflicts=True)
    shipment.status = ShipmentStatus.SHIPPED
    shipment.shipped_at = shipped_at
    shipment.save(update_fields=["status", "shipped_at", "updated_at"])
    _asn_submit(tenant=tenant, shipment=shipment,
                confirmation_type=ShipmentConfirmationType.ORIGINAL, now=now)
    warnings = []
    late = now - shipped_at
    if late > ASN_DEADLINE_AFTER_DEPARTURE:
        warnings.append(ASN_LATE_WARNING.format(minutes=int(late.total_seconds() // 60)))
    audit_record(actor=actor, action=AuditAction.ACTION, instance=shipment,
                 summary=f"Shipment {shipment.shipment_identifier} shipped; ASN queued",
                 after={"shipped_at": shipped_at.isoformat(), "warnings": warnings})
    return shipment, warnings


CORRECTABLE = (ShipmentStatus.FAILED, ShipmentStatus.CONFIRMED)
TRANSPORT_FIELDS = ("carrier_scac", "bill_of_lading_number", "carrier_reference_number")


@transaction.atomic
def shipment_transport_update(*, tenant, shipment_id: int, actor=None, **fields) -> Shipment:
    """Fix carrier SCAC, bill of lading or PRO number before a resend.

    Only for a shipment whose ASN Amazon rejected or accepted: a draft is
    edited by rebuilding it, and an ASN in flight is left alone.
    """
    shipment = shipment_lock(tenant=tenant, shipment_id=shipment_id)
    if shipment is None:
        raise NotFoundError(SHIPMENT_NOT_FOUND)
    if shipment.status not in CORRECTABLE:
        raise ApplicationError(NOT_CORRECTABLE)
    before = {name: getattr(shipment, name) for name in TRANSPORT_FIELDS}
    changes = {name: (value or "").strip() for name, value in fields.items()
               if name in TRANSPORT_FIELDS and value is not None}
    for name, value in changes.items():
        setattr(shipment, name, value)
    shipment.full_clean(exclude=["tenant", "account", "warehouse"], validate_constraints=False)
    shipment.save(update_fields=[*changes, "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=shipment,
                 summary=f"Transport details of {shipment.shipment_identifier} corrected",
                 before=before, after={name: getattr(shipment, name) for name in changes})
    return shipment


@transaction.atomic
def shipment_asn_resend(*, tenant, shipment_id: int, actor=None) -> Submission:
    """A new ASN version (explicit): after Amazon rejected the last one,
    or to correct an accepted one (then as a Replace)."""
    shipment = shipment_lock(tenant=tenant, shipment_id=shipment_id)
    if shipment is None:
        raise NotFoundError(SHIPMENT_NOT_FOUND)
    if shipment.status not in CORRECTABLE:
        raise ApplicationError(NOT_FAILED)
    accepted_before = Submission.objects.filter(
        tenant=tenant, account_id=shipment.account_id,
        document_type=DocumentType.SHIPMENT_CONFIRMATION,
        document_ref=shipment.shipment_identifier, status=SubmissionStatus.SUCCESS,
    ).exists()
    kind = ShipmentConfirmationType.REPLACE if accepted_before else (
        ShipmentConfirmationType.ORIGINAL
    )
    shipment.status = ShipmentStatus.SHIPPED
    shipment.save(update_fields=["status", "updated_at"])
    submission = _asn_submit(tenant=tenant, shipment=shipment, confirmation_type=kind,
                             now=timezone.now())
    audit_record(actor=actor, action=AuditAction.ACTION, instance=shipment,
                 summary=f"ASN v{shipment.asn_version} of {shipment.shipment_identifier} sent")
    return submission


# --- Submission hooks (called by channels.services.submissions) -----------------


def submission_document_update(*, tenant, submission: Submission) -> None:
    """Follow the ASN's submission on its shipment."""
    shipment = Shipment.objects.select_for_update().filter(
        tenant=tenant, account_id=submission.account_id,
        shipment_identifier=submission.document_ref,
    ).first()
    if shipment is None or submission.document_version != shipment.asn_version:
        return
    status = None
    if submission.status == SubmissionStatus.SUCCESS:
        status = ShipmentStatus.CONFIRMED
    elif submission.status == SubmissionStatus.FAILURE:
        codes = {error.get("code") for error in submission.errors or []}
        # A resend after a lost answer that Amazon refuses as a duplicate
        # means the first POST had landed: the ASN is there.
        if codes == {"DUPLICATE_SHIPMENT_ID"} and submission.send_attempts > 1:
            status = ShipmentStatus.CONFIRMED
        else:
            status = ShipmentStatus.FAILED
    if status and shipment.status != status:
        shipment.status = status
        shipment.save(update_fields=["status", "updated_at"])


def submission_document_find(*, client, submission: Submission) -> Presence:
    """Is this ASN at Amazon? GetShipmentDetails by our identifier.

    Absence there is not proof (Amazon lists confirmations with a delay),
    but a resend is safe either way: the identifier is the key, and a
    duplicate Original is refused as DUPLICATE_SHIPMENT_ID (see above).
    """
    page = client.get_shipment_details_page(
        vendor_shipment_identifier=submission.document_ref
    )
    if any(s.vendor_shipment_identifier == submission.document_ref for s in page.shipments):
        return Presence.PRESENT
    return Presence.ABSENT
