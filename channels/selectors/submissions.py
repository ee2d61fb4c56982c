"""Reads of submissions (every POST to Amazon)."""

from __future__ import annotations

from django.db.models import QuerySet

from channels.models import Submission


def submission_list(*, tenant, filters: dict | None = None) -> QuerySet[Submission]:
    filters = filters or {}
    queryset = Submission.objects.filter(tenant=tenant).select_related("account")
    for key in ("status", "document_type", "document_ref"):
        if filters.get(key):
            queryset = queryset.filter(**{key: filters[key]})
    if filters.get("account"):
        queryset = queryset.filter(account_id=filters["account"])
    if filters.get("created_after"):
        queryset = queryset.filter(created_at__gte=filters["created_after"])
    return queryset.order_by("-created_at", "-id")


def submission_get(*, tenant, submission_id: int) -> Submission | None:
    return (
        Submission.objects.filter(tenant=tenant, pk=submission_id)
        .select_related("account")
        .prefetch_related("exceptions")
        .first()
    )
