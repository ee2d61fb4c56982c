"""Reads of sync runs and the API call log."""

from __future__ import annotations

from django.db.models import QuerySet

from channels.models import ApiCallLog, SyncRun


def sync_run_list(*, tenant, filters: dict | None = None) -> QuerySet[SyncRun]:
    filters = filters or {}
    queryset = SyncRun.objects.filter(tenant=tenant).select_related("account")
    for name in ("kind", "status"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    if filters.get("account"):
        queryset = queryset.filter(account_id=filters["account"])
    return queryset.order_by("-started_at", "-id")


def api_call_list(*, tenant, filters: dict | None = None) -> QuerySet[ApiCallLog]:
    """Calls by operation, status (a code, or "error"), request id and date."""
    filters = filters or {}
    queryset = ApiCallLog.objects.filter(tenant=tenant).select_related("account")
    if filters.get("operation"):
        queryset = queryset.filter(operation=filters["operation"])
    status = filters.get("status")
    if status == "error":
        queryset = queryset.exclude(error_code="")
    elif status:
        queryset = queryset.filter(status_code=int(status))
    if filters.get("request_id"):
        queryset = queryset.filter(request_id=filters["request_id"].strip())
    if filters.get("account"):
        queryset = queryset.filter(account_id=filters["account"])
    if filters.get("date_from"):
        queryset = queryset.filter(created_at__date__gte=filters["date_from"])
    if filters.get("date_to"):
        queryset = queryset.filter(created_at__date__lte=filters["date_to"])
    return queryset.order_by("-created_at", "-id")


def api_call_operations(*, tenant) -> list[str]:
    return list(
        ApiCallLog.objects.filter(tenant=tenant).order_by("operation")
        .values_list("operation", flat=True).distinct()
    )


def api_call_last_request_id(*, tenant, account) -> str:
    """The request id of the account's latest call: what Amazon support asks for."""
    return (
        ApiCallLog.objects.filter(tenant=tenant, account=account)
        .order_by("-created_at", "-id")
        .values_list("request_id", flat=True)
        .first()
        or ""
    )
