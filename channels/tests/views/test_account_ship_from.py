"""Ship-from addresses are an address form, not raw JSON (issue 8)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from acorn.tenancy import tenant_scope
from channels.models import AmazonVendorAccount
from channels.tests.factories import AmazonVendorAccountFactory

ADDRESS = {"ship_from-party_id": "WH1", "ship_from-name": "Main warehouse",
           "ship_from-address_line1": "1 Dock Road", "ship_from-city": "Allentown",
           "ship_from-state_or_region": "PA", "ship_from-postal_code": "18101",
           "ship_from-country_code": "US"}


def _edit(account, **extra):
    return {"name": account.name, "marketplace_id": "ATVPDKIKX0DER", "vendor_codes": "DEMO1",
            "lwa_client_id": account.lwa_client_id, "lwa_client_secret": "",
            "lwa_refresh_token": "", "poll_interval_minutes": "15",
            "initial_lookback_days": "7", "ack_auto_send": "never", **extra}


@pytest.fixture
def account(tenant_a):
    with tenant_scope(tenant_a):
        return AmazonVendorAccountFactory(tenant=tenant_a, ship_from={"partyId": "OLD"})


@pytest.mark.django_db
def test_address_form_stores_amazons_address_shape(tenant_a, member_client, account):
    client = member_client(tenant_a, "admin")
    url = reverse("channels:account_edit", kwargs={"tenant_slug": "alpha",
                                                   "account_id": account.pk})
    page = client.get(url).content.decode()
    assert 'name="ship_from-country_code"' in page and 'name="ship_from"' not in page
    assert client.post(url, _edit(account, **ADDRESS)).status_code == 302
    with tenant_scope(tenant_a):
        account.refresh_from_db()
    assert account.ship_from == {"partyId": "WH1", "address": {
        "name": "Main warehouse", "addressLine1": "1 Dock Road", "city": "Allentown",
        "stateOrRegion": "PA", "postalCode": "18101", "countryCode": "US"}}
    # And the form shows it back
    assert 'value="1 Dock Road"' in client.get(url).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("field, value, message", [
    ("ship_from-country_code", "XX", "Select a valid choice."),
    ("ship_from-country_code", "UK", "Select a valid choice."),  # ISO says GB
    ("ship_from-name", "", "Required for a ship-from address."),
    ("ship_from-city", "", "Required for a ship-from address."),
])
def test_invalid_addresses_are_form_errors(tenant_a, member_client, account, field, value,
                                           message):
    client = member_client(tenant_a, "admin")
    url = reverse("channels:account_edit", kwargs={"tenant_slug": "alpha",
                                                   "account_id": account.pk})
    response = client.post(url, _edit(account, **{**ADDRESS, field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    with tenant_scope(tenant_a):
        assert AmazonVendorAccount.objects.get(pk=account.pk).ship_from == {"partyId": "OLD"}
