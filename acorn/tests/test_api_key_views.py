"""The API keys page: a key revoked from the page stops working at once,
and the page never shows what the key is stored as (its hash)."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from acorn.models import AuditEntry, TenantAPIKey
from acorn.services import api_key_create
from acorn.tenancy import tenant_scope


def _page(client):
    return client.get(reverse("api_key_list", kwargs={"tenant_slug": "alpha"})).content.decode()


@pytest.mark.django_db
def test_revoke_button_on_the_page_revokes_the_key(tenant_a, member_client):
    """Regression (issue 9 defect 1): the button posted the library's string
    id, the view called int() on it and answered 404; the key kept working."""
    # Given a working key and an admin on the API keys page
    key, plaintext = api_key_create(tenant=tenant_a, name="bi-tool")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    assert api.get(reverse("api:tenant_detail")).status_code == 200
    client = member_client(tenant_a, "admin")
    page = _page(client)
    # When the admin presses the Revoke button, posting exactly what the page offers
    value = re.search(r'name="revoke" value="([^"]+)"', page).group(1)
    response = client.post(reverse("api_key_list", kwargs={"tenant_slug": "alpha"}),
                           {"revoke": value})
    # Then the page confirms it and the key is refused by the API
    assert response.status_code == 302
    with tenant_scope(tenant_a):  # key rows are visible in their tenant only
        key.refresh_from_db()
    assert key.revoked is True
    answer = api.get(reverse("api:tenant_detail"))
    assert answer.status_code in (401, 403)
    assert answer.json()["error"]["message"] == "Invalid, revoked or expired API key."
    assert "Revoked" in _page(client)


@pytest.mark.django_db
def test_page_and_audit_never_show_the_stored_hash(tenant_a, member_client):
    """The page shows prefix, name, scopes, created and last used; never
    the stored hash (which is also part of the library's primary key)."""
    key, _plaintext = api_key_create(tenant=tenant_a, name="bi-tool")
    client = member_client(tenant_a, "admin")
    page = _page(client)
    assert key.prefix in page and "bi-tool" in page and "read" in page
    assert key.hashed_key not in page
    client.post(reverse("api_key_list", kwargs={"tenant_slug": "alpha"}),
                {"revoke": key.prefix})
    with tenant_scope(tenant_a):
        entries = list(AuditEntry.objects.values_list("object_id", "object_repr", "after"))
    assert entries and key.hashed_key[:20] not in str(entries)
    assert key.hashed_key[:20] not in _page(client)
    # And the audit log page does not show it either
    audit = client.get(reverse("audit_log", kwargs={"tenant_slug": "alpha"})).content.decode()
    assert key.hashed_key[:20] not in audit


@pytest.mark.django_db
def test_revoking_another_tenants_key_is_404(tenant_a, tenant_b, member_client):
    other, _plaintext = api_key_create(tenant=tenant_b, name="theirs")
    client = member_client(tenant_a, "admin")
    response = client.post(reverse("api_key_list", kwargs={"tenant_slug": "alpha"}),
                           {"revoke": other.prefix})
    assert response.status_code == 404
    with tenant_scope(tenant_b):
        assert TenantAPIKey.objects.get(pk=other.pk).revoked is False
