"""Which hosts may receive an account's calls and credentials."""

import pytest

from vendor_api.endpoints import (
    AMAZON_LWA_HOSTS,
    AMAZON_SPAPI_HOSTS,
    Endpoint,
    Region,
    url_allowed,
)
from vendor_api.errors import EndpointNotAllowed


@pytest.mark.parametrize("url, allowed", [
    ("https://sellingpartnerapi-na.amazon.com", True),
    ("https://sandbox.sellingpartnerapi-fe.amazon.com/", True),
    ("https://SELLINGPARTNERAPI-EU.amazon.com", True),
    ("http://sellingpartnerapi-na.amazon.com", False),  # never in clear text
    ("https://sellingpartnerapi-na.amazon.com:8443", False),
    ("https://sellingpartnerapi-na.amazon.com.attacker.example", False),
    ("https://user:pw@sellingpartnerapi-na.amazon.com", False),
    ("https://attacker.example", False),
    ("ftp://sellingpartnerapi-na.amazon.com", False),
    ("https://[::1", False),
])
def test_only_amazons_documented_spapi_hosts_without_an_allow_list(url, allowed):
    assert url_allowed(url, amazon_hosts=AMAZON_SPAPI_HOSTS) is allowed


@pytest.mark.parametrize("url, entry, allowed", [
    ("http://127.0.0.1:8001", "http://127.0.0.1:8001", True),
    ("http://127.0.0.1:8002", "http://127.0.0.1:8001", False),
    ("http://127.0.0.1:40123", "http://127.0.0.1:*", True),
    ("https://sandbox.internal", "https://sandbox.internal", True),
    ("https://sandbox.internal:8443", "https://sandbox.internal", False),
    ("http://sandbox.internal", "https://sandbox.internal", False),
    ("http://localhost:8001", "http://127.0.0.1:*", False),
])
def test_allow_list_entries_name_origins(url, entry, allowed):
    assert url_allowed(url, amazon_hosts=AMAZON_SPAPI_HOSTS, allowlist=[entry]) is allowed


def test_endpoint_check_covers_the_token_url_too():
    assert Endpoint(region=Region.EU).check_allowed().lwa_token_url.startswith(
        "https://api.amazon.com/")
    assert "api.amazon.co.jp" in AMAZON_LWA_HOSTS
    with pytest.raises(EndpointNotAllowed, match="LWA token endpoint"):
        Endpoint(region=Region.NA, token_url="https://attacker.example/token").check_allowed()
    local = Endpoint.local_sandbox(base_url="http://127.0.0.1:8001")
    with pytest.raises(EndpointNotAllowed, match="SP-API endpoint"):
        local.check_allowed()
    assert local.check_allowed(allowlist=["http://127.0.0.1:8001"]) is local
