"""The demo's store: seeded connection, the sandbox's demo shop, first
contact by the engine, and a sandbox order showing as a reservation."""

from __future__ import annotations

import pytest
import requests

from channels.demo import seed as channels_seed
from channels.models import Listing, ListingMatch, StoreConnection, StoreOrder
from channels.services.stores import (
    connection_bootstrap,
    store_bootstrap_due,
    store_orders_poll,
    store_tenant_push,
)
from channels.services.stores.demo import DEMO_STORE_NAME
from channels.services.stores.demo import seed as store_seed
from channels.stores.demo_shop import DEMO_SHOP, UNMATCHED_SKU
from channels.tests.stores.shopify_support import SHOPIFY_MOUNT
from inventory.models import Hold, StockLevel
from vendor_api.sandbox.testing import running_sandbox

pytestmark = pytest.mark.django_db


def test_demo_store_connects_pushes_and_reserves_sandbox_orders(scope, settings):
    with running_sandbox(purchase_orders=0, validate_responses=False,
                         mounts=[SHOPIFY_MOUNT, "channels.stores.demo_shop.register"]) as sandbox:
        settings.ACORN_SANDBOX_URL = sandbox.base_url
        channels_seed(tenant=scope)
        store_seed(tenant=scope)
        store_seed(tenant=scope)  # idempotent
        connection = StoreConnection.objects.get(name=DEMO_STORE_NAME)
        assert store_bootstrap_due(tenant=scope) == [connection.pk]
        result = connection_bootstrap(tenant=scope, connection_id=connection.pk)
        assert result["tested"] and result["mapped"]
        assert store_bootstrap_due(tenant=scope) == []
        assert Listing.objects.filter(match_state=ListingMatch.AUTO).count() == 20
        primary = connection.location_mappings.get(is_primary=True)
        assert primary.location_name == "Main warehouse" and primary.warehouse.code == "MAIN"
        assert Listing.objects.get(sku=UNMATCHED_SKU).match_state == ListingMatch.UNMATCHED
        store_tenant_push(tenant=scope)
        shop = requests.get(f"{sandbox.base_url}/_sandbox/shopify/{DEMO_SHOP}",
                            timeout=30).json()
        variant = next(v for v in shop["variants"] if v["sku"] == "SKU-0002")
        level = StockLevel.objects.get(product__sku="SKU-0002")
        levels = requests.get(f"{sandbox.base_url}/_sandbox/shopify/{DEMO_SHOP}/levels",
                              timeout=30).json()["levels"]
        stocked = next(entry for entry in levels
                       if entry["inventory_item_id"] == variant["inventory_item_id"])
        assert stocked["available"] == level.on_hand - level.held - level.reserved > 0
        response = requests.post(f"{sandbox.base_url}/_sandbox/shopify/{DEMO_SHOP}/orders",
                                 json={"lines": [{"variant_id": variant["id"], "quantity": 2}]},
                                 timeout=30)
        assert response.status_code == 200, response.text
        store_orders_poll(tenant=scope, connection_id=connection.pk)
        assert StockLevel.objects.get(product__sku="SKU-0002").reserved == level.reserved + 2
        order = StoreOrder.objects.get()
        assert Hold.objects.get(source_ref=order.source_ref).kind == "reservation"
