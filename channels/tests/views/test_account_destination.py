"""Secrets never follow a changed endpoint (issue 9 defect 2), endpoints
outside Amazon's hosts are refused unless allow-listed, and switching
environment is an explicit, confirmed, audited action (issue 8).

A second local HTTP listener stands in for an attacker's host and records
whatever reaches it: no token, secret or request may arrive.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from acorn.models import AuditEntry
from acorn.tenancy import tenant_scope
from channels.models import AccountEnvironment, AmazonVendorAccount
from channels.tests.factories import AmazonVendorAccountFactory


class _Recorder(BaseHTTPRequestHandler):
    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        self.server.received.append({"path": self.path, "headers": dict(self.headers),
                                     "body": body})
        self.send_response(500)
        self.end_headers()

    do_GET = do_POST = do_PUT = _record

    def log_message(self, *args):
        pass


@pytest.fixture
def listener():
    """An HTTP server on 127.0.0.1 that records every request."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def live_sandbox_account(tenant_a, sandbox, grant):
    with tenant_scope(tenant_a):
        return AmazonVendorAccountFactory(
            tenant=tenant_a, name="US vendor", environment=AccountEnvironment.LOCAL_SANDBOX,
            endpoint_override=sandbox.base_url, lwa_client_id=grant["client_id"],
            lwa_client_secret=grant["client_secret"], lwa_refresh_token=grant["refresh_token"],
        )


def _urls(account):
    kwargs = {"tenant_slug": "alpha", "account_id": account.pk}
    return {name: reverse(f"channels:{name}", kwargs=kwargs)
            for name in ("account_edit", "account_test", "account_destination")}


def _edit_post(account, **overrides):
    data = {
        "name": account.name, "region": "NA", "marketplace_id": "ATVPDKIKX0DER",
        "vendor_codes": "DEMO1", "environment": "local_sandbox", "endpoint_override": "",
        "lwa_client_id": account.lwa_client_id, "lwa_client_secret": "",
        "lwa_refresh_token": "", "poll_interval_minutes": "15", "initial_lookback_days": "7",
        "ack_auto_send": "never",
    }
    data.update(overrides)
    return data


def _nothing_arrived(listener, grant):
    assert listener.received == [], listener.received
    # (belt and braces: not a single credential in anything recorded)
    dump = str(listener.received)
    assert grant["client_secret"] not in dump and grant["refresh_token"] not in dump


@pytest.mark.django_db
def test_blank_secrets_never_follow_an_endpoint_change(
    tenant_a, member_client, live_sandbox_account, listener, grant
):
    """Regression: editing with blank secrets and another endpoint, then
    Test connection, sent the live access token (later the refresh token
    and client secret) to that endpoint."""
    client = member_client(tenant_a, "admin")
    urls = _urls(live_sandbox_account)
    # Given a working account whose access token is cached
    client.post(urls["account_test"])
    with tenant_scope(tenant_a):
        live_sandbox_account.refresh_from_db()
    assert live_sandbox_account.last_connection_test_ok is True
    # When an admin saves the edit form pointing it elsewhere, secrets blank
    client.post(urls["account_edit"], _edit_post(live_sandbox_account,
                                                 endpoint_override=listener.url))
    # And presses Test connection
    client.post(urls["account_test"])
    # Then nothing reached the other host, and the account still points home
    _nothing_arrived(listener, grant)
    with tenant_scope(tenant_a):
        account = AmazonVendorAccount.objects.get(pk=live_sandbox_account.pk)
    assert account.endpoint_override != listener.url


