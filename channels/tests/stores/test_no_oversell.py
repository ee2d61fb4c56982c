"""No oversell across channels: Amazon holds and Shopify orders race for
the last units (threads, each with its own database connection), with the
engine pushing and reading orders as the worker would. Both sides are
observed: inventory's levels (sampled during the race and at the end) and
the sandbox store's committed and available quantities.
"""

from __future__ import annotations

import threading

import pytest
import requests

from acorn.tenancy import tenant_scope
from channels.models import StoreOrder, StoreOrderStatus
from channels.services.stores import store_orders_poll, store_tenant_push
from channels.tests.stores.engine_support import shop_connect
from channels.tests.stores.shopify_support import SHOPIFY_MOUNT
from inventory.models import StockLevel
from inventory.selectors import stock_consistency_check
from inventory.services import InsufficientStockError, stock_hold_place, stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory
from vendor_api.sandbox.testing import running_sandbox

UNITS = 5
ATTEMPTS = 5  # per side: twice as many units wanted as there are


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(purchase_orders=0, mounts=[SHOPIFY_MOUNT],
                         validate_responses=False) as handle:
        yield handle


def _in_thread(tenant, work, errors):
    from django.db import connection

    try:
        with tenant_scope(tenant, atomic=False):
            work()
    except Exception as error:  # noqa: BLE001 (reported by the test)
        errors.append(error)
    finally:
        connection.close()


def _race(tenant, sandbox, *, partitioned: bool):
    """Race both channels for the last units; return what each side saw.

    ``partitioned``: the channel rules the buffers exist for: the store
    lists at most 2 (max_listed) and Amazon's acknowledgement planning
    (ATP on channel "amazon") keeps 2 back for it, so Amazon plans by ATP
    as ``acknowledgement_plan`` does. Otherwise Amazon takes whatever is
    free (raw holds) and only inventory's conditional update stands guard.
    """
    from inventory.selectors import atp_get
    from inventory.services import channel_rule_set

    with tenant_scope(tenant, atomic=False):
        warehouse = WarehouseFactory(tenant=tenant, code="WH1")
        product = ProductFactory(tenant=tenant, sku="LAST-1", gtin="")
        stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=UNITS,
                      idempotency_key="rcv")
        store = shop_connect(tenant=tenant, sandbox_url=sandbox.base_url,
                             warehouse=warehouse, skus=["LAST-1"])
        if partitioned:
            channel_rule_set(tenant=tenant, channel="amazon", keep_back=2)
            channel_rule_set(tenant=tenant, channel=store.connection.sync_channel, max_listed=2)
        store_tenant_push(tenant=tenant)
        assert store.available("LAST-1") == (2 if partitioned else UNITS)
    results = {"holds": 0, "holds_refused": 0, "store_accepted": 0, "store_refused": 0}
    samples: list[tuple[int, int, int]] = []
    errors: list[Exception] = []
    start = threading.Barrier(2)
    done = threading.Event()

    def amazon():
        start.wait()
        for attempt in range(ATTEMPTS):
            if partitioned and atp_get(tenant=tenant, channel="amazon",
                                       product_id=product.pk).available < 1:
                results["holds_refused"] += 1  # the plan rejects the line
                store_tenant_push(tenant=tenant)
                continue
            try:
                stock_hold_place(tenant=tenant, lines=[{"sku": "LAST-1", "quantity": 1}],
                                 source_type="purchase_order", source_ref=f"PO{attempt}",
                                 idempotency_key=f"po-{attempt}", channel="amazon")
                results["holds"] += 1
            except InsufficientStockError:
                results["holds_refused"] += 1
            store_tenant_push(tenant=tenant)

    def shop():
        start.wait()
        for _attempt in range(ATTEMPTS):
            response = requests.post(
                f"{sandbox.base_url}/_sandbox/shopify/{store.shop['name']}/orders",
                json={"lines": [{"variant_id": store.variant_id("LAST-1"), "quantity": 1}]},
                timeout=30)
            if response.status_code == 200:
                results["store_accepted"] += 1
            else:
                results["store_refused"] += 1  # the store had nothing left to sell
            store_orders_poll(tenant=tenant, connection_id=store.connection.pk)
            store_tenant_push(tenant=tenant)

    def observe():
        while not done.is_set():
            level = StockLevel.objects.get(product=product)
            samples.append((level.on_hand, level.held, level.reserved))

    threads = [threading.Thread(target=_in_thread, args=(tenant, work, errors))
               for work in (amazon, shop)]
    watcher = threading.Thread(target=_in_thread, args=(tenant, observe, errors))
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    watcher.join(timeout=30)
    assert not errors, errors
    with tenant_scope(tenant, atomic=False):
        store_orders_poll(tenant=tenant, connection_id=store.connection.pk)
        store_tenant_push(tenant=tenant)
        level = StockLevel.objects.get(product=product)
        orders = list(StoreOrder.objects.prefetch_related("lines"))
        consistency = stock_consistency_check(tenant=tenant)
    # Inventory never promised more than it had, at any sampled moment.
    assert samples and all(held + reserved <= on_hand for on_hand, held, reserved in samples)
    assert level.held + level.reserved <= level.on_hand == UNITS
    assert consistency == []
    assert level.held == results["holds"]
    assert results["holds"] + results["holds_refused"] == ATTEMPTS
    # Every order the store took is here, reserved or flagged; none lost.
    assert len(orders) == results["store_accepted"]
    reserved = sum(line.reserved_quantity - line.released_quantity
                   for order in orders for line in order.lines.all())
    flagged = [order for order in orders if order.status == StoreOrderStatus.NEEDS_ATTENTION]
    assert reserved == level.reserved
    assert reserved + len(flagged) == results["store_accepted"]
    assert all("not enough free stock" in order.status_detail for order in flagged)
    # The store ends at what is left to sell, and the units it committed
    # match what we hold for it plus what it oversold (flagged).
    free = level.on_hand - level.held - level.reserved
    assert store.available("LAST-1") == max(free, 0)
    committed = next(entry["committed"] for entry in store.control("GET", "/levels")["levels"])
    assert committed == results["store_accepted"]
    return results, level, flagged


