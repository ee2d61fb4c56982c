"""Amazon API health from the call log: success rate, 429 share, latency.

One query per call of ``api_call_stats``, aggregated in PostgreSQL
(percentile_cont for p95), grouped by account and optionally operation.
Shared by the account page, the home card, the alert check and /metrics.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Aggregate, Avg, Count, FloatField, Max, Q, Sum
from django.utils import timezone

from channels.models import (
    AccountStatus,
    AmazonVendorAccount,
    ApiCallLog,
    ChannelException,
    ExceptionKind,
    ExceptionStatus,
)


class Percentile(Aggregate):
    """PostgreSQL ``percentile_cont(fraction) WITHIN GROUP (ORDER BY x)``."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be within [0, 1]")
        super().__init__(expression, fraction=float(fraction), **extra)


@dataclass(frozen=True)
class ApiCallStats:
    account_id: int
    account_name: str
    operation: str  # "" when grouped by account only
    calls: int
    succeeded: int
    failed: int
    throttled_calls: int
    attempts: int
    throttled_attempts: int
    avg_ms: float
    p95_ms: float
    max_ms: int

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.calls if self.calls else 1.0

    @property
    def throttled_share(self) -> float:
        return self.throttled_attempts / self.attempts if self.attempts else 0.0

    @property
    def success_percent(self) -> float:
        return round(100 * self.success_rate, 1)

    @property
    def throttled_percent(self) -> float:
        return round(100 * self.throttled_share, 1)


def api_health_window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.ACORN_API_HEALTH_WINDOW_MINUTES)


def api_call_stats(
    *, tenant, since: datetime.datetime, account=None, by_operation: bool = True
) -> list[ApiCallStats]:
    """Per account (and operation) since ``since``: one aggregate query.

    A call succeeded when its final answer was 2xx with no error code; the
    429 share counts attempts (retries the client folded into the call),
    so throttling that the backoff absorbed still shows.
    """
    queryset = ApiCallLog.objects.filter(tenant=tenant, created_at__gte=since)
    if account is not None:
        queryset = queryset.filter(account=account)
    group = ["account_id", "account__name"] + (["operation"] if by_operation else [])
    rows = (
        queryset.values(*group)
        .annotate(
            calls=Count("id"),
            succeeded=Count(
                "id", filter=Q(status_code__gte=200, status_code__lt=300, error_code="")
            ),
            throttled_calls=Count("id", filter=Q(status_code=429)),
            attempts_sum=Sum("attempts"),
            throttled_sum=Sum("throttled_attempts"),
            avg_ms=Avg("duration_ms"),
            p95_ms=Percentile("duration_ms", 0.95),
            max_ms=Max("duration_ms"),
        )
        .order_by(*group)
    )
    return [
        ApiCallStats(
            account_id=row["account_id"],
            account_name=row["account__name"],
            operation=row.get("operation", ""),
            calls=row["calls"],
            succeeded=row["succeeded"],
            failed=row["calls"] - row["succeeded"],
            throttled_calls=row["throttled_calls"],
            attempts=row["attempts_sum"] or 0,
            throttled_attempts=row["throttled_sum"] or 0,
            avg_ms=round(row["avg_ms"] or 0.0, 1),
            p95_ms=round(row["p95_ms"] or 0.0, 1),
            max_ms=row["max_ms"] or 0,
        )
        for row in rows
    ]


def api_stats_healthy(stats: ApiCallStats, *, margin_percent: float = 0) -> bool:
    """Within the thresholds (``margin_percent`` inside them, for closing)."""
    min_success = (settings.ACORN_API_HEALTH_MIN_SUCCESS_PERCENT + margin_percent) / 100
    max_throttled = (settings.ACORN_API_HEALTH_MAX_THROTTLED_PERCENT - margin_percent) / 100
    return stats.success_rate >= min_success and stats.throttled_share <= max_throttled


def overview_cards(*, tenant) -> list[dict]:
    """One home card per active account: its API health over the window."""
    window = api_health_window()
    accounts = list(
        AmazonVendorAccount.objects.filter(tenant=tenant, status=AccountStatus.ACTIVE)
        .order_by("name", "id").values_list("id", "name")
    )
    if not accounts:
        return []
    stats = {
        row.account_id: row
        for row in api_call_stats(
            tenant=tenant, since=timezone.now() - window, by_operation=False
        )
    }
    minutes = int(window.total_seconds() // 60)
    cards = []
    for account_id, name in accounts:
        row = stats.get(account_id)
        card = {"url_name": "channels:api_call_list", "query": f"account={account_id}"}
        if row is None:
            cards.append({**card, "code": "api_health_idle", "value": None, "tone": "",
                          "params": {"account": name, "minutes": minutes}})
            continue
        enough = row.calls >= settings.ACORN_API_HEALTH_MIN_CALLS
        cards.append({
            **card, "code": "api_health", "value": row.success_percent, "unit": "%",
            "params": {"account": name, "calls": row.calls, "minutes": minutes,
                       "throttled": row.throttled_percent, "p95": row.p95_ms},
            "tone": "ok" if not enough or api_stats_healthy(row) else "warning",
        })
    return cards


def api_health_open_alerts(*, tenant, account) -> list[ChannelException]:
    """The account's open API health alert (at most one)."""
    return list(
        ChannelException.objects.filter(
            tenant=tenant, account=account, kind=ExceptionKind.API_HEALTH,
            status=ExceptionStatus.OPEN,
        )
    )
