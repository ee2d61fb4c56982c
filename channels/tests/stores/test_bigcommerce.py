"""The BigCommerce adapter against its sandbox over real HTTP (store-channels.md §3, §5)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.core.cache import cache

from channels.stores import registry
from channels.stores.adapter import (
    AuthError,
    InvalidSignature,
    ItemRef,
    LevelDelta,
    LevelWrite,
    NotFound,
    OutcomeUnknown,
    Platform,
    RateLimited,
    StoreEndpoint,
    Transient,
    Watermark,
    WriteOutcome,
)
from channels.stores.bigcommerce import BigCommerceAdapter, RateGovernor
from vendor_api.sandbox.testing import running_sandbox

MOUNT = "channels.stores.sandbox.bigcommerce.register"
CREDENTIALS = {"store_hash": "abc123", "access_token": "token-abc123",
               "client_secret": "secret-abc123"}


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(mounts=[MOUNT], purchase_orders=0) as handle:
        yield handle


def _control(sandbox, method, path, body=None):
    response = requests.request(method, sandbox.base_url + "/_sandbox/bigcommerce" + path,
                                json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def store(sandbox):
    cache.delete_many([f"bigcommerce:rl:{sandbox.base_url}/bigcommerce/abc123:{k}"
                       for k in ("left", "reset", "quota", "inflight")])
    view = _control(sandbox, "POST", "/stores", {
        "hash": "abc123", "replace": True,
        "locations": [{"label": "Default location"}, {"label": "Second"}],
        "products": [
            {"name": "Tee", "variants": [
                {"sku": "TEE-BLK-M", "upc": "012345678905", "levels": {"1": 10, "2": 3}},
                {"sku": "TEE-BLK-L", "levels": {"1": 5}, "safety_stock": 2}]},
            {"name": "Duplicate", "variants": [{"sku": "TEE-BLK-M", "levels": {"1": 1}}]},
            {"name": "No SKU", "variants": [{"sku": "", "levels": {"1": 0}}]},
            {"name": "New", "variants": [{"sku": "NEW", "levels": {"1": 0},
                                          "absolute_set": False}]},
        ]})
    return {"_variants": view["variants"]}


def _ref(store, index) -> ItemRef:
    variant = store["_variants"][index]
    return ItemRef(item_id=str(variant["product_id"]), variant_id=str(variant["id"]))


def _adapter(sandbox, credentials=None, **kwargs) -> BigCommerceAdapter:
    endpoint = StoreEndpoint(platform=Platform.BIGCOMMERCE,
                             base_url=sandbox.base_url + "/bigcommerce")
    return BigCommerceAdapter(endpoint=endpoint, credentials=credentials or CREDENTIALS,
                              cache=cache, **kwargs)


def _onhand(sandbox, variant_id, location_id):
    for level in _control(sandbox, "GET", "/abc123/levels")["levels"]:
        if level["variant_id"] == variant_id and level["location_id"] == location_id:
            return level["onhand"]
    return None


def test_registry_builds_the_bigcommerce_adapter(sandbox, store):
    adapter = registry.adapter_build(endpoint=StoreEndpoint(
        platform=Platform.BIGCOMMERCE, base_url=sandbox.base_url + "/bigcommerce"),
        credentials=CREDENTIALS, cache=cache)
    assert isinstance(adapter, BigCommerceAdapter)
    assert adapter.capabilities.cas == "none" and adapter.capabilities.delta_writes
    assert adapter.capabilities.quantity_semantics == "onhand_minus_safety"


def test_locations_and_skus_with_duplicates_and_missing(sandbox, store):
    adapter = _adapter(sandbox)
    assert [(loc.location_id, loc.name) for loc in adapter.list_locations()] == [
        ("1", "Default location"), ("2", "Second")]
    page = adapter.list_skus()
    assert page.next_cursor is None
    skus = [item.sku for item in page.items]
    assert skus.count("TEE-BLK-M") == 2 and "" in skus
    refs = {item.ref for item in page.items}
    assert len(refs) == 5  # told apart by (product, variant), not by SKU
    first = page.items[0]
    assert first.gtin == "012345678905" and first.ref == _ref(store, 0)


def test_list_skus_pages_with_v3_meta(sandbox, store):
    _control(sandbox, "POST", "/abc123/products", {"products": [
        {"name": f"P{n}", "variants": [{"sku": f"P-{n}"}]} for n in range(260)]})
    adapter = _adapter(sandbox)
    first = adapter.list_skus()
    assert first.next_cursor == "2" and len(first.items) > 250
    second = adapter.list_skus(cursor=first.next_cursor)
    assert second.next_cursor is None
    assert len(first.items) + len(second.items) == 265


def test_levels_are_onhand_minus_safety(sandbox, store):
    adapter = _adapter(sandbox)
    levels = {(s.ref.variant_id, s.location_id): s
              for s in adapter.get_levels([_ref(store, 0), _ref(store, 1)])}
    assert levels[(_ref(store, 0).variant_id, "1")].ats == 10
    assert levels[(_ref(store, 0).variant_id, "2")].ats == 3
    level = levels[(_ref(store, 1).variant_id, "1")]
    assert (level.ats, level.raw["onhand"], level.raw["safety_stock"]) == (3, 5, 2)
    only = adapter.get_levels([_ref(store, 0)], ["2"])
    assert [(s.location_id, s.ats) for s in only] == [("2", 3)]


def test_set_levels_absolute_writes_ats_plus_safety_stock(sandbox, store):
    adapter = _adapter(sandbox)
    result = adapter.set_levels(
        [LevelWrite(_ref(store, 0), "1", 7), LevelWrite(_ref(store, 1), "1", 4)],
        idempotency_key="bc-set-1", reason="reconcile", ref_uri="acorn:1")
    assert [r.outcome for r in result.rows] == [WriteOutcome.APPLIED] * 2
    assert _onhand(sandbox, store["_variants"][0]["id"], 1) == 7
    assert _onhand(sandbox, store["_variants"][1]["id"], 1) == 6  # 4 + safety stock 2
    assert {s.ats for s in adapter.get_levels([_ref(store, 1)], ["1"])} == {4}


def test_relative_adjustment_and_the_absolute_first_422(sandbox, store):
    adapter = _adapter(sandbox)
    new = store["_variants"][4]
    # The platform's rule, seen raw: relative before any absolute is a 422 problem.
    raw = requests.post(sandbox.base_url + "/bigcommerce/stores/abc123/v3/inventory/adjustments/"
                        "relative", headers={"X-Auth-Token": "token-abc123"}, timeout=10,
                        json={"items": [{"location_id": 1, "variant_id": new["id"],
                                         "quantity": 2}]})
    assert raw.status_code == 422
    assert raw.headers["Content-Type"].startswith("application/problem+json")
    assert "requires absolute adjustment before relative" in raw.json()["title"]
    result = adapter.adjust_levels(
        [LevelDelta(_ref(store, 0), "1", -3), LevelDelta(_ref(store, 4), "1", 2)],
        idempotency_key="bc-adj-1", reason="order", ref_uri="acorn:2")
    assert [r.outcome for r in result.rows] == [WriteOutcome.APPLIED] * 2
    assert _onhand(sandbox, store["_variants"][0]["id"], 1) == 7
    assert _onhand(sandbox, new["id"], 1) == 2
    # From now on relative works for the new item too.
    adapter.adjust_levels([LevelDelta(_ref(store, 4), "1", 1)], idempotency_key="bc-adj-2",
                          reason="order", ref_uri="acorn:3")
    assert _onhand(sandbox, new["id"], 1) == 3
    # The same key again: the first answer, nothing sent.
    before = _control(sandbox, "GET", "/abc123/levels")["transactions"]
    adapter.adjust_levels([LevelDelta(_ref(store, 4), "1", 1)], idempotency_key="bc-adj-2",
                          reason="order", ref_uri="acorn:3")
    assert _control(sandbox, "GET", "/abc123/levels")["transactions"] == before
    assert _onhand(sandbox, new["id"], 1) == 3


def test_timeout_after_an_applied_delta_is_unknown_and_never_applied_twice(sandbox, store):
    adapter = _adapter(sandbox, timeout=(2.0, 1.0))
    _control(sandbox, "POST", "/abc123/faults", {"faults": [
        {"kind": "timeout_after_commit", "path_contains": "relative", "seconds": 3}]})
    with pytest.raises(OutcomeUnknown):
        adapter.adjust_levels([LevelDelta(_ref(store, 0), "1", -4)],
                              idempotency_key="bc-timeout", reason="order", ref_uri="acorn:4")
    time.sleep(2.5)
    variant_id = store["_variants"][0]["id"]
    assert _onhand(sandbox, variant_id, 1) == 6  # applied once
    # The retry with the same key is refused without sending; a re-read shows the truth.
    with pytest.raises(OutcomeUnknown):
        adapter.adjust_levels([LevelDelta(_ref(store, 0), "1", -4)],
                              idempotency_key="bc-timeout", reason="order", ref_uri="acorn:4")
    assert _onhand(sandbox, variant_id, 1) == 6
    assert [s.ats for s in adapter.get_levels([_ref(store, 0)], ["1"])] == [6]
    # An absolute with an unknown outcome is re-sent (harmless): still 9 afterwards.
    _control(sandbox, "POST", "/abc123/faults", {"faults": [
        {"kind": "timeout_after_commit", "path_contains": "absolute", "seconds": 3}]})
    with pytest.raises(OutcomeUnknown):
        adapter.set_levels([LevelWrite(_ref(store, 0), "1", 9)], idempotency_key="bc-abs",
                           reason="r", ref_uri="u")
    time.sleep(2.5)
    adapter.set_levels([LevelWrite(_ref(store, 0), "1", 9)], idempotency_key="bc-abs",
                       reason="r", ref_uri="u")
    assert _onhand(sandbox, variant_id, 1) == 9


def test_orders_v2_bare_arrays_204_and_rfc2822(sandbox, store):
    adapter = _adapter(sandbox)
    empty = adapter.list_orders_since(Watermark(updated_at=datetime.now(UTC) - timedelta(days=1)))
    assert empty.orders == [] and empty.next_page_token is None
    raw = requests.get(sandbox.base_url + "/bigcommerce/stores/abc123/v2/orders",
                       headers={"X-Auth-Token": "token-abc123"}, timeout=10)
    assert raw.status_code == 204 and raw.content == b""
    placed = _control(sandbox, "POST", "/abc123/orders", {"lines": [
        {"variant_id": store["_variants"][0]["id"], "quantity": 2},
        {"variant_id": store["_variants"][1]["id"], "quantity": 1}]})
    assert _onhand(sandbox, store["_variants"][0]["id"], 1) == 8  # order_placed behaviour
    page = adapter.list_orders_since(Watermark(updated_at=datetime.now(UTC) - timedelta(days=1)))
    assert [o.order_id for o in page.orders] == [str(placed["id"])]
    order = page.orders[0]
    assert order.updated_at.tzinfo is not None and not order.cancelled
    assert [(line.ref, line.quantity) for line in order.lines] == [
        (_ref(store, 0), 2), (_ref(store, 1), 1)]
    assert page.next_watermark.updated_at == order.updated_at
    raw = requests.get(sandbox.base_url + "/bigcommerce/stores/abc123/v2/orders",
                       headers={"X-Auth-Token": "token-abc123"}, timeout=10).json()
    assert isinstance(raw, list) and raw[0]["date_modified"].endswith("+0000")
    _control(sandbox, "POST", f"/abc123/orders/{placed['id']}/cancel")
    cancelled = adapter.get_order(str(placed["id"]))
    assert cancelled.cancelled and cancelled.raw_status == "Cancelled"
    assert _onhand(sandbox, store["_variants"][0]["id"], 1) == 10
    with pytest.raises(NotFound):
        adapter.get_order("999999")


def test_orders_page_by_limit(sandbox, store):
    for _n in range(251):
        _control(sandbox, "POST", "/abc123/orders", {"lines": [
            {"variant_id": store["_variants"][0]["id"], "quantity": 1}]})
    adapter = _adapter(sandbox)
    since = Watermark(updated_at=datetime.now(UTC) - timedelta(days=1))
    first = adapter.list_orders_since(since)
    assert len(first.orders) == 250 and first.next_page_token == "2"
    second = adapter.list_orders_since(since, page_token=first.next_page_token)
    assert len(second.orders) == 1 and second.next_page_token is None


def test_shared_quota_is_respected_without_429_storms(sandbox, store):
    _control(sandbox, "POST", "/abc123/settings", {"quota": 8, "window_ms": 2000})
    _control(sandbox, "POST", "/abc123/clock", {"advance_seconds": 3})  # a fresh window
    _control(sandbox, "POST", "/abc123/quota/spend", {"count": 5})  # another app's calls
    adapters = [_adapter(sandbox) for _ in range(3)]  # three workers, one governor
    errors = []

    def work(adapter):
        try:
            for _ in range(5):
                adapter.list_locations()
        except Exception as error:  # noqa: BLE001 (collected for the assertion)
            errors.append(error)

    threads = [threading.Thread(target=work, args=(a,)) for a in adapters]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    elapsed = time.monotonic() - started
    assert errors == []
    stats = _control(sandbox, "GET", "/abc123/stats")["stats"]
    # 15 calls at 8 per 2 s window, 5 spent by someone else: waiting, not hammering.
    assert stats.get("rate_limited", 0) == 0
    assert elapsed >= 2.0


def test_429_with_reset_raises_rate_limited(sandbox, store):
    _control(sandbox, "POST", "/abc123/settings", {"quota": 2, "window_ms": 30000})
    _control(sandbox, "POST", "/abc123/clock", {"advance_seconds": 31})
    _control(sandbox, "POST", "/abc123/quota/spend", {"count": 2})
    adapter = _adapter(sandbox, max_wait=0.5)
    with pytest.raises(RateLimited) as caught:
        adapter.list_locations()
    assert 0 < caught.value.retry_after <= 30
    # The governor now knows: the next call waits or fails fast without sending.
    before = _control(sandbox, "GET", "/abc123/stats")["stats"].get("rate_limited", 0)
    with pytest.raises(RateLimited):
        adapter.list_locations()
    assert _control(sandbox, "GET", "/abc123/stats")["stats"].get("rate_limited", 0) == before


def test_platform_overload_429_backs_off_and_retries(sandbox, store):
    _control(sandbox, "POST", "/abc123/faults", {"faults": [{"kind": "overload", "count": 2}]})
    started = time.monotonic()
    assert len(_adapter(sandbox).list_locations()) == 2
    assert time.monotonic() - started >= 0.5  # backed off twice (1 s and 2 s, jittered)
    assert _control(sandbox, "GET", "/abc123/stats")["stats"]["fault:overload"] == 2


def test_ship_mode_decrements_at_shipment(sandbox, store):
    _control(sandbox, "POST", "/abc123/settings",
             {"update_stock_behavior": "order_completed_or_shipped"})
    variant_id = store["_variants"][0]["id"]
    order = _control(sandbox, "POST", "/abc123/orders", {"lines": [
        {"variant_id": variant_id, "quantity": 2}]})
    assert _onhand(sandbox, variant_id, 1) == 10
    _control(sandbox, "POST", f"/abc123/orders/{order['id']}/ship")
    assert _onhand(sandbox, variant_id, 1) == 8
    shipped = _adapter(sandbox).get_order(str(order["id"]))
    assert shipped.lines[0].quantity_shipped == 2 and not shipped.cancelled


def test_governor_ignores_missing_headers():
    governor = RateGovernor(cache, "nowhere-test")
    cache.delete_many([governor.left_key, governor.reset_key])
    governor.observe({})
    governor.acquire()  # no record: go


def test_errors_are_normalised(sandbox, store):
    with pytest.raises(AuthError):
        _adapter(sandbox, {**CREDENTIALS, "access_token": "wrong"}).list_locations()
    adapter = _adapter(sandbox)
    _control(sandbox, "POST", "/abc123/faults", {"faults": [{"kind": "status", "status": 502}]})
    with pytest.raises(Transient):
        adapter.list_locations()
    _control(sandbox, "POST", "/abc123/faults", {"faults": [
        {"kind": "status", "status": 500, "path_contains": "absolute"}]})
    with pytest.raises(OutcomeUnknown):
        adapter.set_levels([LevelWrite(_ref(store, 0), "1", 1)], idempotency_key="bc-500",
                           reason="r", ref_uri="u")


# --- Webhooks ------------------------------------------------------------------------


class _Receiver:
    """A local endpoint that records what BigCommerce delivers."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (stdlib name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    item = _Receiver()
    yield item
    item.close()


