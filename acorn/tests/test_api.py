"""The REST API base: keys, read-only scope, errors, pagination, schema."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from acorn.services import api_key_create, api_key_revoke


@pytest.mark.django_db
def test_tenant_endpoint_returns_the_keys_tenant(api_client_for, tenant_a, tenant_b):
    response = api_client_for(tenant_b).get(reverse("api:tenant_detail"))
    assert response.status_code == 200
    assert response.json()["slug"] == "bravo"


@pytest.mark.django_db
def test_missing_key_is_401_with_the_error_shape(tenant_a):
    response = APIClient().get(reverse("api:tenant_detail"))
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "not_authenticated"
    assert "Api-Key" in response["WWW-Authenticate"]


@pytest.mark.django_db
def test_wrong_and_revoked_keys_are_refused(tenant_a):
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Api-Key nothing.real")
    assert bad.get(reverse("api:tenant_detail")).status_code == 401
    key, plaintext = api_key_create(tenant=tenant_a, name="x")
    api_key_revoke(tenant=tenant_a, prefix=key.prefix)
    revoked = APIClient()
    revoked.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    response = revoked.get(reverse("api:tenant_detail"))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid, revoked or expired API key."


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_read_only_key_gets_403_on_unsafe_methods(api_client_for, tenant_a, method):
    response = getattr(api_client_for(tenant_a), method)(reverse("api:tenant_detail"), {})
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "This API key is read-only."


@pytest.mark.django_db
def test_throttle_per_key(api_client_for, tenant_a, settings):
    from rest_framework.settings import api_settings

    from acorn.api import APIKeyRateThrottle

    old = APIKeyRateThrottle.THROTTLE_RATES
    APIKeyRateThrottle.THROTTLE_RATES = {**old, "api_key": "3/minute"}
    try:
        client = api_client_for(tenant_a)
        codes = [client.get(reverse("api:tenant_detail")).status_code for _ in range(4)]
    finally:
        APIKeyRateThrottle.THROTTLE_RATES = old
    assert codes == [200, 200, 200, 429]
    assert api_settings.DEFAULT_PAGINATION_CLASS.__name__ == "StableCursorPagination"


@pytest.mark.django_db
def test_openapi_schema_and_docs_are_served(client):
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/tenant/" in schema.content.decode()
    assert client.get(reverse("api_docs")).status_code == 200


def test_openapi_schema_is_valid_and_warning_free(tmp_path):
    """Every endpoint documents itself: the schema validates against the
    OpenAPI 3 spec, and generation raises no warning (a new endpoint with
    an undescribed response fails here)."""
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "/api/v1/tenant/" in text and "ApiKeyAuth" in text
