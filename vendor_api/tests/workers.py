"""Client processes for the multi-process tests and the benchmark.

Each runs in a fresh interpreter (multiprocessing spawn), builds its own
Redis cache and limiter, and reports counts through a queue.
"""

from __future__ import annotations

import datetime
import time

from django.core.cache.backends.redis import RedisCache

from vendor_api.client import VendorApiClient
from vendor_api.endpoints import Endpoint
from vendor_api.errors import SpApiError
from vendor_api.limits import RedisTokenBucket
from vendor_api.lwa import LwaCredentials
from vendor_api.transport import RetryPolicy


def paging_worker(*, base_url: str, redis_url: str, key_prefix: str, credentials: dict,
                  calls: int, start_at: float, results, days_back: float = 7.0,
                  page_size: int = 10, usage_plans=None) -> None:
    cache = RedisCache(redis_url, {"KEY_PREFIX": key_prefix})
    limiter = RedisTokenBucket.from_url(redis_url, key_prefix=key_prefix + ":")
    records = []
    client = VendorApiClient(
        credentials=LwaCredentials(**credentials),
        endpoint=Endpoint.local_sandbox(base_url=base_url),
        selling_partner_id="DEMO1", cache=cache, limiter=limiter,
        call_hook=records.append, usage_plans=usage_plans,
        retry_policy=RetryPolicy(max_attempts=6, base_delay_seconds=0.1, max_delay_seconds=2,
                                 total_budget_seconds=60),
    )
    now = datetime.datetime.now(tz=datetime.UTC)
    window = (now - datetime.timedelta(days=days_back), now)
    time.sleep(max(0.0, start_at - time.time()))
    errors = 0
    began = time.time()
    next_token = None
    for _ in range(calls):
        try:
            page = client.get_purchase_orders_page(
                created_after=window[0], created_before=window[1], limit=page_size,
                next_token=next_token,
            )
            next_token = page.next_token
        except SpApiError:
            errors += 1
            next_token = None
    finished = time.time()
    results.put({
        "calls": len(records),
        "errors": errors,
        "throttled_attempts": sum(r.throttled_attempts for r in records),
        "token_calls": client.tokens.token_calls,
        "began": began,
        "finished": finished,
    })
