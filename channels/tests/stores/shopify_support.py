"""Shared helpers for the Shopify adapter tests and the bulk-push benchmark:
a shop in the sandbox and an adapter bound to it."""

from __future__ import annotations

import time
import uuid

import requests

from channels.stores.adapter import Platform, StoreEndpoint
from channels.stores.shopify import CostGovernor, ShopifyAdapter

SHOPIFY_MOUNT = "channels.stores.sandbox.shopify.register"


def control(base_url: str, method: str, path: str, body=None, expect: int = 200):
    response = requests.request(method, base_url + path, json=body, timeout=60)
    assert response.status_code == expect, (response.status_code, response.text)
    return response.json()


def shop_create(base_url: str, **spec) -> dict:
    spec.setdefault("name", "shop-" + uuid.uuid4().hex[:10])
    spec.setdefault("access_token", "shpat_" + uuid.uuid4().hex)
    view = control(base_url, "POST", "/_sandbox/shopify/shops", spec)
    view["access_token"] = spec["access_token"]
    view["client_secret"] = spec.get("client_secret") or f"secret-{spec['name']}"
    view["base_url"] = f"{base_url}/shopify/{spec['name']}"
    return view


def adapter_for(shop: dict, cache, *, credentials: dict | None = None, redis_url: str = "",
                **kwargs) -> ShopifyAdapter:
    if credentials is None:
        credentials = {"access_token": shop["access_token"],
                       "webhook_secret": shop["client_secret"]}
    governor = kwargs.pop("governor", None)
    if governor is None and redis_url:
        import redis

        governor = CostGovernor(redis_client=redis.Redis.from_url(redis_url),
                                key_prefix=f"test:shopify:cost:{uuid.uuid4().hex[:8]}:")
    return ShopifyAdapter(endpoint=StoreEndpoint(platform=Platform.SHOPIFY,
                                                 base_url=shop["base_url"]),
                          credentials=credentials, cache=cache, governor=governor, **kwargs)


def token_worker(*, base_url: str, shop_base_url: str, redis_url: str, key_prefix: str,
                 client_id: str, client_secret: str, start_at: float, results) -> None:
    """A separate process asking for the shop with the client-credentials grant."""
    from django.core.cache.backends.redis import RedisCache

    cache = RedisCache(redis_url, {"KEY_PREFIX": key_prefix})
    shop = {"base_url": shop_base_url}
    adapter = adapter_for(shop, cache, credentials={"client_id": client_id,
                                                    "client_secret": client_secret},
                          governor=CostGovernor())
    time.sleep(max(0.0, start_at - time.time()))
    name = adapter.shop()["name"]
    results.put({"name": name, "token_calls": adapter.tokens.token_calls})


def bulk_push(adapter: ShopifyAdapter, targets: dict, location_id: str, *, key_prefix: str,
              batch: int = 250) -> dict:
    """Push ``targets`` ({ItemRef: ats}) the way the sync engine does: read the
    current levels (compare-and-set tokens), then write in batches of 250 with
    ``changeFromQuantity``; stale rows are re-read and written once more."""
    from channels.stores.adapter import LevelWrite, WriteOutcome

    refs = list(targets)
    outcomes = {"applied": 0, "stale": 0, "rejected": 0}
    for start in range(0, len(refs), batch):
        chunk = refs[start:start + batch]
        tokens = {level.ref: level.cas_token
                  for level in adapter.get_levels(chunk, [location_id])}
        writes = [LevelWrite(ref=ref, location_id=location_id, target_ats=targets[ref],
                             expected=tokens.get(ref)) for ref in chunk]
        result = adapter.set_levels(writes, idempotency_key=f"{key_prefix}:{start}",
                                    reason="correction", ref_uri=f"gid://acorn/Push/{start}")
        retry = []
        for write, row in zip(writes, result.rows, strict=True):
            if row.outcome is WriteOutcome.APPLIED:
                outcomes["applied"] += 1
            elif row.outcome is WriteOutcome.STALE:
                outcomes["stale"] += 1
                retry.append(LevelWrite(ref=write.ref, location_id=location_id,
                                        target_ats=write.target_ats, expected=row.current))
            else:
                outcomes["rejected"] += 1
        if retry:
            again = adapter.set_levels(retry, idempotency_key=f"{key_prefix}:{start}:retry",
                                       reason="correction", ref_uri=f"gid://acorn/Push/{start}")
            outcomes["applied"] += sum(r.outcome is WriteOutcome.APPLIED for r in again.rows)
    return outcomes


def push_worker(*, shop_base_url: str, access_token: str, redis_url: str, governor_prefix: str,
                refs: list, location_id: str, start_at: float, results) -> None:
    """A separate process pushing its share of SKUs through the shared governor."""
    import redis
    from django.core.cache.backends.locmem import LocMemCache

    from channels.stores.adapter import ItemRef

    governor = CostGovernor(redis_client=redis.Redis.from_url(redis_url),
                            key_prefix=governor_prefix)
    adapter = adapter_for({"base_url": shop_base_url, "access_token": access_token,
                           "client_secret": ""}, LocMemCache("push", {}), governor=governor)
    targets = {ItemRef(item_id=item, variant_id=variant): 7 for item, variant in refs}
    time.sleep(max(0.0, start_at - time.time()))
    outcomes = bulk_push(adapter, targets, location_id, key_prefix=uuid.uuid4().hex)
    results.put({"outcomes": outcomes, "throttled": adapter.counters["throttled"],
                 "applied": outcomes["applied"]})
