"""Fixtures: a real sandbox over HTTP, a real Redis cache and limiter.

Keys carry a per-test prefix so runs (and parallel workers) never share
buckets or tokens. ``sandbox`` fails the test if any response it served
broke Amazon's schema.
"""

import uuid

import pytest
from django.core.cache.backends.redis import RedisCache

from acorn.env import env
from vendor_api.limits import RedisTokenBucket
from vendor_api.sandbox.testing import running_sandbox
from vendor_api.transport import RetryPolicy

TEST_REDIS_URL = env("ACORN_VENDOR_API_TEST_REDIS", "redis://127.0.0.1:6379/13")


def build_cache(*, redis_url: str, prefix: str) -> RedisCache:
    """The Django Redis cache backend itself, built without project settings."""
    return RedisCache(redis_url, {"KEY_PREFIX": prefix})


@pytest.fixture
def key_prefix():
    return f"vendor-api-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def shared_cache(key_prefix):
    cache = build_cache(redis_url=TEST_REDIS_URL, prefix=key_prefix)
    yield cache
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(f"{key_prefix}*"):
        client.delete(key)


@pytest.fixture
def limiter(key_prefix):
    bucket = RedisTokenBucket.from_url(TEST_REDIS_URL, key_prefix=key_prefix + ":")
    yield bucket
    for key in bucket.redis.scan_iter(f"{key_prefix}:*"):
        bucket.redis.delete(key)


@pytest.fixture
def fast_retries():
    return RetryPolicy(max_attempts=4, base_delay_seconds=0.05, max_delay_seconds=0.4,
                       total_budget_seconds=10)


@pytest.fixture
def sandbox():
    with running_sandbox() as handle:
        yield handle
        problems = handle.state.conformance_problems
        assert problems == [], f"sandbox served non-conforming responses: {problems[:5]}"


@pytest.fixture
def call_log():
    return []


@pytest.fixture
def client(sandbox, shared_cache, limiter, fast_retries, call_log):
    with sandbox.client(cache=shared_cache, limiter=limiter, retry_policy=fast_retries,
                        call_hook=call_log.append) as vendor_client:
        yield vendor_client
