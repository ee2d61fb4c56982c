"""LWA: one token for all processes, early refresh, typed re-authorization."""

import multiprocessing
import time

import pytest

from vendor_api.errors import ReauthorizationRequired
from vendor_api.lwa import AccessTokenProvider, LwaCredentials
from vendor_api.tests.conftest import TEST_REDIS_URL
from vendor_api.tests.workers import paging_worker


def test_two_processes_share_one_token_for_100_calls(sandbox, key_prefix, shared_cache):
    """100 calls from 2 processes cost exactly one LWA token call."""
    # Given two client processes with the same credentials and shared Redis cache
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.time() + 1.5
    credentials = {"client_id": sandbox.credentials.client_id,
                   "client_secret": sandbox.credentials.client_secret,
                   "refresh_token": sandbox.credentials.refresh_token}
    workers = [
        context.Process(target=paging_worker, kwargs={
            "base_url": sandbox.base_url, "redis_url": TEST_REDIS_URL, "key_prefix": key_prefix,
            "credentials": credentials, "calls": 50, "start_at": start_at, "results": results,
        })
        for _ in range(2)
    ]
    # When both make 50 calls at the same moment
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    # Then the sandbox saw one token request for all 100 calls
    assert sum(o["calls"] for o in outcomes) == 100
    assert sum(o["errors"] for o in outcomes) == 0
    assert sandbox.stats()["lwa_token_calls"] == 1
    assert sum(o["token_calls"] for o in outcomes) == 1


def test_token_is_refreshed_before_it_expires(sandbox, shared_cache):
    """A token within the margin of its expiry is replaced before use."""
    # Given tokens that live 4 s and a provider that refreshes 2 s early,
    # on a clock the test moves
    sandbox.control("POST", "/_sandbox/scenario", {"token_lifetime_seconds": 4})
    now = [time.time()]
    provider = AccessTokenProvider(credentials=sandbox.credentials,
                                   token_url=sandbox.endpoint.lwa_token_url, cache=shared_cache,
                                   refresh_margin_seconds=2, clock=lambda: now[0])
    first = provider.access_token()
    assert provider.access_token() == first
    # When the token enters the refresh margin
    now[0] += 2.2
    # Then a new one is fetched although the old one is still valid at LWA
    assert provider.access_token() != first
    assert sandbox.stats()["lwa_token_calls"] == 2


def test_invalid_grant_raises_reauthorization_without_retry_storm(client, sandbox, call_log):
    """A revoked refresh token fails fast, once, for every later call too."""
    # Given a refresh token the vendor revoked
    sandbox.control("POST", "/_sandbox/grants/revoke",
                    {"refresh_token": sandbox.credentials.refresh_token})
    # When the client calls three times
    for _ in range(3):
        with pytest.raises(ReauthorizationRequired) as caught:
            client.get_purchase_order(purchase_order_number="ANY12345")
        # Then each raises the typed error with LWA's reason
        assert "invalid_grant" in str(caught.value)
        assert "authorize the application again" in str(caught.value)
    # And LWA was asked exactly once (the refusal is remembered in the cache)
    assert sandbox.stats()["lwa_token_calls"] == 1
    assert "calls:getPurchaseOrder" not in sandbox.stats()
    assert call_log[-1].error_code == "ReauthorizationRequired"


def test_invalid_client_secret_raises_reauthorization(sandbox, shared_cache):
    # Given a wrong client secret
    provider = AccessTokenProvider(
        credentials=LwaCredentials(client_id=sandbox.credentials.client_id,
                                   client_secret="wrong", refresh_token="Atzr|sandbox-demo"),
        token_url=sandbox.endpoint.lwa_token_url, cache=shared_cache,
    )
    # When a token is requested / Then the typed error names invalid_client
    with pytest.raises(ReauthorizationRequired, match=r"invalid_client"):
        provider.access_token()


def test_expired_token_403_triggers_exactly_one_refresh_and_one_retry(client, sandbox, call_log):
    # Given a cached token that Amazon considers expired
    client.get_purchase_order(purchase_order_number=next(iter(sandbox.state.orders)))
    sandbox.control("POST", "/_sandbox/tokens/expire")
    # When the next call is made
    order = client.get_purchase_order(purchase_order_number=next(iter(sandbox.state.orders)))
    # Then it succeeds after one refresh and one repeat
    assert order.purchase_order_number
    stats = sandbox.stats()
    assert stats["lwa_token_calls"] == 2
    assert stats["responses:403"] == 1
    assert call_log[-1].token_refreshed is True
    assert call_log[-1].attempts == 2
