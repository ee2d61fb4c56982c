"""The Magento adapter against the Magento sandbox over real HTTP (store-channels.md §2, §5)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

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
    StoreEndpoint,
    Transient,
    Validation,
    Watermark,
    WriteOutcome,
)
from channels.stores.magento import MagentoAdapter, criteria, error_message
from vendor_api.sandbox.testing import running_sandbox

MOUNT = "channels.stores.sandbox.magento.register"
CREDENTIALS = {"consumer_key": "ck-shop", "consumer_secret": "cs-shop",
               "access_token": "at-shop", "access_token_secret": "ats-shop"}


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(mounts=[MOUNT], purchase_orders=0) as handle:
        yield handle


def _control(sandbox, method, path, body=None):
    response = requests.request(method, sandbox.base_url + "/_sandbox/magento" + path, json=body,
                                timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _forget_thresholds(sandbox, skus=("TEE-BLK-M", "TEE-BLK-L", "MUG")):
    cache.delete_many([f"magento:min-qty:{sandbox.base_url}/magento/shop:{sku}" for sku in skus])


@pytest.fixture
def store(sandbox):
    _forget_thresholds(sandbox)
    _control(sandbox, "POST", "/stores", {
        "name": "shop", "replace": True,
        "sources": [{"code": "wh-1", "name": "Main"}, {"code": "wh-2", "name": "Overflow"},
                    {"code": "old", "name": "Closed", "enabled": False}],
        "stocks": [{"id": 1, "name": "Default Stock", "sources": ["wh-1", "wh-2", "old"]}],
        "products": [
            {"sku": "TEE-BLK-M", "gtin": "4006381333931", "sources": {"wh-1": 10, "wh-2": 4}},
            {"sku": "TEE-BLK-L", "sources": {"wh-1": 3}},
            {"sku": "TEE", "type_id": "configurable"},
            {"sku": "MUG", "sources": {}},
        ],
    })
    return "shop"


def _adapter(sandbox, credentials=None, **kwargs) -> MagentoAdapter:
    endpoint = StoreEndpoint(platform=Platform.MAGENTO, base_url=sandbox.base_url + "/magento/shop")
    return MagentoAdapter(endpoint=endpoint, credentials=credentials or CREDENTIALS, cache=cache,
                          **kwargs)


def _levels(sandbox):
    return _control(sandbox, "GET", "/shop/levels")


def _quantity(sandbox, sku, source):
    for item in _levels(sandbox)["source_items"]:
        if item["sku"] == sku and item["source_code"] == source:
            return item["quantity"]
    return None


def test_registry_builds_the_magento_adapter(sandbox, store):
    adapter = registry.adapter_build(
        endpoint=StoreEndpoint(platform=Platform.MAGENTO,
                               base_url=sandbox.base_url + "/magento/shop"),
        credentials=CREDENTIALS, cache=cache)
    assert isinstance(adapter, MagentoAdapter)
    assert adapter.capabilities.cas == "none"
    assert adapter.capabilities.idempotency_key is False
    assert adapter.capabilities.delta_writes is True
    assert adapter.capabilities.webhooks is False
    assert adapter.capabilities.max_write_batch == 20


def test_locations_are_the_sources(sandbox, store):
    locations = _adapter(sandbox).list_locations()
    assert [(loc.location_id, loc.name, loc.is_active) for loc in locations] == [
        ("wh-1", "Main", True), ("wh-2", "Overflow", True), ("old", "Closed", False)]


def test_list_skus_pages_until_total_count_with_the_last_page_repeated(sandbox, store):
    _control(sandbox, "POST", "/shop/products", {"products": [
        {"sku": f"GEN-{n:03d}", "sources": {"wh-1": 1}} for n in range(230)]})
    adapter = _adapter(sandbox)
    skus, cursor, pages = [], None, 0
    while True:
        page = adapter.list_skus(cursor=cursor)
        pages += 1
        skus.extend(item.sku for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
        assert pages < 10
    # 3 simple seeded + 230 generated, configurable parent excluded; 100 per page.
    assert pages == 3
    assert len(skus) == len(set(skus)) == 233
    assert {"TEE-BLK-M", "MUG"} <= set(skus) and "TEE" not in skus
    first = [s for s in adapter.list_skus().items if s.sku == "TEE-BLK-M"][0]
    assert first.ref == ItemRef(item_id="TEE-BLK-M") and first.gtin == "4006381333931"
    # The trap is real: past the end the sandbox answers the last page again.
    body = requests.get(sandbox.base_url + "/magento/shop/rest/V1/products", params=criteria(
        [[("type_id", "eq", "simple")]], page=9, page_size=100), auth=adapter.auth,
        timeout=10).json()
    assert body["total_count"] == 233 and len(body["items"]) == 33
    log = _control(sandbox, "GET", "/shop/log")["log"]
    asked = [int(e["query"].get("searchCriteria[currentPage]", 0)) for e in log
             if e["path"].endswith("/V1/products")]
    assert max(asked[:3]) == 3  # the adapter never asked for page 4


def test_list_skus_updated_since(sandbox, store):
    adapter = _adapter(sandbox)
    _control(sandbox, "POST", "/shop/clock", {"advance_seconds": 3600})
    since = datetime.now(UTC) + timedelta(seconds=1800)
    _control(sandbox, "POST", "/shop/stock", {"sku": "TEE-BLK-L", "source_code": "wh-1",
                                              "quantity": 8})
    page = adapter.list_skus(updated_since=since)
    assert [item.sku for item in page.items] == ["TEE-BLK-L"]


def test_levels_subtract_unshipped_reservations(sandbox, store):
    adapter = _adapter(sandbox)
    _control(sandbox, "POST", "/shop/orders", {"lines": [{"sku": "TEE-BLK-M", "qty": 3}]})
    levels = {(s.ref.item_id, s.location_id): s
              for s in adapter.get_levels([ItemRef("TEE-BLK-M"), ItemRef("TEE-BLK-L")])}
    # Source quantity stays 10 until shipment; Magento's salable is 14 - 3 = 11.
    assert levels[("TEE-BLK-M", "wh-1")].raw["quantity"] == 10
    assert levels[("TEE-BLK-M", "wh-1")].raw["unshipped"] == 3
    assert levels[("TEE-BLK-M", "wh-1")].ats == 7
    assert levels[("TEE-BLK-M", "wh-2")].ats == 4  # reservations charged to the first source
    assert levels[("TEE-BLK-L", "wh-1")].ats == 3
    assert levels[("TEE-BLK-M", "wh-1")].cas_token is None
    only = adapter.get_levels([ItemRef("TEE-BLK-M")], ["wh-2"])
    assert [(s.location_id, s.ats) for s in only] == [("wh-2", 4)]


def test_set_levels_writes_ats_plus_unshipped_and_salable_equals_ats(sandbox, store):
    adapter = _adapter(sandbox)
    order = _control(sandbox, "POST", "/shop/orders", {"lines": [{"sku": "TEE-BLK-M", "qty": 2}]})
    result = adapter.set_levels([LevelWrite(ItemRef("TEE-BLK-M"), "wh-1", 5)],
                                idempotency_key="k-set-1", reason="reconcile", ref_uri="acorn:1")
    assert [r.outcome for r in result.rows] == [WriteOutcome.APPLIED]
    assert _quantity(sandbox, "TEE-BLK-M", "wh-1") == 7  # 5 + 2 unshipped
    snapshot = [s for s in adapter.get_levels([ItemRef("TEE-BLK-M")], ["wh-1"])][0]
    assert snapshot.ats == 5
    # Shipment deducts the source and compensates the reservation: ATS unchanged.
    _control(sandbox, "POST", f"/shop/orders/{order['entity_id']}/ship")
    assert _quantity(sandbox, "TEE-BLK-M", "wh-1") == 5
    snapshot = [s for s in adapter.get_levels([ItemRef("TEE-BLK-M")], ["wh-1"])][0]
    assert (snapshot.ats, snapshot.raw["unshipped"]) == (5, 0)
    # A threshold counts as Magento's own: salable = 5 + 4 - 2 = 7 sources, ATS per source kept.
    _control(sandbox, "POST", "/shop/settings", {"threshold": 2})
    _forget_thresholds(sandbox)  # cached for a few minutes: configuration
    snapshot = [s for s in adapter.get_levels([ItemRef("TEE-BLK-M")], ["wh-1"])][0]
    assert snapshot.ats == 5


def test_adjust_levels_is_read_modify_write(sandbox, store):
    adapter = _adapter(sandbox)
    _control(sandbox, "POST", "/shop/orders", {"lines": [{"sku": "TEE-BLK-M", "qty": 1}]})
    result = adapter.adjust_levels(
        [LevelDelta(ItemRef("TEE-BLK-M"), "wh-1", -4), LevelDelta(ItemRef("MUG"), "wh-1", 2)],
        idempotency_key="k-adj-1", reason="sale", ref_uri="acorn:2")
    outcomes = {(r.ref.item_id, r.outcome, r.code) for r in result.rows}
    assert ("TEE-BLK-M", WriteOutcome.APPLIED, "") in outcomes
    assert ("MUG", WriteOutcome.REJECTED, "NOT_STOCKED_AT_SOURCE") in outcomes
    # ATS was 10 - 1 = 9; 9 - 4 = 5; source = 5 + 1 unshipped.
    assert _quantity(sandbox, "TEE-BLK-M", "wh-1") == 6
    # The same key again answers the first result and writes nothing.
    saved = _control(sandbox, "GET", "/shop/stats")["stats"]["source_items_saved"]
    again = adapter.adjust_levels([LevelDelta(ItemRef("TEE-BLK-M"), "wh-1", -4)],
                                  idempotency_key="k-adj-1", reason="sale", ref_uri="acorn:2")
    assert [r.outcome for r in again.rows] == [WriteOutcome.APPLIED]
    assert _quantity(sandbox, "TEE-BLK-M", "wh-1") == 6
    assert _control(sandbox, "GET", "/shop/stats")["stats"]["source_items_saved"] == saved


def test_timeout_after_the_write_commits_is_unknown_and_never_applied_twice(sandbox, store):
    adapter = _adapter(sandbox, timeout=(2.0, 1.0))
    _control(sandbox, "POST", "/shop/faults", {"faults": [
        {"kind": "timeout_after_commit", "path_contains": "source-items", "method": "POST",
         "seconds": 3}]})
    with pytest.raises(OutcomeUnknown):
        adapter.adjust_levels([LevelDelta(ItemRef("TEE-BLK-M"), "wh-1", 5)],
                              idempotency_key="k-timeout", reason="r", ref_uri="u")
    time.sleep(2.5)
    assert _quantity(sandbox, "TEE-BLK-M", "wh-1") == 15  # it was applied
    # Re-read shows it; a retry with the same key re-sends the same absolute, not +5 again.
    assert [s.ats for s in adapter.get_levels([ItemRef("TEE-BLK-M")], ["wh-1"])] == [15]
    retry = adapter.adjust_levels([LevelDelta(ItemRef("TEE-BLK-M"), "wh-1", 5)],
                                  idempotency_key="k-timeout", reason="r", ref_uri="u")
    assert [r.outcome for r in retry.rows] == [WriteOutcome.APPLIED]
    assert _quantity(sandbox, "TEE-BLK-M", "wh-1") == 15


def test_writes_go_in_batches_of_twenty_under_input_limits(sandbox, store):
    _control(sandbox, "POST", "/shop/settings", {"input_limits": True})
    _control(sandbox, "POST", "/shop/products", {"products": [
        {"sku": f"B-{n:02d}", "sources": {"wh-1": 1}} for n in range(45)]})
    adapter = _adapter(sandbox)
    writes = [LevelWrite(ItemRef(f"B-{n:02d}"), "wh-1", n) for n in range(45)]
    result = adapter.set_levels(writes, idempotency_key="k-batch", reason="r", ref_uri="u")
    assert len(result.rows) == 45
    assert _quantity(sandbox, "B-44", "wh-1") == 44
    posts = [e for e in _control(sandbox, "GET", "/shop/log")["log"]
             if e["method"] == "POST" and e["path"].endswith("/source-items")]
    assert [e["status"] for e in posts] == [200, 200, 200]
    # The limit is real: 21 items in one call are refused with Magento's shape.
    response = requests.post(
        sandbox.base_url + "/magento/shop/rest/V1/inventory/source-items", auth=adapter.auth,
        json={"sourceItems": [{"sku": f"B-{n:02d}", "source_code": "wh-1", "quantity": 1,
                               "status": 1} for n in range(21)]}, timeout=10)
    assert response.status_code == 400
    assert response.json()["parameters"]["max"] == 20
    # And a page size over 300 too.
    response = requests.get(sandbox.base_url + "/magento/shop/rest/V1/products",
                            params=criteria([], page=1, page_size=301), auth=adapter.auth,
                            timeout=10)
    assert response.status_code == 400 and "pageSize" in response.json()["message"]


def test_orders_since_count_configurable_rows_once_and_page_on_total_count(sandbox, store):
    adapter = _adapter(sandbox)
    configurable = _control(sandbox, "POST", "/shop/orders", {"lines": [
        {"sku": "TEE-BLK-M", "qty": 2, "parent_sku": "TEE"}, {"sku": "TEE-BLK-L", "qty": 1}]})
    assert len(configurable["items"]) == 3  # parent + child + simple
    for _n in range(104):
        _control(sandbox, "POST", "/shop/orders", {"lines": [{"sku": "TEE-BLK-L", "qty": 1}]})
    since = datetime.now(UTC) - timedelta(days=1)
    orders, token, pages = [], None, 0
    while True:
        page = adapter.list_orders_since(Watermark(updated_at=since), page_token=token)
        pages += 1
        orders.extend(page.orders)
        token = page.next_page_token
        if not token:
            break
    assert pages == 2 and len(orders) == 105
    assert len({o.order_id for o in orders}) == 105  # the repeated last page never read
    first = next(o for o in orders if o.order_id == str(configurable["entity_id"]))
    assert [(line.sku, line.quantity) for line in first.lines] == [("TEE-BLK-M", 2),
                                                                   ("TEE-BLK-L", 1)]
    assert page.next_watermark.updated_at >= since
    # Salable counts the configurable line once too: 14 - 2.
    assert _levels(sandbox)["salable"]["TEE-BLK-M/1"] == 12
    # Nothing newer than the watermark: an empty page.
    later = adapter.list_orders_since(Watermark(updated_at=datetime.now(UTC) + timedelta(days=1)))
    assert later.orders == [] and later.next_page_token is None


def test_get_order_cancel_and_ship(sandbox, store):
    adapter = _adapter(sandbox)
    placed = _control(sandbox, "POST", "/shop/orders", {"lines": [
        {"sku": "TEE-BLK-M", "qty": 2, "parent_sku": "TEE"}]})
    order = adapter.get_order(str(placed["entity_id"]))
    assert not order.cancelled and order.lines[0].quantity == 2
    _control(sandbox, "POST", f"/shop/orders/{placed['entity_id']}/cancel")
    order = adapter.get_order(str(placed["entity_id"]))
    assert order.cancelled and order.lines[0].quantity_cancelled == 2
    assert order.raw_status == "canceled"
    shipped = _control(sandbox, "POST", "/shop/orders", {"lines": [{"sku": "TEE-BLK-L", "qty": 1}]})
    _control(sandbox, "POST", f"/shop/orders/{shipped['entity_id']}/ship")
    order = adapter.get_order(str(shipped["entity_id"]))
    assert order.lines[0].quantity_shipped == 1 and order.lines[0].quantity_cancelled == 0
    with pytest.raises(NotFound):
        adapter.get_order("999999")


def test_oauth_signature_refused_and_nonce_replay_refused(sandbox, store):
    wrong = _adapter(sandbox, {**CREDENTIALS, "consumer_secret": "not-it"})
    with pytest.raises(AuthError, match="signature is invalid"):
        wrong.list_locations()
    wrong_token = _adapter(sandbox, {**CREDENTIALS, "access_token_secret": "not-it"})
    with pytest.raises(AuthError):
        wrong_token.list_locations()
    # Replay one correctly signed request byte for byte.
    adapter = _adapter(sandbox)
    prepared = requests.Request("GET", sandbox.base_url + "/magento/shop/rest/default/V1/"
                                "inventory/sources", auth=adapter.auth).prepare()
    with requests.Session() as session:
        assert session.send(prepared, timeout=10).status_code == 200
        replay = session.send(prepared, timeout=10)
    assert replay.status_code == 401 and "nonce" in replay.json()["message"]
    assert _control(sandbox, "GET", "/shop/stats")["stats"]["replayed_nonce"] == 1
    # The integration token alone as Bearer is refused (2.4.4+) unless the store allows it.
    bearer = _adapter(sandbox, {"access_token": "at-shop"})
    with pytest.raises(AuthError, match="isn't authorized to access Magento_InventoryApi::source"):
        bearer.list_locations()
    _control(sandbox, "POST", "/shop/settings", {"integration_as_bearer": True})
    assert len(bearer.list_locations()) == 3


def test_admin_token_bearer(sandbox, store):
    token = requests.post(sandbox.base_url + "/magento/shop/rest/V1/integration/admin/token",
                          json={"username": "admin", "password": "admin123"}, timeout=10).json()
    assert isinstance(token, str)
    assert len(_adapter(sandbox, {"access_token": token}).list_locations()) == 3


def test_errors_are_normalised(sandbox, store):
    adapter = _adapter(sandbox)
    assert error_message({"message": "The %1 of %2", "parameters": ["a", "b"]}) == "The a of b"
    assert error_message({"message": "Access to %resources.", "parameters": {
        "resources": "X"}}) == "Access to X."
    with pytest.raises(Validation) as caught:
        adapter._request("POST", "/inventory/source-items", write=True,
                         body={"sourceItems": [{"sku": "", "source_code": "wh-1", "quantity": 1}]})
    assert caught.value.field == "sku" and '"sku" can not be empty' in caught.value.message
    with pytest.raises(Validation, match="Could not save Source Item"):
        adapter._request("POST", "/inventory/source-items", write=True,
                         body={"sourceItems": [{"sku": "MUG", "source_code": "nowhere",
                                                "quantity": 1}]})
    with pytest.raises(Validation, match="Input data is empty"):
        adapter._request("POST", "/inventory/source-items", write=True, body={})
    _control(sandbox, "POST", "/shop/faults", {"faults": [{"kind": "status", "status": 503}]})
    with pytest.raises(Transient, match="Internal Error"):
        adapter.list_locations()
    _control(sandbox, "POST", "/shop/faults", {"faults": [
        {"kind": "status", "status": 500, "method": "POST"}]})
    with pytest.raises(OutcomeUnknown):
        adapter.set_levels([LevelWrite(ItemRef("MUG"), "wh-1", 1)], idempotency_key="k-500",
                           reason="r", ref_uri="u")
    _control(sandbox, "POST", "/shop/faults", {"faults": [{"kind": "unauthorized"}]})
    with pytest.raises(AuthError):
        adapter.list_locations()


def test_search_criteria_or_within_a_group_and_across_groups(sandbox, store):
    adapter = _adapter(sandbox)
    rows = adapter._search("/inventory/source-items", [
        [("sku", "eq", "TEE-BLK-M"), ("sku", "like", "%-L")],  # OR
        [("quantity", "gteq", "4")],  # AND
    ], sort=[("quantity", "DESC")])
    assert [(r["sku"], r["source_code"], r["quantity"]) for r in rows] == [
        ("TEE-BLK-M", "wh-1", 10), ("TEE-BLK-M", "wh-2", 4)]
    rows = adapter._search("/inventory/source-items", [[("source_code", "nin", "wh-1")]])
    assert {r["source_code"] for r in rows} == {"wh-2"}
    rows = adapter._search("/inventory/source-items", [[("quantity", "lt", "4")],
                                                       [("sku", "neq", "MUG")]])
    assert [(r["sku"], r["quantity"]) for r in rows] == [("TEE-BLK-L", 3)]
    rows = adapter._search("/inventory/source-items", [[("sku", "in", "MUG,TEE-BLK-L")]])
    assert [r["sku"] for r in rows] == ["TEE-BLK-L"]
    with pytest.raises(Validation, match="condition_type"):
        adapter._search("/inventory/source-items", [[("sku", "between", "a")]])


def test_slow_answers_are_transient_for_reads(sandbox, store):
    adapter = _adapter(sandbox, timeout=(2.0, 0.5))
    _control(sandbox, "POST", "/shop/faults", {"faults": [{"kind": "slow", "seconds": 1.5}]})
    with pytest.raises(Transient):
        adapter.list_locations()


def test_no_webhooks_poll_instead(sandbox, store):
    with pytest.raises(InvalidSignature):
        _adapter(sandbox).verify_webhook({"X-Anything": "1"}, b"{}")
