"""Work-queue alerts on the Amazon API's health, per account.

Every 5 minutes (acorn/schedule.py) each account's calls over the window
are compared with the platform thresholds (settings
ACORN_API_HEALTH_*): below the success rate or above the 429 share, with
at least the minimum number of calls, opens one API_HEALTH exception per
account (the open-exception constraint makes a second impossible; a
later check refreshes its numbers). Back inside the thresholds by a margin
closes it by itself. Accounts with too few calls keep their state: too
little evidence either way.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from acorn.messages import message_store
from channels import message_codes as messages
from channels.models import AmazonVendorAccount, ChannelException, ExceptionKind
from channels.selectors.api_health import api_call_stats, api_health_window, api_stats_healthy
from channels.services.exceptions import channel_exception_open, channel_exceptions_resolve

# Close only when this many percentage points inside both thresholds, so
# an account hovering at the limit does not open and close every check.
RECOVERY_MARGIN_PERCENT = 2


def _subject(account_id: int) -> str:
    return f"account:{account_id}:api_health"


def _message_params(stats) -> dict:
    return {
        "account": stats.account_name, "success": f"{stats.success_percent:g}",
        "calls": stats.calls, "min_success": settings.ACORN_API_HEALTH_MIN_SUCCESS_PERCENT,
        "throttled": f"{stats.throttled_percent:g}",
        "max_throttled": settings.ACORN_API_HEALTH_MAX_THROTTLED_PERCENT,
        "minutes": settings.ACORN_API_HEALTH_WINDOW_MINUTES,
    }


@transaction.atomic
def api_health_check(*, tenant, now=None) -> dict:
    """Open, refresh or close each account's API health alert."""
    now = now or timezone.now()
    stats = api_call_stats(tenant=tenant, since=now - api_health_window(), by_operation=False)
    accounts = {
        account.pk: account
        for account in AmazonVendorAccount.objects.filter(
            tenant=tenant, pk__in=[row.account_id for row in stats]
        )
    }
    opened = resolved = 0
    for row in stats:
        if row.calls < settings.ACORN_API_HEALTH_MIN_CALLS:
            continue
        detail = {
            "calls": row.calls, "succeeded": row.succeeded,
            "success_percent": row.success_percent,
            "attempts": row.attempts, "throttled_attempts": row.throttled_attempts,
            "throttled_percent": row.throttled_percent, "p95_ms": row.p95_ms,
            "window_minutes": settings.ACORN_API_HEALTH_WINDOW_MINUTES,
            "checked_at": now.isoformat(),
        }
        if not api_stats_healthy(row):
            exception, created = channel_exception_open(
                tenant=tenant, account=accounts[row.account_id], kind=ExceptionKind.API_HEALTH,
                subject_key=_subject(row.account_id), code=messages.API_UNHEALTHY,
                params=_message_params(row), detail=detail,
            )
            if created:
                opened += 1
            else:
                code, params, english = message_store(messages.API_UNHEALTHY,
                                                      **_message_params(row))
                ChannelException.objects.filter(pk=exception.pk).update(
                    message=english[:500], message_code=code, message_params=params,
                    detail=detail, updated_at=now,
                )
        elif api_stats_healthy(row, margin_percent=RECOVERY_MARGIN_PERCENT):
            resolved += channel_exceptions_resolve(
                tenant=tenant, kind=ExceptionKind.API_HEALTH,
                subject_keys=[_subject(row.account_id)],
                resolution=(
                    f"Healthy again: {row.success_percent:g}% succeeded, "
                    f"{row.throttled_percent:g}% throttled over {row.calls} calls."
                ),
            )
    return {"opened": opened, "resolved": resolved}

