"""A tenant's Shopify store in the sandbox, connected through the services
(the same steps an admin takes): create, test, map the location, import
listings. Shared by the engine tests and the store_push_latency benchmark."""

from __future__ import annotations

from dataclasses import dataclass

from channels.models import Listing, StoreConnection, StoreLocationMapping
from channels.services.stores import (
    connection_create,
    connection_test,
    listings_import,
    location_mapping_set,
)
from channels.tests.stores.shopify_support import control, shop_create


@dataclass
class ConnectedShop:
    shop: dict
    connection: StoreConnection
    base_url: str  # the sandbox server

    def control(self, method: str, path: str, body=None, expect: int = 200):
        return control(self.base_url, method, f"/_sandbox/shopify/{self.shop['name']}{path}",
                       body, expect)

    def available(self, sku: str) -> int:
        variant = next(v for v in self.shop["variants"] if v["sku"] == sku)
        levels = self.control("GET", "/levels")["levels"]
        return next(level["available"] for level in levels
                    if level["inventory_item_id"] == variant["inventory_item_id"])

    def variant_id(self, sku: str) -> int:
        return next(v["id"] for v in self.shop["variants"] if v["sku"] == sku)

    def stats(self) -> dict:
        return self.control("GET", "/stats")["stats"]

    def place_order(self, lines: list[tuple[str, int]], **extra) -> dict:
        return self.control("POST", "/orders", {
            "lines": [{"variant_id": self.variant_id(sku), "quantity": qty}
                      for sku, qty in lines], **extra})


def shop_connect(*, tenant, sandbox_url: str, warehouse, skus: list[str], name="Shop",
                 initial: int = 0, extra_skus=()) -> ConnectedShop:
    shop = shop_create(sandbox_url, locations=["Main"], products=[
        {"title": sku, "variants": [{"sku": sku, "levels": {"0": initial}}]}
        for sku in [*skus, *extra_skus]
    ])
    connection = connection_create(
        tenant=tenant, platform="shopify", name=name, shop_url=shop["base_url"],
        secrets={"access_token": shop["access_token"], "webhook_secret": shop["client_secret"]},
    )
    connection = connection_test(tenant=tenant, connection_id=connection.pk)
    assert connection.last_connection_test_ok, connection.last_connection_test_detail
    location = StoreLocationMapping.objects.get(tenant=tenant, connection=connection)
    location_mapping_set(tenant=tenant, connection_id=connection.pk, mappings={
        location.pk: {"warehouse_id": warehouse.pk, "is_primary": True}})
    listings_import(tenant=tenant, connection_id=connection.pk)
    assert Listing.objects.filter(tenant=tenant, connection=connection,
                                  product__isnull=False).count() == len(skus)
    return ConnectedShop(shop=shop, connection=connection, base_url=sandbox_url)
