"""Fixtures: a real sandbox over HTTP with a per-test LWA grant, accounts
pointing at it, and the tenant scope."""

import uuid

import pytest

from acorn.tenancy import tenant_scope
from acorn.tests.factories import TenantFactory
from vendor_api.sandbox.testing import running_sandbox
from vendor_api.transport import RetryPolicy


@pytest.fixture
def tenant(db):
    return TenantFactory(slug="acme", name="Acme")


@pytest.fixture
def scope(tenant):
    with tenant_scope(tenant):
        yield tenant


@pytest.fixture
def sandbox():
    with running_sandbox(purchase_orders=0) as handle:
        yield handle
        problems = handle.state.conformance_problems
        assert problems == [], f"sandbox served non-conforming responses: {problems[:5]}"


@pytest.fixture
def grant(sandbox):
    """A fresh LWA app + refresh token for DEMO1: no cached token or
    refused-grant mark leaks between tests."""
    suffix = uuid.uuid4().hex[:12]
    credentials = {
        "client_id": f"amzn1.application-oa2-client.{suffix}",
        "client_secret": f"secret-{suffix}",
        "refresh_token": f"Atzr|{suffix}",
    }
    sandbox.control("POST", "/_sandbox/apps", {**credentials, "vendor_codes": ["DEMO1"]})
    return credentials


@pytest.fixture
def fast_retries():
    return {"retry_policy": RetryPolicy(max_attempts=3, base_delay_seconds=0.05,
                                        max_delay_seconds=0.2, total_budget_seconds=10)}


@pytest.fixture
def sandbox_account(scope, sandbox, grant):
    from channels.tests.factories import AmazonVendorAccountFactory

    return AmazonVendorAccountFactory(
        tenant=scope, name="Sandbox US", endpoint_override=sandbox.base_url,
        lwa_client_id=grant["client_id"], lwa_client_secret=grant["client_secret"],
        lwa_refresh_token=grant["refresh_token"],
    )


# --- Second half (acknowledgements, submissions, shipments) ----------------


@pytest.fixture
def live(tenant):
    """The tenant in context with no outer transaction: each service
    commits, on_commit callbacks run and eager tasks follow, as in
    production. Use with ``@pytest.mark.django_db(transaction=True)``."""
    with tenant_scope(tenant, atomic=False):
        yield tenant


@pytest.fixture
def live_account(live, sandbox, grant):
    from channels.tests.factories import AmazonVendorAccountFactory

    return AmazonVendorAccountFactory(
        tenant=live, name="Sandbox US", endpoint_override=sandbox.base_url,
        lwa_client_id=grant["client_id"], lwa_client_secret=grant["client_secret"],
        lwa_refresh_token=grant["refresh_token"],
    )
