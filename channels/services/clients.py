"""The one place an SP-API client is built for an Amazon vendor account.

Every caller (PO sync, reports, acknowledgements, shipments, invoices)
gets its client from ``account_client_build`` so credentials, endpoint and
the call log are handled the same way everywhere::

    from channels.services.clients import account_client_build

    with account_client_build(account=account) as client:
        receipt = client.submit_acknowledgement(acknowledgements=[...])

Each call the client makes (retries folded in) is persisted as an
``ApiCallLog`` row of the account's tenant: operation, status, request id,
duration, attempts and error code; never bodies or secrets.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.views.decorators.debug import sensitive_variables

from channels.models import AccountEnvironment, AmazonVendorAccount, ApiCallLog
from vendor_api.client import VendorApiClient
from vendor_api.endpoints import Endpoint
from vendor_api.endpoints import Region as ApiRegion
from vendor_api.errors import EndpointNotAllowed
from vendor_api.lwa import LwaCredentials, lwa_grant_forget
from vendor_api.transport import ApiCallRecord

logger = logging.getLogger(__name__)


def account_endpoint_unchecked(
    *, environment: str, region: str, endpoint_override: str = ""
) -> Endpoint:
    """Where calls with these destination settings would go (no check)."""
    api_region = ApiRegion(region)
    if environment == AccountEnvironment.LOCAL_SANDBOX:
        base_url = endpoint_override or settings.ACORN_SANDBOX_URL
        return Endpoint.local_sandbox(base_url=base_url, region=api_region)
    return Endpoint(
        region=api_region,
        use_amazon_sandbox=environment == AccountEnvironment.SANDBOX,
        base_url=endpoint_override or None,
    )


def account_endpoint_problem(
    *, environment: str, region: str, endpoint_override: str = ""
) -> str | None:
    """Why these destination settings are refused, or None.

    Amazon's documented hosts are always allowed, anything else only when
    ACORN_SPAPI_ENDPOINT_ALLOWLIST names its origin.
    """
    try:
        account_endpoint_unchecked(
            environment=environment, region=region, endpoint_override=endpoint_override
        ).check_allowed(allowlist=settings.ACORN_SPAPI_ENDPOINT_ALLOWLIST)
    except EndpointNotAllowed as error:
        return error.message
    return None


def account_endpoint(*, account: AmazonVendorAccount) -> Endpoint:
    """Where the account's calls go: region + environment + override.

    Checked on every build, not only when saved: a row stored before the
    allow-list existed, or a setting narrowed since, sends nothing.
    """
    return account_endpoint_unchecked(
        environment=account.environment, region=account.region,
        endpoint_override=account.endpoint_override,
    ).check_allowed(allowlist=settings.ACORN_SPAPI_ENDPOINT_ALLOWLIST)


@sensitive_variables()
def account_credentials(*, account: AmazonVendorAccount) -> LwaCredentials:
    return LwaCredentials(
        client_id=account.lwa_client_id,
        client_secret=account.lwa_client_secret,
        refresh_token=account.lwa_refresh_token,
    )


@sensitive_variables()
def account_lwa_forget(*, account: AmazonVendorAccount) -> None:
    """Forget the cached token and refused mark of the account's grant as
    stored now (call before and after saving new credentials)."""

    endpoint = account_endpoint_unchecked(
        environment=account.environment, region=account.region,
        endpoint_override=account.endpoint_override,
    )
    lwa_grant_forget(
        credentials=account_credentials(account=account), token_url=endpoint.lwa_token_url,
        cache=cache,
    )


def account_limiter_key(*, account: AmazonVendorAccount) -> str:
    """The selling-partner part of the rate-limit bucket names.

    Amazon meters each (selling partner, application) pair; one ACORN
    account is one vendor group, so the account id names its buckets and
    every worker process shares them through the limiter's Redis keys.
    """
    return f"acct{account.pk}"


def api_call_log_hook(*, account: AmazonVendorAccount):
    """A ``call_hook`` persisting each ApiCallRecord for the account's tenant."""
    tenant_id = account.tenant_id
    account_id = account.pk

    def record(call: ApiCallRecord) -> None:
        row = ApiCallLog(
            tenant_id=tenant_id,
            account_id=account_id,
            operation=call.operation[:60],
            method=call.method[:10],
            path=call.path[:300],
            status_code=call.status,
            request_id=(call.request_id or "")[:100],
            duration_ms=max(0, int(round(call.duration_seconds * 1000))),
            attempts=max(1, call.attempts),
            throttled_attempts=max(0, min(call.throttled_attempts, call.attempts)),
            error_code=(call.error_code or "")[:100],
        )
        # No full_clean: the row is built from the client's typed record and
        # one extra query per API call would halve a sync's throughput.
        row.save(force_insert=True)

    return record


@sensitive_variables()
def account_client_build(*, account: AmazonVendorAccount, **client_options) -> VendorApiClient:
    """A VendorApiClient for ``account`` with decrypted credentials.

    ``client_options`` pass through to VendorApiClient (``limiter``,
    ``cache``, ``usage_plans``, ``retry_policy``...), e.g. for tests and
    the benchmark; the call log hook is always installed. Raises
    ``EndpointNotAllowed`` (sending nothing) for an endpoint outside
    Amazon's hosts and the allow-list.
    """
    return VendorApiClient(
        credentials=account_credentials(account=account),
        endpoint=account_endpoint(account=account),
        selling_partner_id=account_limiter_key(account=account),
        call_hook=api_call_log_hook(account=account),
        **client_options,
    )
