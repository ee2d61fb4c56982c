"""Store engine fixtures: a tenant with products and stock, a connection
whose adapter is the in-process double (channels/tests/stores/double.py)."""

import pytest

from channels.models import StoreLocationMapping
from channels.services.stores import connection_create, listings_import
from channels.stores import registry
from channels.stores.adapter import Platform
from channels.tests.stores.double import LOCATION, DoubleAdapter, StoreState
from inventory.services import stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory


@pytest.fixture
def store_state():
    return StoreState()


@pytest.fixture
def double_registered(store_state, monkeypatch):
    registry._load()
    monkeypatch.setitem(registry._factories, Platform.SHOPIFY,
                        lambda *, endpoint, credentials, cache: DoubleAdapter(store_state))
    return store_state


@pytest.fixture
def warehouse(scope):
    return WarehouseFactory(tenant=scope, code="WH1")


@pytest.fixture
def products(scope, warehouse):
    items = []
    for n, quantity in enumerate([10, 5]):
        product = ProductFactory(tenant=scope, sku=f"TEE-{n}", gtin="")
        stock_receive(tenant=scope, product=product, warehouse=warehouse, quantity=quantity,
                      idempotency_key=f"rcv-{n}")
        items.append(product)
    return items


@pytest.fixture
def connection(scope, double_registered, products, warehouse):
    state = double_registered
    for n, product in enumerate(products):
        state.skus[f"item-{n}"] = {"sku": product.sku}
        state.available[f"item-{n}"] = 0
    state.skus["item-x"] = {"sku": "NOT-OURS"}
    state.available["item-x"] = 3
    connection = connection_create(
        tenant=scope, platform="shopify", name="Shop", shop_url="http://127.0.0.1:9/",
        secrets={"access_token": "shpat_test"},
    )
    StoreLocationMapping.objects.create(tenant=scope, connection=connection,
                                        location_id=LOCATION, location_name="Main",
                                        warehouse=warehouse, is_primary=True)
    listings_import(tenant=scope, connection_id=connection.pk)
    return connection
