"""The Shopify adapter against the Shopify sandbox, over real HTTP.

Every test builds its own shop in one sandbox server (module fixture); the
adapter's token cache is Django's (Redis in tests) and its cost governor
lives in Redis under a per-test prefix.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import multiprocessing
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.core.cache import cache

from channels.stores.adapter import (
    AuthError,
    CompareAndSet,
    InvalidSignature,
    ItemRef,
    LevelDelta,
    LevelWrite,
    NotFound,
    OutcomeUnknown,
    QuantitySemantics,
    RateLimited,
    Transient,
    Validation,
    Watermark,
    WriteOutcome,
)
from channels.stores.registry import adapter_build
from channels.stores.shopify import WEBHOOK_TOPICS, CostGovernor, ShopifyAdapter
from channels.tests.stores.shopify_support import (
    SHOPIFY_MOUNT,
    adapter_for,
    control,
    shop_create,
    token_worker,
)
from vendor_api.sandbox.testing import running_sandbox


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(purchase_orders=0, mounts=[SHOPIFY_MOUNT],
                         validate_responses=False) as handle:
        yield handle


@pytest.fixture
def shop(sandbox):
    return shop_create(sandbox.base_url, locations=["Warehouse A", "Warehouse B"], products=[
        {"title": "Tee", "variants": [
            {"sku": "TEE-BLK-M", "barcode": "4006381333931", "levels": {"0": 7, "1": 3}},
            {"sku": "TEE-BLK-M", "levels": {"0": 2}},  # the same SKU twice
            {"sku": None, "levels": {"0": 1}},  # no SKU at all
            {"sku": "", "levels": {"1": 4}},
        ]},
    ])


def _adapter(shop, **kwargs) -> ShopifyAdapter:
    return adapter_for(shop, cache, redis_url=settings.REDIS_URL, **kwargs)


def _ref(shop, index: int) -> ItemRef:
    variant = shop["variants"][index]
    return ItemRef(item_id=variant["inventory_item_gid"], variant_id=variant["gid"])


def _location(shop, index: int) -> str:
    return shop["locations"][index]["gid"]


def _level(sandbox, shop, index: int, location_index: int) -> dict:
    levels = control(sandbox.base_url, "GET", f"/_sandbox/shopify/{shop['name']}/levels")
    item = shop["variants"][index]["inventory_item_id"]
    location = shop["locations"][location_index]["id"]
    return next(level for level in levels["levels"]
                if level["inventory_item_id"] == item and level["location_id"] == location)


def _stats(sandbox, shop) -> dict:
    return control(sandbox.base_url, "GET", f"/_sandbox/shopify/{shop['name']}/stats")["stats"]


def _faults(sandbox, shop, *faults) -> None:
    control(sandbox.base_url, "POST", f"/_sandbox/shopify/{shop['name']}/faults",
            {"faults": list(faults)})


# --- Build, capabilities, catalog ------------------------------------------------


def test_registry_builds_the_shopify_adapter_with_its_capabilities(shop):
    from channels.stores.adapter import Platform, StoreEndpoint

    adapter = adapter_build(endpoint=StoreEndpoint(platform=Platform.SHOPIFY,
                                                   base_url=shop["base_url"]),
                            credentials={"access_token": shop["access_token"]}, cache=cache)
    assert isinstance(adapter, ShopifyAdapter)
    capabilities = adapter.capabilities
    assert capabilities.cas is CompareAndSet.NATIVE
    assert capabilities.idempotency_key and capabilities.delta_writes and capabilities.bulk_reads
    assert capabilities.max_write_batch == 250
    assert capabilities.quantity_semantics is QuantitySemantics.AVAILABLE
    assert adapter.shop()["myshopifyDomain"] == f"{shop['name']}.myshopify.com"


def test_list_locations(shop):
    locations = _adapter(shop).list_locations()
    assert [(loc.location_id, loc.name, loc.is_active) for loc in locations] == [
        (shop["locations"][0]["gid"], "Warehouse A", True),
        (shop["locations"][1]["gid"], "Warehouse B", True),
    ]


def test_list_skus_maps_by_ids_when_skus_repeat_or_are_missing(shop):
    page = _adapter(shop).list_skus()
    assert page.next_cursor is None
    assert [(item.ref, item.sku) for item in page.items] == [
        (_ref(shop, 0), "TEE-BLK-M"), (_ref(shop, 1), "TEE-BLK-M"),
        (_ref(shop, 2), ""), (_ref(shop, 3), ""),
    ]
    assert page.items[0].gtin == "4006381333931"
    assert page.items[0].updated_at.tzinfo is not None


def test_list_skus_pages_with_opaque_cursors_and_filters_by_updated_at(sandbox):
    shop = shop_create(sandbox.base_url, generate={"variants": 600, "available": 1})
    adapter = _adapter(shop)
    seen, cursor, pages = [], None, 0
    while True:
        page = adapter.list_skus(cursor=cursor)
        seen += page.items
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3 and len({item.ref for item in seen}) == 600
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(hours=1)
    assert adapter.list_skus(updated_since=later).items == []


def test_list_skus_reads_a_large_catalog_with_a_bulk_operation(sandbox):
    shop = shop_create(sandbox.base_url, generate={"variants": 300, "duplicate_skus": 3,
                                                   "missing_skus": 2})
    adapter = _adapter(shop, bulk_threshold=100)
    page = adapter.list_skus()
    assert page.next_cursor is None and len(page.items) == 300
    assert [item.sku for item in page.items[:5]] == ["", "", "DUP-SKU", "DUP-SKU", "DUP-SKU"]
    log = control(sandbox.base_url, "GET", f"/_sandbox/shopify/{shop['name']}/log")["log"]
    roots = [entry["roots"][0] for entry in log]
    assert "bulkOperationRunQuery" in roots and "productVariants" not in roots


# --- Levels -------------------------------------------------------------------------


def test_get_levels_reports_available_as_ats_with_raw_states(sandbox, shop):
    control(sandbox.base_url, "POST", f"/_sandbox/shopify/{shop['name']}/orders",
            {"lines": [{"variant_id": shop["variants"][0]["id"], "quantity": 2}]})
    adapter = _adapter(shop)
    levels = adapter.get_levels([_ref(shop, 0), _ref(shop, 3)])
    by_key = {(level.ref, level.location_id): level for level in levels}
    first = by_key[(_ref(shop, 0), _location(shop, 0))]
    assert first.ats == 5 and first.cas_token == 5
    assert first.raw["committed"] == 2 and first.raw["on_hand"] == 7
    assert by_key[(_ref(shop, 0), _location(shop, 1))].ats == 3
    assert by_key[(_ref(shop, 3), _location(shop, 1))].ats == 4
    assert len(levels) == 3
    only_b = adapter.get_levels([_ref(shop, 0), _ref(shop, 2)], [_location(shop, 1)])
    assert [(lv.ref, lv.ats) for lv in only_b] == [(_ref(shop, 0), 3)]


# --- Writes -------------------------------------------------------------------------


def test_set_levels_with_compare_and_set(sandbox, shop):
    adapter = _adapter(shop)
    result = adapter.set_levels(
        [LevelWrite(ref=_ref(shop, 0), location_id=_location(shop, 0), target_ats=12,
                    expected=7)],
        idempotency_key=str(uuid.uuid4()), reason="correction", ref_uri="gid://acorn/Sync/1")
    assert [row.outcome for row in result.rows] == [WriteOutcome.APPLIED]
    level = _level(sandbox, shop, 0, 0)
    assert level["available"] == 12 and level["on_hand"] == 12


def test_cas_miss_returns_stale_with_the_current_value_then_the_reread_write_applies(
        sandbox, shop):
    adapter = _adapter(shop)
    observed = adapter.get_levels([_ref(shop, 0)], [_location(shop, 0)])[0]
    # The merchant sells two units in the Shopify admin meanwhile.
    control(sandbox.base_url, "POST", f"/_sandbox/shopify/{shop['name']}/stock", {
        "inventory_item_id": shop["variants"][0]["inventory_item_id"],
        "location_id": shop["locations"][0]["id"], "delta": -2})
    result = adapter.set_levels(
        [LevelWrite(ref=_ref(shop, 0), location_id=_location(shop, 0), target_ats=10,
                    expected=observed.cas_token)],
        idempotency_key=str(uuid.uuid4()), reason="correction", ref_uri="gid://acorn/Sync/2")
    row = result.rows[0]
    assert row.outcome is WriteOutcome.STALE and row.current == 5
    assert _level(sandbox, shop, 0, 0)["available"] == 5  # nothing overwritten
    again = adapter.set_levels(
        [LevelWrite(ref=_ref(shop, 0), location_id=_location(shop, 0), target_ats=8,
                    expected=row.current)],
        idempotency_key=str(uuid.uuid4()), reason="correction", ref_uri="gid://acorn/Sync/3")
    assert again.rows[0].outcome is WriteOutcome.APPLIED
    assert _level(sandbox, shop, 0, 0)["available"] == 8


def test_one_stale_row_does_not_block_the_others_and_bad_rows_are_rejected(sandbox, shop):
    adapter = _adapter(shop)
    result = adapter.set_levels([
        LevelWrite(ref=_ref(shop, 0), location_id=_location(shop, 0), target_ats=1, expected=99),
        LevelWrite(ref=_ref(shop, 1), location_id=_location(shop, 0), target_ats=6, expected=2),
        LevelWrite(ref=_ref(shop, 2), location_id=_location(shop, 1), target_ats=6,
                   expected=None),  # not stocked at B
    ], idempotency_key=str(uuid.uuid4()), reason="correction", ref_uri="gid://acorn/Sync/4")
    assert [(row.outcome, row.current, row.code) for row in result.rows] == [
        (WriteOutcome.STALE, 7, "CHANGE_FROM_QUANTITY_STALE"),
        (WriteOutcome.APPLIED, None, ""),
        (WriteOutcome.REJECTED, None, "ITEM_NOT_STOCKED_AT_LOCATION"),
    ]
    assert _level(sandbox, shop, 0, 0)["available"] == 7
    assert _level(sandbox, shop, 1, 0)["available"] == 6


def test_adjust_levels_applies_deltas(sandbox, shop):
    result = _adapter(shop).adjust_levels(
        [LevelDelta(ref=_ref(shop, 0), location_id=_location(shop, 1), delta=-2)],
        idempotency_key=str(uuid.uuid4()), reason="correction", ref_uri="gid://acorn/Sync/5")
    assert result.rows[0].outcome is WriteOutcome.APPLIED
    assert _level(sandbox, shop, 0, 1)["available"] == 1


def test_writes_refuse_unknown_reasons_and_need_a_key(shop):
    adapter = _adapter(shop)
    write = LevelWrite(ref=_ref(shop, 0), location_id=_location(shop, 0), target_ats=1)
    with pytest.raises(Validation) as error:
        adapter.set_levels([write], idempotency_key="k", reason="sync", ref_uri="gid://a/B/1")
    assert error.value.code == "INVALID_REASON"
    with pytest.raises(Validation):
        adapter.set_levels([write], idempotency_key="", reason="correction",
                           ref_uri="gid://a/B/1")


def test_timeout_after_the_write_applied_is_retried_with_the_same_key_and_applies_once(
        sandbox, shop):
    adapter = _adapter(shop, timeout=(2.0, 1.0))
    _faults(sandbox, shop, {"kind": "timeout_after_commit", "seconds": 3,
                            "root_field": "inventoryAdjustQuantities"})
    key = str(uuid.uuid4())
    result = adapter.adjust_levels(
        [LevelDelta(ref=_ref(shop, 0), location_id=_location(shop, 0), delta=5)],
        idempotency_key=key, reason="correction", ref_uri="gid://acorn/Sync/6")
    assert result.rows[0].outcome is WriteOutcome.APPLIED
    assert _level(sandbox, shop, 0, 0)["available"] == 12  # 7 + 5, once
    stats = _stats(sandbox, shop)
    assert stats["writes_applied"] == 1 and stats["idempotent_replays"] == 1


def test_outcome_unknown_when_retries_run_out_and_the_same_key_later_replays(sandbox, shop):
    adapter = _adapter(shop, timeout=(2.0, 1.0), write_retries=0)
    _faults(sandbox, shop, {"kind": "timeout_after_commit", "seconds": 3})
    key = str(uuid.uuid4())
    write = LevelWrite(ref=_ref(shop, 0), location_id=_location(shop, 0), target_ats=20,
                       expected=7)
    with pytest.raises(OutcomeUnknown):
        adapter.set_levels([write], idempotency_key=key, reason="correction",
                           ref_uri="gid://acorn/Sync/7")
    assert _level(sandbox, shop, 0, 0)["available"] == 20  # it did apply
    # A blind retry without the key would now be STALE (20 != 7); with it, the original result.
    result = adapter.set_levels([write], idempotency_key=key, reason="correction",
                                ref_uri="gid://acorn/Sync/7")
    assert result.rows[0].outcome is WriteOutcome.APPLIED
    assert _stats(sandbox, shop)["writes_applied"] == 1


def test_sandbox_refuses_what_shopify_refuses(sandbox, shop):
    adapter = _adapter(shop)
    item, location = _ref(shop, 0).item_id, _location(shop, 0)
    row = {"inventoryItemId": item, "locationId": location, "quantity": 3}
    without_key = """mutation S($input: InventorySetQuantitiesInput!) {
      inventorySetQuantities(input: $input) { userErrors { code } } }"""
    with pytest.raises(Validation) as error:
        adapter._call(without_key, {"input": {"name": "available", "reason": "correction",
                                              "quantities": [row | {"changeFromQuantity": 7}]}},
                      estimate=10, write=True)
    assert error.value.code == "BAD_REQUEST" and "@idempotent" in error.value.message
    with pytest.raises(Validation) as error:  # 2026-04: changeFromQuantity must be present
        adapter._call(ShopifyAdapter._SET_MUTATION, {"key": "x1", "input": {
            "name": "available", "reason": "correction", "quantities": [row]}},
            estimate=10, write=True)
    assert "changeFromQuantity" in error.value.message
    with pytest.raises(Validation) as error:
        adapter._call(ShopifyAdapter._SET_MUTATION, {"key": "x2", "input": {
            "name": "available", "reason": "correction",
            "quantities": [row | {"changeFromQuantity": None}] * 251}}, estimate=10, write=True)
    assert error.value.code == "MAX_INPUT_SIZE_EXCEEDED"
    write = LevelWrite(ref=_ref(shop, 0), location_id=location, target_ats=3, expected=7)
    adapter.set_levels([write], idempotency_key="same-key", reason="correction",
                       ref_uri="gid://acorn/Sync/8")
    with pytest.raises(Validation) as error:
        adapter.set_levels([LevelWrite(ref=_ref(shop, 0), location_id=location, target_ats=4,
                                       expected=3)],
                           idempotency_key="same-key", reason="correction",
                           ref_uri="gid://acorn/Sync/8")
    assert error.value.code == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    with pytest.raises(Validation) as error:
        adapter._call("{ productVariants(first: 250) { nodes { id inventoryItem { "
                      "inventoryLevels(first: 10) { nodes { id } } } } } }", estimate=1)
    assert error.value.code == "MAX_COST_EXCEEDED"
    with pytest.raises(Validation) as error:
        adapter._call(ShopifyAdapter._SET_MUTATION, {"key": "x3", "input": {
            "name": "available", "reason": "correction",
            "quantities": [row | {"quantity": "lots", "changeFromQuantity": None}]}},
            estimate=10, write=True)
    assert error.value.code == "INVALID_VARIABLE"
    with pytest.raises(Validation) as error:
        adapter.list_skus(cursor="bm90LWEtY3Vyc29y")
    assert error.value.code == "BAD_REQUEST"


# --- Errors -------------------------------------------------------------------------


def test_errors_are_normalised(sandbox, shop):
    adapter = _adapter(shop, read_retries=1, sleep=lambda _s: None)
    _faults(sandbox, shop, {"kind": "unauthorized", "count": 1})
    with pytest.raises(AuthError):
        adapter.list_locations()
    _faults(sandbox, shop, {"kind": "status", "status": 503, "count": 2})
    with pytest.raises(Transient):
        adapter.list_locations()
    _faults(sandbox, shop, {"kind": "status", "status": 502, "count": 1})
    assert len(adapter.list_locations()) == 2  # one 5xx is retried
    _faults(sandbox, shop, {"kind": "internal_error", "count": 2})
    with pytest.raises(Transient):
        adapter.list_locations()
    bad_token = adapter_for(shop, cache, credentials={"access_token": "shpat_wrong"},
                            redis_url=settings.REDIS_URL)
    with pytest.raises(AuthError):
        bad_token.list_locations()
    with pytest.raises(NotFound):
        adapter.get_order("gid://shopify/Order/999999")
    control(sandbox.base_url, "POST", f"/_sandbox/shopify/{shop['name']}/settings",
            {"scopes": ["read_products", "read_inventory", "read_locations"]})
    with pytest.raises(AuthError) as error:  # the app lacks read_orders
        adapter.list_orders_since(Watermark())
    assert error.value.code == "ACCESS_DENIED" and "read_orders" in error.value.message


def test_throttled_at_http_200_waits_the_documented_time_or_raises_rate_limited(sandbox):
    shop = shop_create(sandbox.base_url, generate={"variants": 40},
                       maximum_available=600, restore_rate=50)
    control(sandbox.base_url, "POST", f"/_sandbox/shopify/{shop['name']}/settings",
            {"bucket": 0})
    waits: list[float] = []
    # A fresh, process-local governor believes the bucket is full: the server says no.
    adapter = _adapter(shop, governor=CostGovernor(), max_wait_seconds=0.5,
                       sleep=waits.append)
    query = ("query V { productVariants(first: 250) { nodes { id inventoryItem { id } } } }")
    with pytest.raises(RateLimited) as error:
        adapter._call(query, estimate=502)
    assert adapter.counters["throttled"] == 1
    assert 9 <= error.value.retry_after <= 10.1  # (502 - currentlyAvailable ~0) / 50
    patient = _adapter(shop, governor=CostGovernor(), bulk_threshold=10**6)
    page = patient.list_skus()
    assert len(page.items) == 40
    assert patient.counters["throttled"] >= 1 and patient.counters["waited_seconds"] > 5
    outcomes = [entry["outcome"] for entry in control(
        sandbox.base_url, "GET", f"/_sandbox/shopify/{shop['name']}/log")["log"]]
    assert outcomes.count("THROTTLED") <= 3  # it waited instead of hammering


def test_http_429_is_accepted_too_and_waits_retry_after(sandbox, shop):
    waits: list[float] = []
    adapter = _adapter(shop, sleep=waits.append)
    _faults(sandbox, shop, {"kind": "status", "status": 429, "retry_after": 1.5})
    assert len(adapter.list_locations()) == 2
    assert waits == [1.5]
    _faults(sandbox, shop, {"kind": "status", "status": 429, "retry_after": 90, "count": 1})
    with pytest.raises(RateLimited) as error:
        adapter.list_locations()
    assert error.value.retry_after == 90


# --- Orders -------------------------------------------------------------------------


def test_orders_since_watermark_with_quantities_and_cancellation(sandbox, shop):
    base = f"/_sandbox/shopify/{shop['name']}"
    adapter = _adapter(shop)
    start = adapter.list_orders_since(Watermark())
    assert start.orders == [] and start.next_page_token is None
    first = control(sandbox.base_url, "POST", base + "/orders", {"lines": [
        {"variant_id": shop["variants"][0]["id"], "quantity": 3},
        {"variant_id": shop["variants"][1]["id"], "quantity": 1}]})
    second = control(sandbox.base_url, "POST", base + "/orders",
                     {"lines": [{"variant_id": shop["variants"][2]["id"], "quantity": 1}]})
    level = _level(sandbox, shop, 0, 0)
    assert (level["available"], level["committed"], level["on_hand"]) == (4, 3, 7)
    page = adapter.list_orders_since(Watermark())
    assert [o.order_id for o in page.orders] == [first["admin_graphql_api_id"],
                                                 second["admin_graphql_api_id"]]
    order = page.orders[0]
    assert order.lines[0].ref == _ref(shop, 0) and order.lines[0].quantity == 3
    assert not order.cancelled
    control(sandbox.base_url, "POST", base + f"/orders/{first['id']}/fulfil")
    assert _level(sandbox, shop, 0, 0)["on_hand"] == 4  # shipped units leave on_hand
    control(sandbox.base_url, "POST", base + f"/orders/{second['id']}/cancel")
    assert _level(sandbox, shop, 2, 0)["available"] == 1  # restocked
    later = adapter.list_orders_since(page.next_watermark)
    by_id = {o.order_id: o for o in later.orders}
    assert set(by_id) == {first["admin_graphql_api_id"], second["admin_graphql_api_id"]}
    shipped = by_id[first["admin_graphql_api_id"]].lines[0]
    assert (shipped.quantity_shipped, shipped.quantity_cancelled) == (3, 0)
    cancelled = adapter.get_order(second["admin_graphql_api_id"])
    assert cancelled.cancelled and cancelled.lines[0].quantity_cancelled == 1


def test_order_pages_chain_by_token(sandbox):
    shop = shop_create(sandbox.base_url, generate={"variants": 2, "available": 100})
    for _ in range(30):
        control(sandbox.base_url, "POST", f"/_sandbox/shopify/{shop['name']}/orders",
                {"lines": [{"variant_id": shop["variants"][0]["id"], "quantity": 1}]})
    adapter = _adapter(shop)
    seen, token = [], None
    while True:
        page = adapter.list_orders_since(Watermark(), page_token=token)
        seen += [o.order_id for o in page.orders]
        token = page.next_page_token
        if token is None:
            break
    assert len(seen) == len(set(seen)) == 30


# --- Webhooks -------------------------------------------------------------------------


class _Receiver:
    """A webhook endpoint on loopback; answers 500 to the first ``fail_first``."""

    def __init__(self, fail_first: int = 0):
        self.received: list[tuple[dict, bytes]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (stdlib name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers.items()), body))
                self.send_response(500 if len(receiver.received) <= receiver.fail_first
                                   else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/shopify"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_webhooks_verify_hmac_and_dedupe_on_event_id(sandbox, shop):
    base = f"/_sandbox/shopify/{shop['name']}"
    receiver = _Receiver()
    try:
        for topic in ("orders/create", "inventory_levels/update"):
            control(sandbox.base_url, "POST", base + "/webhooks",
                    {"topic": topic, "url": receiver.url})
        order = control(sandbox.base_url, "POST", base + "/orders", {"lines": [
            {"variant_id": shop["variants"][0]["id"], "quantity": 1}]})
        sent = control(sandbox.base_url, "POST", base + "/webhooks/deliver",
                       {"duplicate": True, "reverse": True})
        assert sent == {"sent": 4, "failed": 0}
    finally:
        receiver.close()
    adapter = _adapter(shop)
    envelopes = [adapter.verify_webhook(headers, body) for headers, body in receiver.received]
    assert len(envelopes) == 4 and len({e.dedupe_key for e in envelopes}) == 2
    topics = [e.topic for e in envelopes]
    assert topics[0] == "inventory_levels/update"  # reordered
    order_hook = next(e for e in envelopes if e.topic == "orders/create")
    assert order_hook.order_ids == [order["admin_graphql_api_id"]]
    assert order_hook.payload["line_items"][0]["quantity"] == 1  # REST-shaped
    level_hook = next(e for e in envelopes if e.topic == "inventory_levels/update")
    assert level_hook.refs == [ItemRef(item_id=_ref(shop, 0).item_id)]
    assert level_hook.payload["available"] == 6
    headers, body = receiver.received[0]
    with pytest.raises(InvalidSignature):
        adapter.verify_webhook(headers, body + b" ")
    forged = dict(headers) | {"X-Shopify-Hmac-Sha256": base64.b64encode(
        hmac.new(b"not-the-secret", body, hashlib.sha256).digest()).decode()}
    with pytest.raises(InvalidSignature):
        adapter.verify_webhook(forged, body)
    no_event = {k: v for k, v in headers.items() if k.lower() != "x-shopify-event-id"}
    assert adapter.verify_webhook(no_event, body).dedupe_key == \
        "shopify:" + headers["X-Shopify-Webhook-Id"]


def test_webhook_subscriptions_are_created_once(sandbox, shop):
    adapter = _adapter(shop)
    uri = "https://erp.example.com/hooks/shopify/1"
    assert adapter.webhooks_subscribe(uri) == list(WEBHOOK_TOPICS)
    adapter.webhooks_subscribe(uri)  # again: nothing duplicated
    state = sandbox.server.router.context["shopify"].shop(shop["name"])
    assert sorted(state.subscriptions) == sorted((topic, uri) for topic in WEBHOOK_TOPICS)
    with pytest.raises(Validation):
        adapter.webhooks_subscribe("not a url", ["orders/create"])


def test_failed_webhook_deliveries_are_retried_with_the_original_payload(sandbox, shop):
    base = f"/_sandbox/shopify/{shop['name']}"
    receiver = _Receiver(fail_first=1)
    try:
        control(sandbox.base_url, "POST", base + "/webhooks",
                {"topic": "orders/create", "url": receiver.url})
        order = control(sandbox.base_url, "POST", base + "/orders",
                        {"lines": [{"variant_id": shop["variants"][0]["id"], "quantity": 1}]})
        assert control(sandbox.base_url, "POST", base + "/webhooks/deliver", {}) == {
            "sent": 1, "failed": 1}
        # The order changes before the retry; the retry still carries the original bytes.
        control(sandbox.base_url, "POST", base + f"/orders/{order['id']}/cancel")
        # Not due yet: the next attempt waits its backoff on the sandbox clock.
        assert control(sandbox.base_url, "POST", base + "/webhooks/deliver",
                       {"due_only": True})["sent"] == 0
        control(sandbox.base_url, "POST", base + "/clock", {"advance_seconds": 61})
        assert control(sandbox.base_url, "POST", base + "/webhooks/deliver",
                       {"due_only": True}) == {"sent": 1, "failed": 0}
    finally:
        receiver.close()
    (first_headers, first_body), (headers, body) = receiver.received
    assert body == first_body and json.loads(body)["cancelled_at"] is None
    assert headers["X-Shopify-Event-Id"] == first_headers["X-Shopify-Event-Id"]
    assert headers["X-Shopify-Triggered-At"] == first_headers["X-Shopify-Triggered-At"]
    delivery = control(sandbox.base_url, "GET", base + "/webhooks")["deliveries"][0]
    assert delivery["status"] == "delivered" and delivery["responses"] == [500, 200]


# --- Tokens -------------------------------------------------------------------------


def test_client_credentials_token_is_cached_refreshed_early_and_replaced_after_401(sandbox):
    shop = shop_create(sandbox.base_url, client_id="app-1", client_secret="s3cret",
                       token_lifetime=302)
    credentials = {"client_id": "app-1", "client_secret": "s3cret"}
    adapter = adapter_for(shop, cache, credentials=credentials, redis_url=settings.REDIS_URL)
    adapter.tokens.forget()
    adapter.shop()
    adapter.shop()
    assert _stats(sandbox, shop)["token_calls"] == 1
    time.sleep(2.2)  # now inside the refresh margin (300 s of 302): replaced before expiry
    adapter.shop()
    assert _stats(sandbox, shop)["token_calls"] == 2
    control(sandbox.base_url, "POST", f"/_sandbox/shopify/{shop['name']}/settings",
            {"token_lifetime": 86399})
    control(sandbox.base_url, "POST", f"/_sandbox/shopify/{shop['name']}/tokens/revoke", {})
    adapter.shop()  # 401, token dropped, one new exchange, retried
    assert _stats(sandbox, shop)["token_calls"] == 3
    wrong = adapter_for(shop, cache, credentials={"client_id": "app-1", "client_secret": "x"},
                        redis_url=settings.REDIS_URL)
    with pytest.raises(AuthError):
        wrong.shop()  # a wrong secret never gets the cached token of the right one


def test_two_processes_obtain_one_client_credentials_token(sandbox):
    shop = shop_create(sandbox.base_url, client_id="app-2", client_secret="s3cret-2")
    # A slow token endpoint: both processes are surely asking at the same time.
    _faults(sandbox, shop, {"kind": "slow", "seconds": 1.5, "root_field": "oauth", "count": 2})
    key_prefix = f"test-shopify-token-{uuid.uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.time() + 6.0
    workers = [context.Process(target=token_worker, kwargs={
        "base_url": sandbox.base_url, "shop_base_url": shop["base_url"],
        "redis_url": settings.REDIS_URL, "key_prefix": key_prefix, "client_id": "app-2",
        "client_secret": "s3cret-2", "start_at": start_at, "results": results})
        for _ in range(2)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert [o["name"] for o in outcomes] == [shop["name"]] * 2
    assert sum(o["token_calls"] for o in outcomes) == 1
    assert _stats(sandbox, shop)["token_calls"] == 1


# --- Clock, retention, slow answers ------------------------------------------------


def test_idempotency_keys_expire_after_the_retention_window(sandbox, shop):
    adapter = _adapter(shop)
    key = str(uuid.uuid4())
    write = LevelWrite(ref=_ref(shop, 0), location_id=_location(shop, 0), target_ats=9,
                       expected=7)
    assert adapter.set_levels([write], idempotency_key=key, reason="correction",
                              ref_uri="gid://acorn/Sync/9").rows[0].outcome is \
        WriteOutcome.APPLIED
    control(sandbox.base_url, "POST", f"/_sandbox/shopify/{shop['name']}/clock",
            {"advance_seconds": 86400 + 60})
    # Past the window the key is forgotten: the same request is judged afresh (9 != 7).
    again = adapter.set_levels([write], idempotency_key=key, reason="correction",
                               ref_uri="gid://acorn/Sync/9")
    assert again.rows[0].outcome is WriteOutcome.STALE and again.rows[0].current == 9


def test_a_store_token_expired_at_shopify_is_replaced(sandbox):
    shop = shop_create(sandbox.base_url, client_id="app-3", client_secret="s3cret-3")
    adapter = adapter_for(shop, cache, credentials={"client_id": "app-3",
                                                    "client_secret": "s3cret-3"},
                          redis_url=settings.REDIS_URL)
    adapter.tokens.forget()
    adapter.shop()
    control(sandbox.base_url, "POST", f"/_sandbox/shopify/{shop['name']}/clock",
            {"advance_seconds": 86400})
    adapter.shop()  # Shopify says 401 for the expired token: one new exchange, retried
    assert _stats(sandbox, shop)["token_calls"] == 2


def test_slow_answers_become_transient_on_reads(sandbox, shop):
    adapter = _adapter(shop, timeout=(2.0, 0.5), read_retries=0)
    _faults(sandbox, shop, {"kind": "slow", "seconds": 1.5, "root_field": "locations"})
    with pytest.raises(Transient):
        adapter.list_locations()
    assert len(adapter.list_locations()) == 2


def test_the_2025_10_version_compares_with_compare_quantity(sandbox, shop):
    import requests

    url = shop["base_url"] + "/admin/api/2025-10/graphql.json"
    mutation = """mutation S($input: InventorySetQuantitiesInput!) {
      inventorySetQuantities(input: $input) { inventoryAdjustmentGroup { id }
      userErrors { code field } } }"""
    row = {"inventoryItemId": _ref(shop, 0).item_id, "locationId": _location(shop, 0),
           "quantity": 4, "compareQuantity": 6}

    def send(**extra):
        response = requests.post(url, json={"query": mutation, "variables": {"input": {
            "name": "available", "reason": "correction", "quantities": [row], **extra}}},
            headers={"X-Shopify-Access-Token": shop["access_token"]}, timeout=10)
        assert response.headers["X-Shopify-API-Version"] == "2025-10"
        return response.json()["data"]["inventorySetQuantities"]

    assert send()["userErrors"] == [{"code": "COMPARE_QUANTITY_STALE", "field": [
        "input", "quantities", "0", "compareQuantity"]}]
    assert send(ignoreCompareQuantity=True)["inventoryAdjustmentGroup"] is not None
    assert _level(sandbox, shop, 0, 0)["available"] == 4
