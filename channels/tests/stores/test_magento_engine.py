"""The sync engine with the real Magento adapter and sandbox (HTTP, PostgreSQL, Redis):
stock reaches the store as source quantity = ATS + Magento's unshipped orders, store
orders become reservations (configurable rows counted once), cancel releases them."""

import pytest
import requests

from channels.models import StoreLocationMapping, StoreOrder
from channels.services.stores import (
    connection_create,
    listings_import,
    store_orders_poll,
    store_tenant_push,
)
from inventory.models import StockLevel
from inventory.services import stock_adjust, stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory
from vendor_api.sandbox.testing import running_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox():
    with running_sandbox(mounts=["channels.stores.sandbox.magento.register"],
                         purchase_orders=0) as handle:
        yield handle


def _control(sandbox, method, path, body=None):
    response = requests.request(method, sandbox.base_url + "/_sandbox/magento" + path, json=body,
                                timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _quantity(sandbox, sku):
    items = _control(sandbox, "GET", "/eng/levels")["source_items"]
    return next(i["quantity"] for i in items if i["sku"] == sku and i["source_code"] == "wh-1")


@pytest.fixture
def connection(scope, sandbox):
    _control(sandbox, "POST", "/stores", {
        "name": "eng", "replace": True, "sources": [{"code": "wh-1", "name": "Main"}],
        "products": [{"sku": "TEE-0", "sources": {"wh-1": 0}}, {"sku": "TEE-1", "sources": {
            "wh-1": 0}}, {"sku": "TEE", "type_id": "configurable"}]})
    warehouse = WarehouseFactory(tenant=scope, code="WH1")
    products = []
    for n, quantity in enumerate([10, 5]):
        product = ProductFactory(tenant=scope, sku=f"TEE-{n}", gtin="")
        stock_receive(tenant=scope, product=product, warehouse=warehouse, quantity=quantity,
                      idempotency_key=f"m-rcv-{n}")
        products.append(product)
    connection = connection_create(
        tenant=scope, platform="magento", name="Magento",
        shop_url=sandbox.base_url + "/magento/eng",
        secrets={"consumer_key": "ck-eng", "consumer_secret": "cs-eng",
                 "access_token": "at-eng", "access_token_secret": "ats-eng"})
    StoreLocationMapping.objects.create(tenant=scope, connection=connection, location_id="wh-1",
                                        location_name="Main", warehouse=warehouse,
                                        is_primary=True)
    listings_import(tenant=scope, connection_id=connection.pk)
    return connection, products, warehouse


def test_stock_and_orders_flow_both_ways(scope, sandbox, connection):
    connection, products, warehouse = connection
    store_tenant_push(tenant=scope)
    assert (_quantity(sandbox, "TEE-0"), _quantity(sandbox, "TEE-1")) == (10, 5)
    # A stock change here (the delta path: read-modify-write) reaches the store.
    stock_adjust(tenant=scope, product=products[0], warehouse=warehouse, quantity=-3,
                 reason="damaged", idempotency_key="m-adj-1")
    store_tenant_push(tenant=scope)
    assert _quantity(sandbox, "TEE-0") == 7
    # A store order (configurable: parent + child rows) reserves 2, once.
    order = _control(sandbox, "POST", "/eng/orders", {"lines": [
        {"sku": "TEE-0", "qty": 2, "parent_sku": "TEE"}]})
    store_orders_poll(tenant=scope, connection_id=connection.pk)
    assert StockLevel.objects.get(product=products[0]).reserved == 2
    assert StoreOrder.objects.get(platform_order_id=str(order["entity_id"])).lines.count() == 1
    # Cancelled in the store: released here.
    _control(sandbox, "POST", f"/eng/orders/{order['entity_id']}/cancel")
    store_orders_poll(tenant=scope, connection_id=connection.pk)
    assert StockLevel.objects.get(product=products[0]).reserved == 0


def test_a_store_order_is_not_subtracted_twice_by_the_next_push(scope, sandbox, connection):
    connection, products, _warehouse = connection
    store_tenant_push(tenant=scope)
    _control(sandbox, "POST", "/eng/orders", {"lines": [{"sku": "TEE-0", "qty": 2}]})
    store_orders_poll(tenant=scope, connection_id=connection.pk)
    store_tenant_push(tenant=scope)
    # Our ATS is 8; Magento holds the 2 as its own reservation: source = 8 + 2, salable 8.
    assert _control(sandbox, "GET", "/eng/levels")["salable"]["TEE-0/1"] == 8
    assert _quantity(sandbox, "TEE-0") == 10
