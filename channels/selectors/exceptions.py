"""Reads of the exceptions work queue."""

from __future__ import annotations

from django.db.models import QuerySet

from channels.models import ChannelException, ExceptionStatus


def channel_exception_list(*, tenant, filters: dict | None = None) -> QuerySet[ChannelException]:
    filters = filters or {}
    queryset = ChannelException.objects.filter(tenant=tenant).select_related(
        "account", "purchase_order"
    )
    status = filters.get("status", ExceptionStatus.OPEN)
    if status:
        queryset = queryset.filter(status=status)
    if filters.get("kind"):
        queryset = queryset.filter(kind=filters["kind"])
    if filters.get("account"):
        queryset = queryset.filter(account_id=filters["account"])
    if filters.get("q"):
        queryset = queryset.filter(message__icontains=filters["q"])
    return queryset.order_by("-created_at", "-id")


def channel_exception_get(*, tenant, exception_id: int) -> ChannelException | None:
    return (
        ChannelException.objects.filter(tenant=tenant, pk=exception_id)
        .select_related("account", "purchase_order")
        .first()
    )