@pytest.mark.django_db(transaction=True)
def test_raw_holds_and_store_orders_on_the_last_units_never_overpromise_inventory(
        tenant, sandbox):
    """Inventory never promises a unit twice; a store sale of a unit Amazon
    got first (inside the push window) is flagged, never silently lost."""
    results, level, flagged = _race(tenant, sandbox, partitioned=False)
    assert level.held + level.reserved <= UNITS


@pytest.mark.django_db(transaction=True)
def test_with_channel_rules_neither_channel_ever_sells_a_unit_twice(tenant, sandbox):
    """With the store's allocation and Amazon's buffer, both sides together
    never promise more than on hand: no store order is left unreserved."""
    results, level, flagged = _race(tenant, sandbox, partitioned=True)
    assert flagged == []
    assert results["holds"] + results["store_accepted"] <= UNITS


@pytest.mark.django_db(transaction=True)
def test_a_store_order_read_first_lowers_what_amazon_may_take(tenant, sandbox):
    with tenant_scope(tenant, atomic=False):
        warehouse = WarehouseFactory(tenant=tenant, code="WH1")
        product = ProductFactory(tenant=tenant, sku="LAST-2", gtin="")
        stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=2,
                      idempotency_key="rcv")
        store = shop_connect(tenant=tenant, sandbox_url=sandbox.base_url,
                             warehouse=warehouse, skus=["LAST-2"])
        store_tenant_push(tenant=tenant)
        store.place_order([("LAST-2", 2)])
        store_orders_poll(tenant=tenant, connection_id=store.connection.pk)
        with pytest.raises(InsufficientStockError):
            stock_hold_place(tenant=tenant, lines=[{"sku": "LAST-2", "quantity": 1}],
                             source_type="purchase_order", source_ref="PO-late",
                             idempotency_key="po-late", channel="amazon")
        from inventory.selectors import atp_get

        assert atp_get(tenant=tenant, channel="amazon", product_id=product.pk).available == 0
