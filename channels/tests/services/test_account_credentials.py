"""An account's LWA grant (issue 9 defect 4, issue 8 re-authorisation):
the connection test is a real token exchange, a wrong secret is never
covered by a cached token, a corrected one works at once, and a refused
grant opens a re-authorisation exception with the steps to take.

Over real Redis (the Django cache) and the sandbox's LWA endpoint.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from channels.models import (
    AccountStatus,
    ChannelException,
    ExceptionKind,
    ExceptionStatus,
    SyncStatus,
)
from channels.services.accounts import account_test_connection, account_update
from channels.services.clients import account_credentials, account_endpoint


def _token_cached(account) -> bool:
    endpoint = account_endpoint(account=account)
    key = account_credentials(account=account).grant_key(token_url=endpoint.lwa_token_url)
    return cache.get(f"{key}:token") is not None


def _save_secret(tenant, account, secret, capture):
    with capture(execute=True):
        account, _changed = account_update(tenant=tenant, account=account,
                                           data={"lwa_client_secret": secret})
    return account


@pytest.mark.django_db
def test_wrong_secret_fails_the_test_even_with_a_token_cached(
    scope, sandbox_account, django_capture_on_commit_callbacks
):
    """Regression: while a token was cached, Test connection said OK with a
    wrong secret (the cache key ignored the secret)."""
    # Given a working account with a cached token
    assert account_test_connection(tenant=scope, account=sandbox_account).status == (
        SyncStatus.SUCCEEDED)
    assert _token_cached(sandbox_account)
    # When an admin saves a mistyped secret and tests
    account = _save_secret(scope, sandbox_account, "mistyped", django_capture_on_commit_callbacks)
    run = account_test_connection(tenant=scope, account=account)
    # Then the test fails with LWA's own error
    assert run.status == SyncStatus.FAILED
    assert run.error_code == "ReauthorizationRequired"
    assert "invalid_client: Client authentication failed." in run.error_message
    account.refresh_from_db()
    assert account.last_connection_test_ok is False
    assert "invalid_client" in account.last_connection_test_detail


@pytest.mark.django_db
def test_rotated_secret_is_caught_by_a_real_exchange(scope, sandbox, grant, sandbox_account):
    """The connection test asks LWA even when a token is still cached."""
    assert account_test_connection(tenant=scope, account=sandbox_account).status == (
        SyncStatus.SUCCEEDED)
    # Given the secret was rotated at Amazon (the cached token still works)
    sandbox.control("POST", "/_sandbox/apps", {**grant, "client_secret": "rotated",
                                               "vendor_codes": ["DEMO1"]})
    # When the admin tests / Then LWA's refusal shows
    run = account_test_connection(tenant=scope, account=sandbox_account)
    assert run.status == SyncStatus.FAILED
    assert "invalid_client" in run.error_message


@pytest.mark.django_db
def test_refused_grant_opens_reauthorisation_and_the_fix_works_at_once(
    scope, sandbox, grant, sandbox_account, django_capture_on_commit_callbacks
):
    """Regression: one refusal blocked the account for 24 h even after the fix."""
    # Given the vendor revoked the authorization
    sandbox.control("POST", "/_sandbox/grants/revoke", {"refresh_token": grant["refresh_token"]})
    run = account_test_connection(tenant=scope, account=sandbox_account)
    # Then the account waits for re-authorisation with an exception and its steps
    assert run.status == SyncStatus.FAILED
    sandbox_account.refresh_from_db()
    assert sandbox_account.status == AccountStatus.REAUTH_NEEDED
    exception = ChannelException.objects.get(kind=ExceptionKind.REAUTH_NEEDED)
    assert exception.detail["lwa_error"] == "invalid_grant"
    assert exception.detail["steps"] == "lwa_reauthorize"
    # When the vendor authorises again and the admin saves the new token
    sandbox.control("POST", "/_sandbox/apps", {**grant, "refresh_token": "Atzr|again",
                                               "vendor_codes": ["DEMO1"]})
    with django_capture_on_commit_callbacks(execute=True):
        account, _changed = account_update(tenant=scope, account=sandbox_account,
                                           data={"lwa_refresh_token": "Atzr|again"})
    # Then the account is active again, the exception resolved, the test OK
    assert account.status == AccountStatus.ACTIVE
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    assert account_test_connection(tenant=scope, account=account).status == (
        SyncStatus.SUCCEEDED)


@pytest.mark.django_db
def test_saving_credentials_forgets_the_old_grant(
    scope, sandbox_account, django_capture_on_commit_callbacks
):
    account_test_connection(tenant=scope, account=sandbox_account)
    old = type(sandbox_account).objects.get(pk=sandbox_account.pk)
    assert _token_cached(old)
    _save_secret(scope, sandbox_account, "next-secret", django_capture_on_commit_callbacks)
    assert not _token_cached(old)


@pytest.mark.django_db
def test_reauthorisation_steps_are_shown_translated(tenant_a, member_client, sandbox, grant):
    from acorn.tenancy import tenant_scope
    from channels.tests.factories import AmazonVendorAccountFactory

    with tenant_scope(tenant_a):
        account = AmazonVendorAccountFactory(
            tenant=tenant_a, endpoint_override=sandbox.base_url,
            lwa_client_id=grant["client_id"], lwa_client_secret=grant["client_secret"],
            lwa_refresh_token=grant["refresh_token"])
    sandbox.control("POST", "/_sandbox/grants/revoke", {"refresh_token": grant["refresh_token"]})
    client = member_client(tenant_a, "admin")
    client.post(reverse("channels:account_test",
                        kwargs={"tenant_slug": "alpha", "account_id": account.pk}))
    url = reverse("channels:exception_list", kwargs={"tenant_slug": "alpha"})
    english = client.get(url).content.decode()
    assert "authorise the application again for this vendor group" in english
    with translation.override("zh-hans"):
        chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "authorise the application again for this vendor group" not in chinese
    assert "重新授权" in chinese
