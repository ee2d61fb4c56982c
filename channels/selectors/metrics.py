"""The channels families of /metrics (acorn.monitoring.metrics reads these
by dotted name, per tenant, inside the tenant's scope).

Two queries per tenant whatever the number of accounts or calls: the
call-log aggregate of the API health window, and the accounts with their
last successful PO sync.
"""

from __future__ import annotations

from django.db.models import Max, Q

from channels.models import AccountStatus, AmazonVendorAccount, SyncKind, SyncStatus
from channels.selectors.api_health import api_call_stats, api_health_window

_OPERATION = ["account_id", "operation"]
METRIC_DEFINITIONS = {
    "acorn_spapi_window_seconds": (
        "gauge", "Length of the window the acorn_spapi_* families count over.", []),
    "acorn_spapi_calls": (
        "gauge", "SP-API calls in the window (retries folded into one call).", _OPERATION),
    "acorn_spapi_failed_calls": (
        "gauge", "SP-API calls in the window that did not end in a 2xx answer.", _OPERATION),
    "acorn_spapi_attempts": (
        "gauge", "HTTP attempts of the SP-API calls in the window.", _OPERATION),
    "acorn_spapi_throttled_attempts": (
        "gauge", "Attempts Amazon answered 429 in the window.", _OPERATION),
    "acorn_spapi_latency_p95_seconds": (
        "gauge", "95th percentile SP-API call duration in the window.", _OPERATION),
    "acorn_sync_lag_seconds": (
        "gauge", "Seconds since the account's last successful PO sync finished "
        "(since the account was added when it never synced).", ["account_id"]),
}


def metric_samples(*, tenant, now):
    window = api_health_window()
    yield "acorn_spapi_window_seconds", {}, window.total_seconds()
    for row in api_call_stats(tenant=tenant, since=now - window, by_operation=True):
        labels = {"account_id": row.account_id, "operation": row.operation}
        yield "acorn_spapi_calls", labels, row.calls
        yield "acorn_spapi_failed_calls", labels, row.failed
        yield "acorn_spapi_attempts", labels, row.attempts
        yield "acorn_spapi_throttled_attempts", labels, row.throttled_attempts
        yield "acorn_spapi_latency_p95_seconds", labels, row.p95_ms / 1000
    accounts = (
        AmazonVendorAccount.objects.filter(tenant=tenant, status=AccountStatus.ACTIVE)
        .annotate(last_synced_at=Max(
            "sync_runs__finished_at",
            filter=Q(sync_runs__kind=SyncKind.PURCHASE_ORDERS,
                     sync_runs__status=SyncStatus.SUCCEEDED),
        ))
        .order_by("id")
        .values_list("id", "created_at", "last_synced_at")
    )
    for account_id, created_at, last_synced_at in accounts:
        since = last_synced_at or created_at
        yield "acorn_sync_lag_seconds", {"account_id": account_id}, max(
            0.0, (now - since).total_seconds()
        )
