"""The demo's Shopify catalog, added to the sandbox's demo shop at start.

The Shopify sandbox starts with the shop ``acorn-demo`` (two locations, no
variants; ``channels/stores/sandbox/shopify.py``). Mounted after it
(``ACORN_SANDBOX_MOUNTS`` in the local settings), this adds the first 20
demo SKUs (the same ``SKU-0001``... the Amazon demo uses) at its first
location with no stock yet (ACORN pushes it), and one item ACORN has no
product for, so the listings review queue has something to show. The
demo's connection (``channels/services/stores/demo.py``) points at the
shop. Place orders through the control API::

    curl -X POST http://127.0.0.1:8001/_sandbox/shopify/acorn-demo/orders \
         -d '{"lines": [{"variant_id": <id>, "quantity": 2}]}'

(variant ids: ``GET /_sandbox/shopify/acorn-demo``).
"""

from __future__ import annotations

from channels.stores.sandbox.shopify import DEMO_SHOP as SANDBOX_DEMO_SHOP

DEMO_SHOP = SANDBOX_DEMO_SHOP["name"]
DEMO_ACCESS_TOKEN = SANDBOX_DEMO_SHOP["access_token"]
DEMO_WEBHOOK_SECRET = SANDBOX_DEMO_SHOP["client_secret"]
DEMO_SKUS = [f"SKU-{index:04d}" for index in range(1, 21)]
UNMATCHED_SKU = "GIFT-WRAP"


def register(router) -> None:
    sandbox = router.context.get("shopify")
    shop = sandbox.shop(DEMO_SHOP) if sandbox is not None else None
    if shop is None or shop.variants:  # no Shopify sandbox, or already stocked
        return
    first_location = next(iter(shop.locations))
    with shop.lock:
        for sku, title, quantity in [*((sku, f"Demo product {sku}", 0) for sku in DEMO_SKUS),
                                     (UNMATCHED_SKU, "Gift wrap", 50)]:
            product_id = shop.next_id()
            shop.products[product_id] = {"title": title, "status": "ACTIVE"}
            shop.add_variant(product_id=product_id, sku=sku, barcode="",
                             levels={first_location: quantity})
