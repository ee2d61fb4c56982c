"""A stock change reaches the Shopify sandbox through a real Celery worker
and beat (the 3 s backstop), with nobody calling the engine by hand. How
fast is the store_push_latency benchmark's business; this proves the path."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from acorn.tenancy import tenant_scope
from channels.models import StoreSyncRun
from channels.tests.stores.engine_support import shop_connect
from channels.tests.stores.shopify_support import SHOPIFY_MOUNT
from channels.tests.stores.worker_support import worker_and_beat
from inventory.services import stock_adjust, stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory
from vendor_api.sandbox.testing import running_sandbox


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_stock_change_reaches_the_store_through_worker_and_beat(tenant):
    # The broker is this engineer's/CI's own Redis database (never flushed:
    # other keys may live there); queues hold only this test's messages.
    broker_url = settings.REDIS_URL
    with running_sandbox(purchase_orders=0, mounts=[SHOPIFY_MOUNT],
                         validate_responses=False) as sandbox:
        with tenant_scope(tenant, atomic=False):
            warehouse = WarehouseFactory(tenant=tenant, code="WH1")
            product = ProductFactory(tenant=tenant, sku="TEE-1", gtin="")
            stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=10,
                          idempotency_key="rcv")
            store = shop_connect(tenant=tenant, sandbox_url=sandbox.base_url,
                                 warehouse=warehouse, skus=["TEE-1"])
        with worker_and_beat(settings_module="channels.tests.worker_settings",
                             extra_env={"ACORN_TEST_BROKER_URL": broker_url,
                                        "REDIS_URL": broker_url}):
            _wait(lambda: store.available("TEE-1") == 10, 60, "the first push")
            with tenant_scope(tenant, atomic=False):
                stock_adjust(tenant=tenant, product=product, warehouse=warehouse,
                             quantity=-4, reason="damaged", idempotency_key="adj")
            _wait(lambda: store.available("TEE-1") == 6, 60, "the change to reach the store")
        with tenant_scope(tenant, atomic=False):
            assert StoreSyncRun.objects.filter(kind="push", status="succeeded").count() >= 2
