"""LWA token cache and refused mark are keyed by the whole grant (issue 9
defect 4): client id, client secret, refresh token and token URL.

Over real Redis and the sandbox's LWA endpoint.
"""

import uuid

import pytest

from vendor_api.errors import ReauthorizationRequired
from vendor_api.lwa import AccessTokenProvider, LwaCredentials, lwa_grant_forget


@pytest.fixture
def app(sandbox):
    """A fresh LWA application with a grant, registered in the sandbox."""
    suffix = uuid.uuid4().hex[:10]
    credentials = LwaCredentials(client_id=f"amzn1.application-oa2-client.{suffix}",
                                 client_secret=f"secret-{suffix}", refresh_token=f"Atzr|{suffix}")
    sandbox.control("POST", "/_sandbox/apps", {
        "client_id": credentials.client_id, "client_secret": credentials.client_secret,
        "refresh_token": credentials.refresh_token, "vendor_codes": ["DEMO1"]})
    return credentials


def _provider(sandbox, cache, credentials, token_url=None):
    return AccessTokenProvider(credentials=credentials, cache=cache,
                               token_url=token_url or sandbox.endpoint.lwa_token_url)


def _with_secret(credentials, secret):
    return LwaCredentials(client_id=credentials.client_id, client_secret=secret,
                          refresh_token=credentials.refresh_token)


def test_a_cached_token_is_not_handed_to_a_wrong_secret(sandbox, shared_cache, app):
    """Regression: the key held only client id + refresh token, so a wrong
    secret was given the token the right one had fetched."""
    # Given a token cached for the right secret
    assert _provider(sandbox, shared_cache, app).access_token()
    # When the same grant is asked for with a wrong secret
    wrong = _provider(sandbox, shared_cache, _with_secret(app, "wrong-secret"))
    # Then LWA is asked, and refuses
    with pytest.raises(ReauthorizationRequired, match="invalid_client"):
        wrong.access_token()
    assert wrong.token_calls == 1


def test_a_refused_secret_does_not_block_the_corrected_one(sandbox, shared_cache, app):
    """Regression: one refusal blocked the account for 24 h even after the fix."""
    # Given a wrong secret that LWA refused (and that refusal remembered)
    wrong = _provider(sandbox, shared_cache, _with_secret(app, "typo"))
    with pytest.raises(ReauthorizationRequired):
        wrong.access_token()
    with pytest.raises(ReauthorizationRequired):
        wrong.access_token()
    assert wrong.token_calls == 1  # the mark still spares LWA a second ask
    # When the corrected secret is used
    fixed = _provider(sandbox, shared_cache, app)
    # Then it gets a token at once
    assert fixed.access_token()
    assert fixed.token_calls == 1


def test_the_token_url_is_part_of_the_grant(sandbox, shared_cache, app):
    """A token fetched from one LWA host is never reused for another."""
    assert _provider(sandbox, shared_cache, app).access_token()
    elsewhere = _provider(sandbox, shared_cache, app,
                          token_url=sandbox.endpoint.lwa_token_url + "?other")
    elsewhere.access_token()
    assert elsewhere.token_calls == 1


def test_exchange_bypasses_the_cache_and_the_refused_mark(sandbox, shared_cache, app):
    """Test connection's exchange asks LWA even with a token cached."""
    provider = _provider(sandbox, shared_cache, app)
    cached = provider.access_token()
    # Given Amazon now refuses this secret (rotated in the Developer Console)
    sandbox.control("POST", "/_sandbox/apps", {
        "client_id": app.client_id, "client_secret": "rotated",
        "refresh_token": app.refresh_token, "vendor_codes": ["DEMO1"]})
    assert provider.access_token() == cached  # ordinary calls use the cache
    # When a real exchange is made / Then LWA's refusal and reason come back
    with pytest.raises(ReauthorizationRequired) as caught:
        provider.exchange()
    assert caught.value.lwa_error == "invalid_client"
    assert "Client authentication failed." in str(caught.value)
    # And the stale token is dropped and the refusal remembered for everyone
    with pytest.raises(ReauthorizationRequired):
        provider.access_token()


def test_forget_clears_token_and_refused_mark(sandbox, shared_cache, app):
    wrong_credentials = _with_secret(app, "typo")
    wrong = _provider(sandbox, shared_cache, wrong_credentials)
    with pytest.raises(ReauthorizationRequired):
        wrong.access_token()
    # When the grant is forgotten (credentials were saved again)
    lwa_grant_forget(credentials=wrong_credentials, token_url=wrong.token_url, cache=shared_cache)
    # Then the next call asks LWA again instead of trusting the old mark
    with pytest.raises(ReauthorizationRequired):
        wrong.access_token()
    assert wrong.token_calls == 2
