"""The sync engine with the real BigCommerce adapter and sandbox (HTTP, PostgreSQL, Redis):
stock reaches the store, store orders become reservations, signed webhooks are received
once."""

import pytest
import requests

from channels.models import StoreLocationMapping, WebhookEvent
from channels.services.stores import (
    connection_create,
    listings_import,
    store_orders_poll,
    store_tenant_push,
    webhook_receive,
)
from inventory.models import StockLevel
from inventory.services import stock_adjust, stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory
from vendor_api.sandbox.testing import running_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox():
    with running_sandbox(mounts=["channels.stores.sandbox.bigcommerce.register"],
                         purchase_orders=0) as handle:
        yield handle


def _control(sandbox, method, path, body=None):
    response = requests.request(method, sandbox.base_url + "/_sandbox/bigcommerce" + path,
                                json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _onhand(sandbox, sku):
    levels = _control(sandbox, "GET", "/eng1/levels")["levels"]
    return next(level["onhand"] for level in levels if level["sku"] == sku
                and level["location_id"] == 1)


@pytest.fixture
def connection(scope, sandbox):
    view = _control(sandbox, "POST", "/stores", {
        "hash": "eng1", "replace": True, "products": [
            {"name": "Tee", "variants": [{"sku": "TEE-0", "levels": {"1": 0}},
                                         {"sku": "TEE-1", "levels": {"1": 0},
                                          "absolute_set": False}]}]})
    warehouse = WarehouseFactory(tenant=scope, code="WH1")
    products = []
    for n, quantity in enumerate([10, 5]):
        product = ProductFactory(tenant=scope, sku=f"TEE-{n}", gtin="")
        stock_receive(tenant=scope, product=product, warehouse=warehouse, quantity=quantity,
                      idempotency_key=f"b-rcv-{n}")
        products.append(product)
    connection = connection_create(
        tenant=scope, platform="bigcommerce", name="BigCommerce",
        shop_url=sandbox.base_url + "/bigcommerce",
        secrets={"store_hash": "eng1", "access_token": "token-eng1",
                 "client_secret": "secret-eng1"})
    StoreLocationMapping.objects.create(tenant=scope, connection=connection, location_id="1",
                                        location_name="Default location", warehouse=warehouse,
                                        is_primary=True)
    listings_import(tenant=scope, connection_id=connection.pk)
    return connection, products, warehouse, view


def test_stock_and_orders_flow_both_ways(scope, sandbox, connection):
    connection, products, warehouse, view = connection
    store_tenant_push(tenant=scope)
    # TEE-1 was never set absolutely at the location: the 422 path, then an absolute.
    assert (_onhand(sandbox, "TEE-0"), _onhand(sandbox, "TEE-1")) == (10, 5)
    stock_adjust(tenant=scope, product=products[0], warehouse=warehouse, quantity=-2,
                 reason="damaged", idempotency_key="b-adj-1")
    store_tenant_push(tenant=scope)
    assert _onhand(sandbox, "TEE-0") == 8  # a relative adjustment
    variant = next(v for v in view["variants"] if v["sku"] == "TEE-0")
    order = _control(sandbox, "POST", "/eng1/orders", {"lines": [
        {"variant_id": variant["id"], "quantity": 3}]})
    store_orders_poll(tenant=scope, connection_id=connection.pk)
    assert StockLevel.objects.get(product=products[0]).reserved == 3
    _control(sandbox, "POST", f"/eng1/orders/{order['id']}/cancel")
    store_orders_poll(tenant=scope, connection_id=connection.pk)
    assert StockLevel.objects.get(product=products[0]).reserved == 0


def test_a_store_order_is_not_subtracted_twice_by_the_next_push(scope, sandbox, connection):
    connection, _products, _warehouse, view = connection
    store_tenant_push(tenant=scope)
    variant = next(v for v in view["variants"] if v["sku"] == "TEE-0")
    _control(sandbox, "POST", "/eng1/orders", {"lines": [
        {"variant_id": variant["id"], "quantity": 3}]})
    assert _onhand(sandbox, "TEE-0") == 7  # BigCommerce decrements at order placement
    store_orders_poll(tenant=scope, connection_id=connection.pk)
    store_tenant_push(tenant=scope)
    assert _onhand(sandbox, "TEE-0") == 7  # our ATS 7 = the store's own count


def test_signed_webhooks_are_received_once(scope, sandbox, connection):
    connection, _products, _warehouse, _view = connection
    _control(sandbox, "POST", "/eng1/hooks", {"scope": "store/order/*",
                                              "destination": "http://127.0.0.1:9/none"})
    _control(sandbox, "POST", "/eng1/webhooks/emit", {"scope": "store/order/updated",
                                                      "data": {"type": "order", "id": 1}})
    delivery = _control(sandbox, "GET", "/eng1/webhooks")["deliveries"][-1]
    for _copy in range(2):  # a retry repeats the delivery
        webhook_receive(tenant=scope, connection_id=connection.pk,
                        headers=delivery["headers"], raw_body=delivery["body"].encode())
    events = WebhookEvent.objects.filter(connection=connection)
    assert events.count() == 1
    assert events.get().dedupe_key.startswith("bigcommerce:")
