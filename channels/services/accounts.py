"""Amazon vendor accounts: create, update (secrets write-only), test the
connection, re-authorization and client-secret expiry reminders.

Secrets (LWA client secret, refresh token) are encrypted at rest by
``EncryptedTextField``, redacted by ``audit_snapshot`` and never logged.
An update with a blank secret keeps the stored one.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from acorn.dependencies import DEPENDENCY_ERRORS, dependency_message, dependency_of
from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record, audit_snapshot, model_update
from channels.models import (
    AccountStatus,
    AmazonVendorAccount,
    ExceptionKind,
    SyncKind,
)
from channels.selectors.observability import api_call_last_request_id
from channels.services.exceptions import channel_exception_open, channel_exceptions_resolve
from channels.services.runs import sync_run_fail, sync_run_finish, sync_run_start
from vendor_api.errors import ReauthorizationRequired, SpApiError

logger = logging.getLogger(__name__)

ACCOUNT_NOT_FOUND = "No such Amazon vendor account."
SECRETS_REQUIRED = "A new account needs the LWA client secret and refresh token."
# Amazon makes LWA client secrets expire 180 days after they are issued.
SECRET_ROTATION_DAYS = 180
# Reminders start this many days before the rotation deadline: enough for
# an admin to rotate in the Developer Console without a rushed change.
SECRET_EXPIRY_REMINDER_DAYS = 14

ACCOUNT_FIELDS = [
    "name", "region", "marketplace_id", "environment", "endpoint_override", "vendor_codes",
    "ship_from", "lwa_client_id", "lwa_client_secret_expires_on", "poll_interval_minutes",
    "initial_lookback_days", "ack_auto_send", "ack_deadline_hours", "backorder_horizon_days",
]
SECRET_FIELDS = ["lwa_client_secret", "lwa_refresh_token"]
# Changing any of these may fix a refused grant: the account is re-enabled.
CREDENTIAL_FIELDS = {"lwa_client_id", "environment", "endpoint_override", *SECRET_FIELDS}


def account_get(*, tenant, account_id: int) -> AmazonVendorAccount:
    account = AmazonVendorAccount.objects.filter(tenant=tenant, pk=account_id).first()
    if account is None:
        raise NotFoundError(ACCOUNT_NOT_FOUND)
    return account


@transaction.atomic
def account_create(*, tenant, actor=None, **data) -> AmazonVendorAccount:
    """A new account; both secrets are required."""
    if not data.get("lwa_client_secret") or not data.get("lwa_refresh_token"):
        raise ApplicationError(SECRETS_REQUIRED)
    fields = {k: v for k, v in data.items() if k in ACCOUNT_FIELDS + SECRET_FIELDS}
    account = AmazonVendorAccount(tenant=tenant, **fields)
    account.full_clean(exclude=["tenant"])
    account.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE, instance=account,
        after=audit_snapshot(account), summary="Amazon vendor account created",
    )
    return account


@transaction.atomic
def account_update(*, tenant, account: AmazonVendorAccount, data: dict, actor=None):
    """Update whitelisted fields; blank secrets keep the stored value.

    New credentials re-enable an account that needed re-authorization, and
    resolve its REAUTH_NEEDED exception; a new secret also resolves the
    expiry reminder.
    """
    account = (
        AmazonVendorAccount.objects.select_for_update().filter(tenant=tenant, pk=account.pk).get()
    )
    data = dict(data)
    for name in SECRET_FIELDS:
        if not data.get(name):
            data.pop(name, None)
    before = audit_snapshot(account)
    credentials_before = {name: getattr(account, name) for name in CREDENTIAL_FIELDS}
    account, changed = model_update(
        instance=account, fields=ACCOUNT_FIELDS + SECRET_FIELDS, data=data
    )
    credentials_changed = any(
        getattr(account, name) != value for name, value in credentials_before.items()
    )
    if credentials_changed and account.status == AccountStatus.REAUTH_NEEDED:
        model_update(
            instance=account, fields=["status", "status_detail"],
            data={"status": AccountStatus.ACTIVE, "status_detail": ""},
        )
        channel_exceptions_resolve(
            tenant=tenant, kind=ExceptionKind.REAUTH_NEEDED, account=account,
            resolution="New credentials were saved.",
        )
    if "lwa_client_secret" in data:
        channel_exceptions_resolve(
            tenant=tenant, kind=ExceptionKind.SECRET_EXPIRING, account=account,
            resolution="A new client secret was saved.",
        )
    after = audit_snapshot(account)
    # A re-entered secret is a change even though both sides read [redacted].
    for name in SECRET_FIELDS:
        if name in data:
            before[name] = "[previous]"
    if changed:
        audit_record(
            actor=actor, action=AuditAction.UPDATE, instance=account, before=before, after=after,
            summary="Amazon vendor account updated",
        )
    return account, changed


@transaction.atomic
def account_mark_reauth_needed(*, tenant, account: AmazonVendorAccount, error: SpApiError):
    """LWA refused the grant: stop syncing until an admin saves new credentials."""
    detail = f"{error.error_code}: {error.message}"[:500]
    AmazonVendorAccount.objects.filter(tenant=tenant, pk=account.pk).update(
        status=AccountStatus.REAUTH_NEEDED, status_detail=detail, updated_at=timezone.now()
    )
    account.status = AccountStatus.REAUTH_NEEDED
    account.status_detail = detail
    channel_exception_open(
        tenant=tenant, account=account, kind=ExceptionKind.REAUTH_NEEDED,
        subject_key=f"account:{account.pk}",
        message=f"Amazon refused the stored credentials of {account.name}; "
        "authorise the application again and save the new refresh token.",
        detail={"error_code": error.error_code or "", "request_id": error.request_id or ""},
    )
    audit_record(
        actor=None, action=AuditAction.ACTION, instance=account,
        summary="Account needs re-authorization", after={"status": account.status},
    )


def account_test_connection(*, tenant, account: AmazonVendorAccount, actor=None, **client_options):
    """Call getPurchaseOrders for the last day (limit 1) and record the result.

    Returns the finished SyncRun (status, request id, detail). Runs outside
    a transaction so the call log and run survive a failed call.
    """
    from channels.services.clients import account_client_build
    from vendor_api.transport import RetryPolicy

    # A test answers at once: one attempt, no backoff, a short budget.
    client_options.setdefault(
        "retry_policy", RetryPolicy(max_attempts=1, total_budget_seconds=15)
    )
    run = sync_run_start(tenant=tenant, account=account, kind=SyncKind.CONNECTION_TEST)
    now = timezone.now()
    request_id = ""
    try:
        with account_client_build(account=account, **client_options) as client:
            page = client.get_purchase_orders_page(
                created_after=now - datetime.timedelta(days=1), created_before=now, limit=1
            )
            request_id = api_call_last_request_id(tenant=tenant, account=account)
    except ReauthorizationRequired as error:
        account_mark_reauth_needed(tenant=tenant, account=account, error=error)
        ok, detail = False, f"{error.error_code}: {error.message}"
        request_id = error.request_id or ""
        run = sync_run_fail(tenant=tenant, run=run, error=error)
    except SpApiError as error:
        ok, detail = False, f"{error.error_code}: {error.message}"
        request_id = error.request_id or ""
        run = sync_run_fail(tenant=tenant, run=run, error=error)
    except DEPENDENCY_ERRORS as error:
        # Redis (token cache, rate limiter) or the database is down: the
        # test fails visibly instead of a 500 that keeps no record.
        if dependency_of(error) == "database":
            raise
        ok, detail = False, dependency_message(error)
        run = sync_run_fail(tenant=tenant, run=run, error=error)
    else:
        ok = True
        detail = f"Connected; {len(page.orders)} purchase order(s) in the last day (limit 1)."
        run = sync_run_finish(
            tenant=tenant, run=run, counts={"orders_seen": len(page.orders)},
            request_id=request_id,
        )
    with transaction.atomic():
        AmazonVendorAccount.objects.filter(tenant=tenant, pk=account.pk).update(
            last_connection_test_at=timezone.now(), last_connection_test_ok=ok,
            last_connection_test_detail=detail[:500],
        )
        audit_record(
            actor=actor, action=AuditAction.ACTION, instance=account,
            summary=f"Connection test {'passed' if ok else 'failed'} (request id {request_id})",
            after={"ok": ok, "request_id": request_id, "detail": detail[:200]},
        )
    return run


@transaction.atomic
def account_secret_expiry_check(*, tenant, today: datetime.date | None = None) -> int:
    """Open a SECRET_EXPIRING exception for each account whose LWA client
    secret expires within SECRET_EXPIRY_REMINDER_DAYS (or already has)."""
    today = today or timezone.now().date()
    horizon = today + datetime.timedelta(days=SECRET_EXPIRY_REMINDER_DAYS)
    opened = 0
    accounts = AmazonVendorAccount.objects.filter(
        tenant=tenant, lwa_client_secret_expires_on__isnull=False,
        lwa_client_secret_expires_on__lte=horizon,
    ).exclude(status=AccountStatus.DISABLED)
    for account in accounts:
        days_left = (account.lwa_client_secret_expires_on - today).days
        message = (
            f"The LWA client secret of {account.name} expires on "
            f"{account.lwa_client_secret_expires_on.isoformat()} ({days_left} days); "
            "rotate it in the Developer Console and save the new secret."
            if days_left >= 0
            else f"The LWA client secret of {account.name} expired on "
            f"{account.lwa_client_secret_expires_on.isoformat()}; calls will fail."
        )
        _exception, created = channel_exception_open(
            tenant=tenant, account=account, kind=ExceptionKind.SECRET_EXPIRING,
            subject_key=f"account:{account.pk}:secret:{account.lwa_client_secret_expires_on}",
            message=message, detail={"expires_on": str(account.lwa_client_secret_expires_on)},
        )
        opened += int(created)
    return opened
