"""Reads the invoicing app makes of shipments and purchase orders.

Invoicing (floor 2) bills what was shipped; it reads channels only through
these selectors and never writes channels' models.
"""

from __future__ import annotations

from django.db.models import Count, QuerySet, Sum

from channels.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)

# A shipment whose goods left the warehouse: it can be invoiced. A rejected
# ASN (failed) also shipped; the pre-send check warns about it.
INVOICEABLE_SHIPMENT_STATUSES = (
    ShipmentStatus.SHIPPED, ShipmentStatus.CONFIRMED, ShipmentStatus.FAILED,
)


def shipment_for_invoicing_get(*, tenant, shipment_id: int) -> Shipment | None:
    """A shipment with its account and warehouse (one query)."""
    return (
        Shipment.objects.filter(tenant=tenant, pk=shipment_id)
        .select_related("account", "warehouse").first()
    )


def shipment_items_for_invoicing(*, tenant, shipment_id: int) -> QuerySet[ShipmentItem]:
    """The shipment's items with their PO line, PO, account and product
    (one query), in ASN order."""
    return (
        ShipmentItem.objects.filter(tenant=tenant, shipment_id=shipment_id)
        .select_related("po_line__purchase_order__account", "po_line__product")
        .order_by("item_sequence_number", "id")
    )


def purchase_order_lines_for_invoicing(*, tenant, line_ids) -> dict[int, PurchaseOrderLine]:
    """PO lines by id with their PO and product (one query)."""
    lines = PurchaseOrderLine.objects.filter(tenant=tenant, pk__in=list(line_ids)).select_related(
        "purchase_order", "product"
    )
    return {line.pk: line for line in lines}


def purchase_order_for_invoicing_get(*, tenant, purchase_order_id: int) -> PurchaseOrder | None:
    return (
        PurchaseOrder.objects.filter(tenant=tenant, pk=purchase_order_id)
        .select_related("account").first()
    )


def shipped_purchase_orders(*, tenant, account_id: int | None = None) -> list[dict]:
    """Every (shipment, PO) pair of shipped shipments, newest first: what
    can be invoiced. One aggregate query; rows are plain dicts."""
    queryset = ShipmentItem.objects.filter(
        tenant=tenant, shipment__status__in=INVOICEABLE_SHIPMENT_STATUSES
    )
    if account_id:
        queryset = queryset.filter(shipment__account_id=account_id)
    return list(
        queryset.values(
            "shipment_id", "shipment__shipment_identifier", "shipment__status",
            "shipment__shipped_at", "po_line__purchase_order_id",
            "po_line__purchase_order__number", "shipment__account__name",
        )
        .annotate(units=Sum("quantity"), lines=Count("id"))
        .order_by("-shipment__shipped_at", "-shipment_id", "po_line__purchase_order__number")
    )


def shipment_quantities_by_line(*, tenant, shipment_id: int) -> dict[int, int]:
    """Units of each PO line in one shipment (the ASN's quantities)."""
    rows = (
        ShipmentItem.objects.filter(tenant=tenant, shipment_id=shipment_id)
        .values("po_line_id").annotate(units=Sum("quantity")).order_by("po_line_id")
    )
    return {row["po_line_id"]: row["units"] for row in rows}