def test_webhooks_good_bad_duplicate_reordered_skewed(sandbox, store, receiver):
    adapter = _adapter(sandbox)
    _control(sandbox, "POST", "/abc123/hooks", {"scope": "store/order/*", "destination":
                                                receiver.url})
    _control(sandbox, "POST", "/abc123/hooks", {
        "scope": "store/channel/1/inventory/product/stock_changed", "destination": receiver.url})
    first = _control(sandbox, "POST", "/abc123/orders", {"lines": [
        {"variant_id": store["_variants"][0]["id"], "quantity": 1}]})
    second = _control(sandbox, "POST", "/abc123/orders", {"lines": [
        {"variant_id": store["_variants"][1]["id"], "quantity": 1}]})
    result = _control(sandbox, "POST", "/abc123/webhooks/deliver",
                      {"duplicate": True, "duplicate_fire": True, "reverse": True})
    assert result["failed"] == 0
    envelopes = [adapter.verify_webhook(headers, body) for headers, body in receiver.received]
    # 2 orders + 2 stock changes, each delivered 3 times (retry + second fire), reversed.
    assert len(envelopes) == 12
    assert len({e.dedupe_key for e in envelopes}) == 4
    orders = [e for e in envelopes if e.order_ids]
    assert orders[0].order_ids == [str(second["id"])]  # reordered: the later one first
    assert {e.order_ids[0] for e in orders} == {str(first["id"]), str(second["id"])}
    assert orders[0].topic == "store/order/created"
    stock = [e for e in envelopes if e.refs]
    assert _ref(store, 0) in {e.refs[0] for e in stock}
    headers, body = receiver.received[0]
    # Tampered body, wrong secret, missing signature: refused.
    with pytest.raises(InvalidSignature):
        adapter.verify_webhook(headers, body.replace(b'"id"', b'"ID"'))
    with pytest.raises(InvalidSignature):
        _adapter(sandbox, {**CREDENTIALS, "client_secret": "other"}).verify_webhook(headers, body)
    unsigned = {k: v for k, v in headers.items() if not k.lower().startswith("webhook-")}
    with pytest.raises(InvalidSignature):
        adapter.verify_webhook(unsigned, body)
    # Skew: 10 minutes off either way is refused, 2 minutes is tolerated.
    receiver.received.clear()
    _control(sandbox, "POST", "/abc123/webhooks/emit", {"scope": "store/order/updated",
                                                        "data": {"type": "order", "id": 1}})
    _control(sandbox, "POST", "/abc123/webhooks/deliver", {"skew_seconds": -600})
    with pytest.raises(InvalidSignature, match="too old"):
        adapter.verify_webhook(*receiver.received[-1])
    _control(sandbox, "POST", "/abc123/webhooks/emit", {"scope": "store/order/updated",
                                                        "data": {"type": "order", "id": 2}})
    _control(sandbox, "POST", "/abc123/webhooks/deliver", {"skew_seconds": 600})
    with pytest.raises(InvalidSignature, match="too new"):
        adapter.verify_webhook(*receiver.received[-1])
    _control(sandbox, "POST", "/abc123/webhooks/emit", {"scope": "store/order/updated",
                                                        "data": {"type": "order", "id": 3}})
    _control(sandbox, "POST", "/abc123/webhooks/deliver", {"skew_seconds": 120})
    assert adapter.verify_webhook(*receiver.received[-1]).order_ids == ["3"]


def test_webhook_with_the_shared_secret_header_only(sandbox, store):
    adapter = _adapter(sandbox, {**CREDENTIALS, "webhook_secret": "hdr-secret"})
    body = json.dumps({"scope": "store/order/created", "data": {"type": "order", "id": 9},
                       "hash": "h9", "created_at": int(time.time())}).encode()
    envelope = adapter.verify_webhook({"X-Acorn-Webhook-Secret": "hdr-secret"}, body)
    assert envelope.dedupe_key == "bigcommerce:h9" and envelope.order_ids == ["9"]
    with pytest.raises(InvalidSignature):
        adapter.verify_webhook({"X-Acorn-Webhook-Secret": "nope"}, body)
