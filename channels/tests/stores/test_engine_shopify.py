"""The sync engine against the Shopify sandbox over real HTTP, with the
real Shopify adapter, PostgreSQL and Redis."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from channels.models import Listing, StoreOrder, StoreOrderStatus, WebhookEvent, WebhookEventStatus
from channels.services.stores import (
    store_connection_reconcile,
    store_orders_poll,
    store_tenant_push,
    webhooks_process,
)
from channels.stores import registry
from channels.stores.adapter import CompareAndSet, Platform, QuantitySemantics
from channels.stores.shopify import ShopifyAdapter
from channels.tests.stores.engine_support import shop_connect
from channels.tests.stores.shopify_support import SHOPIFY_MOUNT
from inventory.models import StockLevel
from inventory.services import stock_adjust, stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory
from vendor_api.sandbox.testing import running_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(purchase_orders=0, mounts=[SHOPIFY_MOUNT],
                         validate_responses=False) as handle:
        yield handle


@pytest.fixture
def quick_writes(monkeypatch):
    """The real adapter, with a 1 s read timeout and no write retries, so a
    write that hangs after it was applied becomes OutcomeUnknown quickly."""
    registry._load()
    monkeypatch.setitem(registry._factories, Platform.SHOPIFY,
                        lambda *, endpoint, credentials, cache: ShopifyAdapter(
                            endpoint=endpoint, credentials=credentials, cache=cache,
                            timeout=(2.0, 1.0), write_retries=0))


@pytest.fixture
def stocked(scope):
    warehouse = WarehouseFactory(tenant=scope, code="WH1")
    products = {}
    for sku, quantity in (("TEE-1", 10), ("TEE-2", 5)):
        products[sku] = ProductFactory(tenant=scope, sku=sku, gtin="")
        stock_receive(tenant=scope, product=products[sku], warehouse=warehouse,
                      quantity=quantity, idempotency_key=f"rcv-{sku}")
    return warehouse, products


@pytest.fixture
def store(scope, sandbox, stocked):
    warehouse, _products = stocked
    return shop_connect(tenant=scope, sandbox_url=sandbox.base_url, warehouse=warehouse,
                        skus=["TEE-1", "TEE-2"], extra_skus=["NOT-OURS"])


def _reserved(product) -> int:
    return StockLevel.objects.get(product=product).reserved


def test_stock_change_reaches_the_store(scope, store, stocked):
    warehouse, products = stocked
    store_tenant_push(tenant=scope)
    assert (store.available("TEE-1"), store.available("TEE-2")) == (10, 5)
    assert store.available("NOT-OURS") == 0  # unmatched: never written
    stock_adjust(tenant=scope, product=products["TEE-1"], warehouse=warehouse, quantity=-3,
                 reason="damaged", idempotency_key="adj-1")
    store_tenant_push(tenant=scope)
    assert store.available("TEE-1") == 7
    writes = store.stats()["writes_applied"]
    store_tenant_push(tenant=scope)  # nothing changed: nothing sent
    assert store.stats()["writes_applied"] == writes


def test_store_order_during_a_push_is_a_cas_miss_resolved_without_losing_either(
        scope, store, stocked):
    warehouse, products = stocked
    store_tenant_push(tenant=scope)
    # The store sells 2 (available 10 -> 8) while the ERP receives 5 (ATS 15).
    store.place_order([("TEE-1", 2)])
    stock_receive(tenant=scope, product=products["TEE-1"], warehouse=warehouse, quantity=5,
                  idempotency_key="rcv-more")
    counts = store_tenant_push(tenant=scope)[store.connection.pk]
    assert counts["stale"] == 1 and store.stats()["stale"] >= 1
    # Both changes kept: the order holds 2 of the 15, the store shows 13.
    assert _reserved(products["TEE-1"]) == 2
    assert store.available("TEE-1") == 13
    assert StoreOrder.objects.get().status == StoreOrderStatus.OPEN


def test_timeout_after_an_applied_write_does_not_apply_twice(scope, store, stocked,
                                                             quick_writes):
    warehouse, products = stocked
    store_tenant_push(tenant=scope)
    before = store.stats()["writes_applied"]
    store.control("POST", "/faults", {"faults": [
        {"kind": "timeout_after_commit", "seconds": 3, "root_field": "inventorySetQuantities"}]})
    stock_adjust(tenant=scope, product=products["TEE-2"], warehouse=warehouse, quantity=-1,
                 reason="damaged", idempotency_key="adj-2")
    store_tenant_push(tenant=scope)
    listing = Listing.objects.get(sku="TEE-2")
    assert listing.outcome_unknown and listing.push_pending
    assert store.available("TEE-2") == 4  # it was applied
    store_tenant_push(tenant=scope)  # re-reads, finds 4: writes nothing
    assert store.stats()["writes_applied"] == before + 1
    listing.refresh_from_db()
    assert not listing.outcome_unknown and not listing.push_pending
    assert listing.last_pushed_ats == 4


def test_orders_reserve_release_on_cancel_and_consume_on_fulfilment(scope, store, stocked):
    _warehouse, products = stocked
    store_tenant_push(tenant=scope)
    order = store.place_order([("TEE-2", 3)])
    store_orders_poll(tenant=scope, connection_id=store.connection.pk)
    store_orders_poll(tenant=scope, connection_id=store.connection.pk)  # overlap replays
    assert _reserved(products["TEE-2"]) == 3
    store.control("POST", f"/orders/{order['id']}/cancel", {})
    store_orders_poll(tenant=scope, connection_id=store.connection.pk)
    assert _reserved(products["TEE-2"]) == 0
    assert StoreOrder.objects.get().status == StoreOrderStatus.CANCELLED
    second = store.place_order([("TEE-1", 4)])
    store_orders_poll(tenant=scope, connection_id=store.connection.pk)
    store.control("POST", f"/orders/{second['id']}/fulfil", {})
    store_orders_poll(tenant=scope, connection_id=store.connection.pk)
    level = StockLevel.objects.get(product=products["TEE-1"])
    assert (level.on_hand, level.reserved) == (6, 0)
    assert StoreOrder.objects.get(platform_order_id__endswith=str(second["id"])).status \
        == StoreOrderStatus.FULFILLED
    from inventory.models import DemandEvent

    demand = dict(DemandEvent.objects.filter(product=products["TEE-2"])
                  .values_list("quantity", "source_type"))
    assert set(demand) == {3, -3}


def test_duplicated_and_reordered_webhooks_are_processed_once_in_order(scope, store, stocked):
    _warehouse, products = stocked
    store_tenant_push(tenant=scope)
    hook = reverse("hooks:store_webhook", kwargs={"tenant_slug": scope.slug,
                                                  "connection_id": store.connection.pk})
    store.control("POST", "/webhooks", {"topic": "orders/create", "url": "http://127.0.0.1:9/"})
    store.control("POST", "/webhooks", {"topic": "orders/cancelled",
                                        "url": "http://127.0.0.1:9/"})
    order = store.place_order([("TEE-2", 2)])
    store.control("POST", f"/orders/{order['id']}/cancel", {})
    deliveries = store.control("GET", "/webhooks")["deliveries"]
    assert [d["topic"] for d in deliveries] == ["orders/create", "orders/cancelled"]
    client = Client()

    def deliver(delivery, **header_overrides):
        headers = {**delivery["headers"], **header_overrides}
        return client.post(hook, data=delivery["body"], content_type="application/json",
                           headers={k: v for k, v in headers.items() if k != "Content-Type"})

    # The cancellation arrives first, then the creation twice.
    assert deliver(deliveries[1]).status_code == 200
    assert deliver(deliveries[0]).status_code == 200
    assert deliver(deliveries[0]).status_code == 200
    assert deliver(deliveries[0], **{"X-Shopify-Hmac-Sha256": "AAAA"}).status_code == 401
    assert WebhookEvent.objects.count() == 2
    counts = webhooks_process(tenant=scope, connection_id=store.connection.pk)
    assert counts == {"processed": 2, "failed": 0}
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {
        WebhookEventStatus.PROCESSED}
    assert StoreOrder.objects.get().status == StoreOrderStatus.CANCELLED
    assert _reserved(products["TEE-2"]) == 0  # never left holding the cancelled order


def test_reconciliation_finds_and_repairs_drift(scope, store, stocked):
    store_tenant_push(tenant=scope)
    item = next(v for v in store.shop["variants"] if v["sku"] == "TEE-1")
    location = store.shop["locations"][0]["id"]
    store.control("POST", "/stock", {"inventory_item_id": item["inventory_item_id"],
                                     "location_id": location, "available": 42})
    counts = store_connection_reconcile(tenant=scope, connection_id=store.connection.pk)
    assert counts.drift == 1
    assert store.available("TEE-1") == 10
    store.connection.refresh_from_db()
    assert store.connection.last_drift_count == 1


class _LastWriteWinsShopify(ShopifyAdapter):
    """The real Shopify adapter declaring no compare-and-set: drives the
    engine's path for Magento/BigCommerce (deltas, re-read + absolute after
    an unknown outcome) over HTTP."""

    capabilities = ShopifyAdapter.capabilities.__class__(
        cas=CompareAndSet.NONE, idempotency_key=False, delta_writes=True, max_write_batch=250,
        quantity_semantics=QuantitySemantics.AVAILABLE)


@pytest.fixture
def without_cas(monkeypatch):
    registry._load()
    monkeypatch.setitem(registry._factories, Platform.SHOPIFY,
                        lambda *, endpoint, credentials, cache: _LastWriteWinsShopify(
                            endpoint=endpoint, credentials=credentials, cache=cache,
                            timeout=(2.0, 1.0), write_retries=0))


def test_without_cas_changes_go_as_deltas_and_an_unknown_delta_is_not_applied_twice(
        scope, store, stocked, without_cas):
    warehouse, products = stocked
    store_tenant_push(tenant=scope)  # first push: re-read + absolute
    assert store.available("TEE-1") == 10
    # A store order meanwhile: our delta must not overwrite it.
    store.place_order([("TEE-1", 1)])
    stock_receive(tenant=scope, product=products["TEE-1"], warehouse=warehouse, quantity=4,
                  idempotency_key="rcv-delta")
    store_tenant_push(tenant=scope)  # +4 as a delta: 9 + 4
    assert store.available("TEE-1") == 13
    store_orders_poll(tenant=scope, connection_id=store.connection.pk)
    assert _reserved(products["TEE-1"]) == 1
    before = store.stats()["writes_applied"]
    store.control("POST", "/faults", {"faults": [
        {"kind": "timeout_after_commit", "seconds": 3,
         "root_field": "inventoryAdjustQuantities"}]})
    stock_adjust(tenant=scope, product=products["TEE-1"], warehouse=warehouse, quantity=-2,
                 reason="damaged", idempotency_key="adj-delta")
    store_tenant_push(tenant=scope)  # -2 as a delta: applied, answer lost
    assert Listing.objects.get(sku="TEE-1").outcome_unknown
    applied = store.available("TEE-1")
    store_tenant_push(tenant=scope)  # re-read: already right, nothing re-sent
    # 14 received - 2 damaged = 12 on hand, 1 held for the store order: 11
    assert store.available("TEE-1") == applied == 11
    assert store.stats()["writes_applied"] == before + 1
