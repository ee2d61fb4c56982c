"""Amazon vendor accounts: create, update (secrets write-only), change
where calls go, test the connection, re-authorization and the 180-day
client-secret rotation.

Secrets (LWA client secret, refresh token) are encrypted at rest by
``EncryptedTextField``, redacted by ``audit_snapshot``, never logged, and
hidden from debug error pages (``sensitive_variables()`` hides every local
of these services and of what they call). An update with a
blank secret keeps the stored one.

Where an account's calls go (environment, region, endpoint override) is
changed only by ``account_destination_change``: an explicit, audited
action that requires both secrets again, so stored secrets never follow a
changed endpoint; and the endpoint must be one of Amazon's documented hosts
or allow-listed (``ACORN_SPAPI_ENDPOINT_ALLOWLIST``).
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from acorn.dependencies import DEPENDENCY_ERRORS, dependency_message, dependency_of
from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record, audit_snapshot, model_update
from channels import message_codes as messages
from channels.models import (
    AccountEnvironment,
    AccountStatus,
    AmazonVendorAccount,
    ExceptionKind,
    SyncKind,
)
from channels.selectors.observability import api_call_last_request_id
from channels.services.clients import (
    account_client_build,
    account_endpoint_problem,
    account_lwa_forget,
)
from channels.services.exceptions import channel_exception_open, channel_exceptions_resolve
from channels.services.runs import sync_run_fail, sync_run_finish, sync_run_start
from vendor_api.errors import ReauthorizationRequired, SpApiError
from vendor_api.transport import RetryPolicy

logger = logging.getLogger(__name__)

ACCOUNT_NOT_FOUND = "No such Amazon vendor account."
# Amazon makes LWA client secrets expire 180 days after they are issued
# ("rotate your LWA credentials", Developer Console); the reminder starts on
# day 150, leaving a month to rotate without a rushed change.
SECRET_ROTATION_DAYS = 180
SECRET_ROTATION_REMINDER_DAY = 150
SECRET_EXPIRY_REMINDER_DAYS = SECRET_ROTATION_DAYS - SECRET_ROTATION_REMINDER_DAY

# Editable on the account form; where calls go is not among them.
ACCOUNT_FIELDS = [
    "name", "marketplace_id", "vendor_codes", "ship_from", "lwa_client_id",
    "poll_interval_minutes", "initial_lookback_days", "ack_auto_send", "ack_deadline_hours",
    "backorder_horizon_days",
]
DESTINATION_FIELDS = ["environment", "region", "endpoint_override"]
SECRET_FIELDS = ["lwa_client_secret", "lwa_refresh_token"]
# Values that make up the LWA grant: a change may fix a refused grant.
GRANT_FIELDS = ["lwa_client_id", *SECRET_FIELDS]


def _secrets_required_message() -> str:
    return _("Enter the LWA client secret and the refresh token again.")


def _destination_elsewhere_message() -> str:
    return _("Where an account's calls go (environment, region, endpoint) is changed with "
             "\"Change environment\", which asks for the secrets again.")


def account_get(*, tenant, account_id: int) -> AmazonVendorAccount:
    account = AmazonVendorAccount.objects.filter(tenant=tenant, pk=account_id).first()
    if account is None:
        raise NotFoundError(ACCOUNT_NOT_FOUND)
    return account


def _destination_check(*, environment: str, region: str, endpoint_override: str) -> None:

    problem = account_endpoint_problem(
        environment=environment, region=region, endpoint_override=endpoint_override
    )
    if problem:
        raise ApplicationError(
            _("This endpoint is not allowed: %(problem)s") % {"problem": problem},
            {"field": "endpoint_override"},
        )


def _secret_dates(*, today: datetime.date) -> dict:
    return {
        "lwa_client_secret_entered_on": today,
        "lwa_client_secret_expires_on": today + datetime.timedelta(days=SECRET_ROTATION_DAYS),
    }


@sensitive_variables()
@transaction.atomic
def account_create(*, tenant, actor=None, **data) -> AmazonVendorAccount:
    """A new account; both secrets are required, the endpoint is checked."""
    if not data.get("lwa_client_secret") or not data.get("lwa_refresh_token"):
        raise ApplicationError(_secrets_required_message(), {"field": "lwa_client_secret"})
    fields = {k: v for k, v in data.items() if k in ACCOUNT_FIELDS + DESTINATION_FIELDS}
    environment = data.get("environment") or AccountEnvironment.PRODUCTION
    _destination_check(environment=environment, region=data.get("region", ""),
                       endpoint_override=data.get("endpoint_override", ""))
    account = AmazonVendorAccount(tenant=tenant, **fields)
    account.environment = environment
    account.lwa_client_secret = data["lwa_client_secret"]
    account.lwa_refresh_token = data["lwa_refresh_token"]
    for name, value in _secret_dates(today=timezone.now().date()).items():
        setattr(account, name, value)
    account.full_clean(exclude=["tenant"])
    account.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE, instance=account,
        after=audit_snapshot(account), summary="Amazon vendor account created",
    )
    return account


def _grant_saved(*, tenant, account: AmazonVendorAccount, new_secret: bool) -> None:
    """After new credentials: fresh cache, re-enabled account, resolved reminders."""

    transaction.on_commit(lambda: account_lwa_forget(account=account))
    if account.status == AccountStatus.REAUTH_NEEDED:
        model_update(
            instance=account, fields=["status", "status_detail"],
            data={"status": AccountStatus.ACTIVE, "status_detail": ""},
        )
        channel_exceptions_resolve(
            tenant=tenant, kind=ExceptionKind.REAUTH_NEEDED, account=account,
            resolution="New credentials were saved.",
        )
    if new_secret:
        channel_exceptions_resolve(
            tenant=tenant, kind=ExceptionKind.SECRET_EXPIRING, account=account,
            resolution="A new client secret was saved.",
        )


@sensitive_variables()
@transaction.atomic
def account_update(*, tenant, account: AmazonVendorAccount, data: dict, actor=None):
    """Update whitelisted fields; blank secrets keep the stored value.

    Destination fields are refused here (``account_destination_change``).
    New credentials re-enable an account that needed re-authorization,
    resolve its REAUTH_NEEDED exception and clear the grant's cached token
    and refused mark; a new secret restarts the 180-day rotation clock.
    """

    account = (
        AmazonVendorAccount.objects.select_for_update().filter(tenant=tenant, pk=account.pk).get()
    )
    for name in DESTINATION_FIELDS:
        if name in data and data[name] != getattr(account, name):
            raise ApplicationError(_destination_elsewhere_message(), {"field": name})
    secrets = {name: data[name] for name in SECRET_FIELDS if data.get(name)}
    before = audit_snapshot(account)
    grant_before = [getattr(account, name) for name in GRANT_FIELDS]
    # The old grant's cache entries go once the change commits.
    old_account = AmazonVendorAccount(
        tenant_id=account.tenant_id, environment=account.environment, region=account.region,
        endpoint_override=account.endpoint_override, lwa_client_id=account.lwa_client_id,
        lwa_client_secret=account.lwa_client_secret,
        lwa_refresh_token=account.lwa_refresh_token,
    )
    plain = {name: value for name, value in data.items() if name in ACCOUNT_FIELDS}
    account, changed = model_update(instance=account, fields=ACCOUNT_FIELDS, data=plain)
    if secrets:
        for name, value in secrets.items():
            setattr(account, name, value)
        update_fields = [*secrets, "updated_at"]
        if "lwa_client_secret" in secrets:
            for name, value in _secret_dates(today=timezone.now().date()).items():
                setattr(account, name, value)
                update_fields.append(name)
        account.full_clean(exclude=["tenant"])
        account.save(update_fields=update_fields)
        changed = True
    grant_changed = grant_before != [getattr(account, name) for name in GRANT_FIELDS]
    if grant_changed or secrets:
        transaction.on_commit(lambda: account_lwa_forget(account=old_account))
        _grant_saved(tenant=tenant, account=account,
                     new_secret="lwa_client_secret" in secrets)
    after = audit_snapshot(account)
    # A re-entered secret is a change even though both sides read [redacted].
    for name in secrets:
        before[name] = "[previous]"
    if changed:
        audit_record(
            actor=actor, action=AuditAction.UPDATE, instance=account, before=before, after=after,
            summary="Amazon vendor account updated",
        )
    return account, changed


@sensitive_variables()
@transaction.atomic
def account_destination_change(
    *,
    tenant,
    account: AmazonVendorAccount,
    environment: str,
    region: str,
    endpoint_override: str = "",
    lwa_client_secret: str,
    lwa_refresh_token: str,
    actor=None,
) -> AmazonVendorAccount:
    """Switch where the account's calls go (local sandbox, Amazon's sandbox,
    production; region; endpoint), with both secrets entered again.

    Secrets typed for one destination never follow the account to another.
    The sync high-water marks restart: what one environment said about POs
    says nothing about another's. Audited as an action.
    """

    if not lwa_client_secret or not lwa_refresh_token:
        raise ApplicationError(_secrets_required_message(), {"field": "lwa_client_secret"})
    if environment not in AccountEnvironment.values:
        raise ApplicationError(_("Choose an environment."), {"field": "environment"})
    _destination_check(environment=environment, region=region,
                       endpoint_override=endpoint_override)
    account = (
        AmazonVendorAccount.objects.select_for_update().filter(tenant=tenant, pk=account.pk).get()
    )
    before = {name: getattr(account, name) for name in DESTINATION_FIELDS}
    old_account = AmazonVendorAccount(
        tenant_id=account.tenant_id, environment=account.environment, region=account.region,
        endpoint_override=account.endpoint_override, lwa_client_id=account.lwa_client_id,
        lwa_client_secret=account.lwa_client_secret,
        lwa_refresh_token=account.lwa_refresh_token,
    )
    account.environment = environment
    account.region = region
    account.endpoint_override = endpoint_override
    account.lwa_client_secret = lwa_client_secret
    account.lwa_refresh_token = lwa_refresh_token
    for name, value in _secret_dates(today=timezone.now().date()).items():
        setattr(account, name, value)
    destination_moved = before != {name: getattr(account, name) for name in DESTINATION_FIELDS}
    update_fields = [*DESTINATION_FIELDS, *SECRET_FIELDS, "lwa_client_secret_entered_on",
                     "lwa_client_secret_expires_on", "updated_at"]
    if destination_moved:
        account.po_changed_high_water = None
        account.po_status_high_water = None
        account.last_connection_test_at = None
        account.last_connection_test_ok = None
        account.last_connection_test_detail = ""
        update_fields += ["po_changed_high_water", "po_status_high_water",
                          "last_connection_test_at", "last_connection_test_ok",
                          "last_connection_test_detail"]
    account.full_clean(exclude=["tenant"])
    account.save(update_fields=update_fields)
    transaction.on_commit(lambda: account_lwa_forget(account=old_account))
    _grant_saved(tenant=tenant, account=account, new_secret=True)
    after = {name: getattr(account, name) for name in DESTINATION_FIELDS}
    audit_record(
        actor=actor, action=AuditAction.ACTION, instance=account,
        summary=(
            f"Environment switched from {before['environment']} to {environment}"
            if before["environment"] != environment
            else "Destination changed; secrets entered again"
        ),
        before=before, after={**after, "secrets": "entered again"},
    )
    return account


# The steps shown with a re-authorization exception (translated when shown,
# see templates/channels/_reauth_steps.html); stored as a code.
REAUTH_STEPS_CODE = "lwa_reauthorize"


@sensitive_variables()
@transaction.atomic
def account_mark_reauth_needed(*, tenant, account: AmazonVendorAccount, error: SpApiError):
    """LWA refused the grant: stop syncing until an admin saves new
    credentials, and put the steps to take on the work queue."""
    lwa_error = getattr(error, "lwa_error", "") or ""
    detail = f"{error.error_code}: {error.message}"[:500]
    AmazonVendorAccount.objects.filter(tenant=tenant, pk=account.pk).update(
        status=AccountStatus.REAUTH_NEEDED, status_detail=detail, updated_at=timezone.now()
    )
    account.status = AccountStatus.REAUTH_NEEDED
    account.status_detail = detail
    channel_exception_open(
        tenant=tenant, account=account, kind=ExceptionKind.REAUTH_NEEDED,
        subject_key=f"account:{account.pk}",
        code=messages.REAUTH_NEEDED,
        params={"account": account.name, "error": lwa_error or error.error_code or ""},
        detail={"error_code": error.error_code or "", "lwa_error": lwa_error,
                "lwa_error_description": getattr(error, "lwa_error_description", "") or "",
                "request_id": error.request_id or "", "steps": REAUTH_STEPS_CODE},
    )
    audit_record(
        actor=None, action=AuditAction.ACTION, instance=account,
        summary="Account needs re-authorization", after={"status": account.status},
    )


@sensitive_variables()
def account_test_connection(*, tenant, account: AmazonVendorAccount, actor=None, **client_options):
    """A real LWA token exchange (never a cached token), then
    getPurchaseOrders for the last day (limit 1); the result is recorded.

    Returns the finished SyncRun (status, request id, detail). Runs outside
    a transaction so the call log and run survive a failed call. An
    endpoint outside Amazon's hosts and the allow-list sends nothing.
    """

    # A test answers at once: one attempt, no backoff, a short budget.
    client_options.setdefault(
        "retry_policy", RetryPolicy(max_attempts=1, total_budget_seconds=15)
    )
    run = sync_run_start(tenant=tenant, account=account, kind=SyncKind.CONNECTION_TEST)
    now = timezone.now()
    request_id = ""
    try:
        with account_client_build(account=account, **client_options) as client:
            client.tokens.exchange()
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


def account_secret_due_on(*, account: AmazonVendorAccount) -> datetime.date:
    """The day the account's LWA client secret must be rotated by.

    Rows saved before entry dates were recorded count from the account's
    creation: the latest the secret can have been entered.
    """
    if account.lwa_client_secret_expires_on:
        return account.lwa_client_secret_expires_on
    entered = account.lwa_client_secret_entered_on or account.created_at.date()
    return entered + datetime.timedelta(days=SECRET_ROTATION_DAYS)


@transaction.atomic
def account_secret_expiry_check(*, tenant, today: datetime.date | None = None) -> int:
    """Open a SECRET_EXPIRING exception for each account whose LWA client
    secret is at day 150 of its 180 or beyond (daily, idempotent)."""
    today = today or timezone.now().date()
    opened = 0
    accounts = AmazonVendorAccount.objects.filter(tenant=tenant).exclude(
        status=AccountStatus.DISABLED
    )
    for account in accounts:
        due = account_secret_due_on(account=account)
        days_left = (due - today).days
        if days_left > SECRET_EXPIRY_REMINDER_DAYS:
            continue
        code = messages.SECRET_EXPIRING if days_left >= 0 else messages.SECRET_EXPIRED
        params = {"account": account.name, "due": due.isoformat(), "days": days_left}
        _exception, created = channel_exception_open(
            tenant=tenant, account=account, kind=ExceptionKind.SECRET_EXPIRING,
            subject_key=f"account:{account.pk}:secret:{due.isoformat()}",
            code=code, params=params,
            detail={"expires_on": due.isoformat(), "steps": "lwa_rotate"},
        )
        opened += int(created)
    return opened
