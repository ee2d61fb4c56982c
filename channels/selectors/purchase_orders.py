"""Reads of purchase orders: the board, the detail page, the BI API."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from channels.models import (
    ChannelException,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
)
from inventory.selectors import atp_for_products


def purchase_order_list(*, tenant, filters: dict | None = None) -> QuerySet[PurchaseOrder]:
    """POs by state / ack status / account / dates, searchable by number,
    ASIN or ship-to."""
    filters = filters or {}
    queryset = PurchaseOrder.objects.filter(tenant=tenant).select_related("account")
    if filters.get("state"):
        queryset = queryset.filter(state=filters["state"])
    if filters.get("ack_status"):
        queryset = queryset.filter(ack_status=filters["ack_status"])
    if filters.get("account"):
        queryset = queryset.filter(account_id=filters["account"])
    if filters.get("ordered_after"):
        queryset = queryset.filter(ordered_at__gte=filters["ordered_after"])
    if filters.get("ordered_before"):
        queryset = queryset.filter(ordered_at__lt=filters["ordered_before"])
    if filters.get("number"):
        queryset = queryset.filter(number=filters["number"])
    if filters.get("q"):
        q = filters["q"].strip()
        queryset = queryset.filter(
            Q(number__iexact=q)
            | Q(ship_to_party_id__iexact=q)
            | Q(pk__in=PurchaseOrderLine.objects.filter(tenant=tenant, asin__iexact=q)
                .values("purchase_order_id"))
        )
    return queryset.order_by("-ordered_at", "-id")


def purchase_order_list_with_lines(*, tenant, filters: dict | None = None):
    lines = PurchaseOrderLine.objects.filter(tenant=tenant).select_related("product")
    return purchase_order_list(tenant=tenant, filters=filters).prefetch_related(
        Prefetch("lines", queryset=lines)
    )


def purchase_order_get(*, tenant, purchase_order_id: int) -> PurchaseOrder | None:
    lines = PurchaseOrderLine.objects.filter(tenant=tenant).select_related("product")
    events = PurchaseOrderEvent.objects.filter(tenant=tenant).order_by("occurred_at", "id")
    exceptions = ChannelException.objects.filter(tenant=tenant).order_by("-created_at", "-id")
    return (
        PurchaseOrder.objects.filter(tenant=tenant, pk=purchase_order_id)
        .select_related("account")
        .prefetch_related(
            Prefetch("lines", queryset=lines),
            Prefetch("events", queryset=events),
            Prefetch("exceptions", queryset=exceptions),
        )
        .first()
    )


def purchase_order_line_atp(*, tenant, purchase_order) -> dict[int, object]:
    """ATP on the amazon_vendor channel for the PO's mapped products."""

    product_ids = {line.product_id for line in purchase_order.lines.all() if line.product_id}
    if not product_ids:
        return {}
    return atp_for_products(tenant=tenant, channel="amazon_vendor", product_ids=product_ids)