@pytest.mark.django_db
def test_switching_environment_without_secrets_is_a_form_error(
    tenant_a, member_client, live_sandbox_account, listener, grant
):
    client = member_client(tenant_a, "admin")
    urls = _urls(live_sandbox_account)
    response = client.post(urls["account_destination"], {
        "environment": "local_sandbox", "region": "NA", "endpoint_override": listener.url,
        "lwa_client_secret": "", "lwa_refresh_token": "", "confirm": "on"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    client.post(urls["account_test"])
    _nothing_arrived(listener, grant)
    with tenant_scope(tenant_a):
        assert AmazonVendorAccount.objects.get(
            pk=live_sandbox_account.pk).endpoint_override != listener.url


@pytest.mark.django_db
def test_switching_environment_is_reviewed_confirmed_and_audited(
    tenant_a, member_client, live_sandbox_account
):
    client = member_client(tenant_a, "admin")
    urls = _urls(live_sandbox_account)
    # Step 1: the choice; step 2 shows where calls and credentials will go
    review = client.get(urls["account_destination"], {
        "step": "review", "environment": "sandbox", "region": "EU", "endpoint_override": ""})
    page = review.content.decode()
    assert "https://sandbox.sellingpartnerapi-eu.amazon.com" in page
    assert "https://api.amazon.com/auth/o2/token" in page
    assert 'name="lwa_client_secret"' in page and 'name="confirm"' in page
    choice = {"environment": "sandbox", "region": "EU", "endpoint_override": "",
              "lwa_client_secret": "new-secret", "lwa_refresh_token": "Atzr|new"}
    # Without the confirmation nothing changes
    assert client.post(urls["account_destination"], choice).status_code == 400
    with tenant_scope(tenant_a):
        assert AmazonVendorAccount.objects.get(pk=live_sandbox_account.pk).environment == (
            AccountEnvironment.LOCAL_SANDBOX)
    # With it, the switch happens, secrets are the new ones, sync restarts
    response = client.post(urls["account_destination"], {**choice, "confirm": "on"})
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        account = AmazonVendorAccount.objects.get(pk=live_sandbox_account.pk)
        entry = AuditEntry.objects.filter(object_id=str(account.pk)).latest("id")
    assert (account.environment, account.region) == (AccountEnvironment.SANDBOX, "EU")
    assert account.lwa_client_secret == "new-secret"
    assert account.po_changed_high_water is None
    assert entry.summary == "Environment switched from local_sandbox to sandbox"
    assert entry.before["environment"] == "local_sandbox"
    assert "new-secret" not in str(entry.after)
    # And the edit form no longer offers a silent environment field
    edit = client.get(urls["account_edit"]).content.decode()
    assert 'name="environment"' not in edit and 'name="endpoint_override"' not in edit


@pytest.mark.django_db
def test_production_settings_refuse_endpoints_outside_amazon(
    tenant_a, member_client, listener, settings, grant
):
    """With no allow-list (production), only Amazon's documented hosts."""
    settings.ACORN_SPAPI_ENDPOINT_ALLOWLIST = []
    client = member_client(tenant_a, "admin")
    create = reverse("channels:account_create", kwargs={"tenant_slug": "alpha"})
    data = {"name": "EU vendor", "region": "EU", "marketplace_id": "A1PA6795UKMFR9",
            "vendor_codes": "ABCD1", "environment": "production",
            "endpoint_override": listener.url, "lwa_client_id": grant["client_id"],
            "lwa_client_secret": grant["client_secret"],
            "lwa_refresh_token": grant["refresh_token"], "poll_interval_minutes": "15",
            "initial_lookback_days": "7", "ack_auto_send": "never"}
    # A foreign host is a form error on create
    response = client.post(create, data)
    assert response.status_code == 200
    assert "This endpoint is not allowed" in response.content.decode()
    # Amazon's own hosts are fine
    ok = client.post(create, {**data, "endpoint_override":
                              "https://sellingpartnerapi-eu.amazon.com"})
    assert ok.status_code == 302
    with tenant_scope(tenant_a):
        account = AmazonVendorAccount.objects.get(name="EU vendor")
    # Switching to a foreign host is refused even with the secrets entered
    urls = _urls(account)
    refused = client.post(urls["account_destination"], {
        "environment": "local_sandbox", "region": "EU", "endpoint_override": listener.url,
        "lwa_client_secret": grant["client_secret"],
        "lwa_refresh_token": grant["refresh_token"], "confirm": "on"})
    assert refused.status_code == 400
    assert "This endpoint is not allowed" in refused.content.decode()
    # And a row stored before the check existed sends nothing either
    with tenant_scope(tenant_a):
        AmazonVendorAccount.objects.filter(pk=account.pk).update(endpoint_override=listener.url)
    response = client.post(urls["account_test"], follow=True)
    assert "EndpointNotAllowed" in response.content.decode()
    _nothing_arrived(listener, grant)


@pytest.mark.django_db
def test_allow_list_admits_a_self_hosted_sandbox(tenant_a, member_client, sandbox, grant,
                                                 settings):
    settings.ACORN_SPAPI_ENDPOINT_ALLOWLIST = [sandbox.base_url]
    with tenant_scope(tenant_a):
        account = AmazonVendorAccountFactory(
            tenant=tenant_a, endpoint_override=sandbox.base_url,
            lwa_client_id=grant["client_id"], lwa_client_secret=grant["client_secret"],
            lwa_refresh_token=grant["refresh_token"])
    client = member_client(tenant_a, "admin")
    response = client.post(_urls(account)["account_test"], follow=True)
    assert "Connection OK" in response.content.decode()
