"""Reads of shipments, their items, cartons and pallets."""

from __future__ import annotations

from django.db.models import F, Prefetch, QuerySet

from channels.models import (
    AckStatus,
    Carton,
    CartonItem,
    DocumentType,
    Gs1Settings,
    Pallet,
    PurchaseOrderLine,
    Shipment,
    ShipmentItem,
    Submission,
)


def _items():
    return ShipmentItem.objects.select_related(
        "po_line__purchase_order", "po_line__product"
    ).order_by("item_sequence_number", "id")


def _cartons():
    contents = CartonItem.objects.select_related("shipment_item").order_by("id")
    return Carton.objects.select_related("pallet").prefetch_related(
        Prefetch("contents", queryset=contents)
    ).order_by("sequence_number", "id")


def _pallets():
    cartons = Carton.objects.only("id", "pallet_id", "sequence_number", "sscc").order_by(
        "sequence_number", "id"
    )
    return Pallet.objects.prefetch_related(Prefetch("cartons", queryset=cartons)).order_by(
        "sequence_number", "id"
    )


def shipment_list(*, tenant, filters: dict | None = None) -> QuerySet[Shipment]:
    """Shipments with items, cartons and pallets prefetched (pages, API)."""
    filters = filters or {}
    queryset = Shipment.objects.filter(tenant=tenant)
    for key in ("status", "ship_to_party_id", "shipment_identifier"):
        if filters.get(key):
            queryset = queryset.filter(**{key: filters[key]})
    if filters.get("account"):
        queryset = queryset.filter(account_id=filters["account"])
    if filters.get("shipped_after"):
        queryset = queryset.filter(shipped_at__gte=filters["shipped_after"])
    return (
        queryset.select_related("account", "warehouse")
        .prefetch_related(
            Prefetch("items", queryset=_items()), Prefetch("cartons", queryset=_cartons()),
            Prefetch("pallets", queryset=_pallets()),
        )
        .order_by("-created_at", "-id")
    )


def shipment_get(*, tenant, shipment_id: int) -> Shipment | None:
    return shipment_list(tenant=tenant).filter(pk=shipment_id).first()


def shipment_submissions(*, tenant, shipment) -> QuerySet[Submission]:
    return Submission.objects.filter(
        tenant=tenant, account_id=shipment.account_id,
        document_type=DocumentType.SHIPMENT_CONFIRMATION,
        document_ref=shipment.shipment_identifier,
    ).order_by("-document_version", "-id")


def shipment_candidate_lines(*, tenant, filters: dict | None = None) -> QuerySet[
    PurchaseOrderLine
]:
    """Accepted, not fully shipped lines of acknowledged POs (the builder)."""
    filters = filters or {}
    queryset = PurchaseOrderLine.objects.filter(
        tenant=tenant,
        purchase_order__ack_status__in=(AckStatus.SUBMITTED, AckStatus.ACCEPTED),
        planned_accept__gt=F("shipped_quantity"),
    ).exclude(purchase_order__state="Closed")
    if filters.get("ship_to_party_id"):
        queryset = queryset.filter(purchase_order__ship_to_party_id=filters["ship_to_party_id"])
    if filters.get("account"):
        queryset = queryset.filter(purchase_order__account_id=filters["account"])
    return queryset.select_related("purchase_order__account", "product").order_by(
        "purchase_order__ship_to_party_id", "purchase_order__number", "item_sequence_number",
        "id",
    )


def shipments_for_purchase_order(*, tenant, purchase_order) -> QuerySet[Shipment]:
    return (
        Shipment.objects.filter(tenant=tenant, items__po_line__purchase_order=purchase_order)
        .distinct()
        .order_by("-created_at", "-id")
    )


def gs1_settings_get(*, tenant) -> Gs1Settings | None:
    return Gs1Settings.objects.filter(tenant=tenant).first()
