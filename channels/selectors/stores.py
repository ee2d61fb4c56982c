"""Reads of the web-store channel (tenant explicit, N+1 free)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from channels.models import (
    Listing,
    ListingMatch,
    StoreConnection,
    StoreLocationMapping,
    StoreOrder,
    StoreOrderLine,
    StoreSyncRun,
    WebhookEvent,
)

REVIEW_STATES = (ListingMatch.UNMATCHED, ListingMatch.CONFLICT)


def store_connection_list(*, tenant) -> QuerySet[StoreConnection]:
    return StoreConnection.objects.filter(tenant=tenant).annotate(
        listing_count=Count("listings", distinct=True),
        review_count=Count("listings", filter=Q(listings__match_state__in=REVIEW_STATES),
                           distinct=True),
        pending_count=Count("listings", filter=Q(listings__push_pending=True), distinct=True),
    ).order_by("name", "id")


def store_connection_get(*, tenant, connection_id: int) -> StoreConnection | None:
    return StoreConnection.objects.filter(tenant=tenant, pk=connection_id).first()


def store_location_list(*, tenant, connection) -> QuerySet[StoreLocationMapping]:
    return StoreLocationMapping.objects.filter(tenant=tenant, connection=connection) \
        .select_related("warehouse").order_by("-is_primary", "location_name", "id")


def listing_list(*, tenant, filters: dict | None = None) -> QuerySet[Listing]:
    filters = filters or {}
    queryset = Listing.objects.filter(tenant=tenant).select_related("product", "connection")
    if filters.get("connection"):
        queryset = queryset.filter(connection_id=filters["connection"])
    if filters.get("match_state"):
        queryset = queryset.filter(match_state=filters["match_state"])
    if filters.get("review"):
        queryset = queryset.filter(match_state__in=REVIEW_STATES)
    if filters.get("updated_since"):
        queryset = queryset.filter(updated_at__gte=filters["updated_since"])
    return queryset


def store_order_list(*, tenant, filters: dict | None = None) -> QuerySet[StoreOrder]:
    filters = filters or {}
    queryset = StoreOrder.objects.filter(tenant=tenant).select_related("connection") \
        .prefetch_related(Prefetch(
            "lines", queryset=StoreOrderLine.objects.filter(tenant=tenant)
            .select_related("product").order_by("id")))
    if filters.get("connection"):
        queryset = queryset.filter(connection_id=filters["connection"])
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("updated_since"):
        queryset = queryset.filter(updated_at__gte=filters["updated_since"])
    return queryset


def store_sync_run_list(*, tenant, connection) -> QuerySet[StoreSyncRun]:
    return StoreSyncRun.objects.filter(tenant=tenant, connection=connection) \
        .order_by("-started_at", "-id")


def store_webhook_event_list(*, tenant, connection) -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.filter(tenant=tenant, connection=connection) \
        .defer("payload").order_by("-received_at", "-id")
