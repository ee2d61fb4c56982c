"""Reads of data-retention archive runs."""

from __future__ import annotations

from django.db.models import QuerySet

from channels.models import ArchiveRun


def archive_run_list(*, tenant, filters: dict | None = None) -> QuerySet[ArchiveRun]:
    filters = filters or {}
    queryset = ArchiveRun.objects.filter(tenant=tenant)
    if filters.get("dataset"):
        queryset = queryset.filter(dataset=filters["dataset"])
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    return queryset.order_by("-started_at", "-id")


def archive_run_get(*, tenant, run_id: int) -> ArchiveRun | None:
    return ArchiveRun.objects.filter(tenant=tenant, pk=run_id).first()
