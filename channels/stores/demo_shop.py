"""The demo's Shopify store, created in the local sandbox when it starts.

Mounted after the Shopify sandbox (``ACORN_SANDBOX_MOUNTS`` in the local
settings): a shop ``demo`` with one location, an access token known to the
demo seeder (``channels/services/stores/demo.py``), the first 20 demo SKUs
(the same ``SKU-0001``... the Amazon demo uses) with no stock yet (ACORN
pushes it), and one item ACORN has no product for, so the listings review
queue has something to show. Place orders through the control API::

    curl -X POST http://127.0.0.1:8001/_sandbox/shopify/demo/orders \
         -d '{"lines": [{"variant_id": <id>, "quantity": 2}]}'

(variant ids: ``GET /_sandbox/shopify/demo``).
"""

from __future__ import annotations

DEMO_SHOP = "demo"
# Demo only: the sandbox's shop accepts it; production stores have their own.
DEMO_ACCESS_TOKEN = "shpat_acorn-demo-only"  # noqa: S105
DEMO_SKUS = [f"SKU-{index:04d}" for index in range(1, 21)]
UNMATCHED_SKU = "GIFT-WRAP"


def demo_shop_spec() -> dict:
    return {
        "name": DEMO_SHOP, "access_token": DEMO_ACCESS_TOKEN,
        "locations": [{"name": "Demo warehouse"}],
        "products": [
            {"title": f"Demo product {sku}", "variants": [{"sku": sku, "levels": {"0": 0}}]}
            for sku in DEMO_SKUS
        ] + [{"title": "Gift wrap", "variants": [{"sku": UNMATCHED_SKU, "levels": {"0": 50}}]}],
    }


def register(router) -> None:
    sandbox = router.context.get("shopify")
    if sandbox is None:  # the Shopify sandbox is not mounted: nothing to seed
        return
    if sandbox.shop(DEMO_SHOP) is None:
        sandbox.create_shop(demo_shop_spec())
