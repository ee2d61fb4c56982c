"""The bulk PO sync path: one pass on a first sync, raw-hash skip, one parser."""

import copy
import datetime
import threading
from decimal import Decimal

import pytest
from django.utils import timezone

from channels.models import AmazonVendorAccount, PurchaseOrder, PurchaseOrderLine, SyncStatus
from channels.services import purchase_order_parse
from channels.services.purchase_order_changes import (
    MONEY_QUANTUM,
    MappingIndex,
    purchase_order_changes_decide,
)
from channels.services.purchase_orders import purchase_orders_sync
from channels.tests.services.test_purchase_orders_sync import _map_catalog, _row_writes
from vendor_api import paging
from vendor_api.operations.orders import PurchaseOrder as ApiPurchaseOrder
from vendor_api.sandbox.vendor import order_json


@pytest.fixture
def chains_read(monkeypatch):
    """The (by, start, end) ranges each sync reads."""
    read = []
    original = paging.chain_pages

    def recording(client, *, by, start, end):
        read.append(by)
        return original(client, by=by, start=start, end=end)

    monkeypatch.setattr(paging, "chain_pages", recording)
    return read


@pytest.fixture
def parsed(monkeypatch):
    """Numbers of the orders parsed (vendor_api's typed parse)."""
    numbers = []
    original = purchase_order_parse.order_parse

    def recording(raw):
        numbers.append(raw["purchaseOrderNumber"])
        return original(raw)

    monkeypatch.setattr(purchase_order_parse, "order_parse", recording)
    return numbers


@pytest.mark.parametrize("prefetch", [True, False])
def test_first_sync_reads_the_created_range_only(scope, sandbox, sandbox_account, fast_retries,
                                                 chains_read, prefetch):
    """No high-water mark yet: everything is new, the changed range is not read."""
    # Given POs at Amazon and no sync so far
    sandbox.state.generate(vendor_code="DEMO1", count=12, days=2)
    _map_catalog(scope, sandbox_account, sandbox)
    # When the account syncs for the first time
    run = purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False,
                               prefetch=prefetch, **fast_retries)
    # Then only created ranges were read and every PO is stored once
    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    assert set(chains_read) == {"created"}
    assert run.counts["created"] == 12
    assert run.counts["orders_unique"] == 12
    # When it syncs again (high-water mark set)
    chains_read.clear()
    later = timezone.now() + datetime.timedelta(seconds=2)
    purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False, now=later,
                         prefetch=prefetch, **fast_retries)
    # Then both ranges are read
    assert set(chains_read) == {"created", "changed"}


def test_unchanged_pos_are_not_parsed_and_a_changed_one_is_found_by_its_hash(
    scope, sandbox, sandbox_account, fast_retries, parsed
):
    """A re-read of unchanged POs parses and writes nothing; one change is one parse."""
    # Given 25 synced POs
    sandbox.state.generate(vendor_code="DEMO1", count=25, days=3)
    _map_catalog(scope, sandbox_account, sandbox)
    purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False, **fast_retries)
    assert len(parsed) == 25
    # When a later sync re-reads the whole range (created and changed) unchanged
    parsed.clear()
    AmazonVendorAccount.objects.filter(pk=sandbox_account.pk).update(
        po_changed_high_water=timezone.now() - datetime.timedelta(days=5))
    writes = _row_writes()
    run = purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False,
                               **fast_retries)
    # Then no order was parsed and no row written; each PO was processed once
    assert parsed == []
    assert run.counts["unchanged"] == 25
    assert run.counts["orders_seen"] > 25  # listed by both ranges, processed once
    assert run.counts["orders_unique"] == 25
    assert _row_writes() == writes
    # When Amazon changes one PO and the range is re-read
    number = next(n for n, po in sandbox.state.orders.items()
                  if all(line.cancelled == 0 for line in po.lines))
    sandbox.control("POST", f"/_sandbox/purchase-orders/{number}/change", {"lines": {"1": 5}})
    AmazonVendorAccount.objects.filter(pk=sandbox_account.pk).update(
        po_changed_high_water=timezone.now() - datetime.timedelta(days=5))
    run = purchase_orders_sync(tenant=scope, account=sandbox_account,
                               now=timezone.now() + datetime.timedelta(seconds=2), plan=False,
                               **fast_retries)
    # Then exactly that PO was parsed and written
    assert parsed == [number]
    assert run.counts["changed"] == 1
    assert run.counts["unchanged"] == 24
    assert PurchaseOrderLine.objects.get(purchase_order__number=number,
                                         item_sequence_number="1").ordered_quantity == 5
    po = PurchaseOrder.objects.get(number=number)
    assert po.content_hash == purchase_order_parse.content_hash(
        order_json(sandbox.state.orders[number]))


def _typed(raw: dict, mappings: MappingIndex) -> dict:
    """What the typed vendor_api parse gives for the stored fields."""
    order = ApiPurchaseOrder.parse(raw)
    currency, total = "", Decimal("0")
    lines = []
    for item in order.items:
        quantity = item.ordered_quantity
        if item.net_cost is not None:
            currency = currency or item.net_cost.currency_code
            total += item.net_cost.amount * (quantity.amount if quantity else 0)
        asin = (item.amazon_product_identifier or "")[:10]
        vendor_product_id = (item.vendor_product_identifier or "")[:64]
        mapped = mappings.resolve(asin=asin, vendor_product_id=vendor_product_id)
        unit = str(quantity.unit_of_measure) if quantity and quantity.unit_of_measure else ""
        lines.append({
            "seq": item.item_sequence_number[:10], "asin": asin,
            "vendor_product_id": vendor_product_id,
            "ordered": quantity.amount if quantity else 0,
            "order_unit": "Cases" if unit == "Cases" else "Eaches",
            "unit_size": (quantity.unit_size or 1) if quantity else 1,
            "backorder": item.is_back_order_allowed,
            "net_cost": str(item.net_cost.amount) if item.net_cost else None,
            "list_price": str(item.list_price.amount) if item.list_price else None,
            "currency": (item.net_cost.currency_code if item.net_cost else "")[:3],
            "product": mapped[0] if mapped else None, "units": mapped[1] if mapped else 1,
        })
    return {
        "state": str(order.state or "New"), "order_type": str(order.order_type or "")[:40],
        "ordered_at": order.purchase_order_date, "changed_at": order.changed_date,
        "ship_window": (order.ship_window.start, order.ship_window.end)
        if order.ship_window else (None, None),
        "selling_party_id": order.selling_party.party_id if order.selling_party else "",
        "ship_to_party_id": order.ship_to_party.party_id if order.ship_to_party else "",
        "payment_method": str(order.payment_method or "")[:20],
        "deal_code": order.deal_code or "", "currency": currency,
        "total_cost": str(total.quantize(MONEY_QUANTUM)), "lines": lines,
    }


def _decided(raw: dict, mappings: MappingIndex) -> dict:
    """What the sync decides to store for ``raw`` as a new PO."""
    changes = purchase_order_changes_decide(
        orders=[(purchase_order_parse.order_parse(raw), "x")], stored={}, previous_lines={},
        mappings=mappings, now=timezone.now(),
    )
    po = changes.purchase_orders[0]
    lines = [
        {**{key: value for key, value in line.items() if key not in ("number", "cancelled")},
         "net_cost": None if line["net_cost"] is None else str(line["net_cost"]),
         "list_price": None if line["list_price"] is None else str(line["list_price"])}
        for line in changes.lines
    ]
    return {
        "state": po["state"], "order_type": po["order_type"],
        "ordered_at": po["ordered_at"], "changed_at": po["amazon_changed_at"],
        "ship_window": (po["ship_window_start"], po["ship_window_end"]),
        "selling_party_id": po["selling_party_id"], "ship_to_party_id": po["ship_to_party_id"],
        "payment_method": po["payment_method"], "deal_code": po["deal_code"],
        "currency": po["currency"], "total_cost": str(po["total_cost"]), "lines": lines,
    }


def test_stored_values_are_those_of_the_typed_parse(sandbox):
    """What the sync stores is what vendor_api's typed parse gives."""
    # Given sandbox orders, some mapped, plus Amazon's odd spellings and gaps
    sandbox.state.generate(vendor_code="DEMO1", count=30, days=3)
    catalog = sandbox.state.vendors["DEMO1"].catalog
    mappings = MappingIndex(by_asin={item.asin: (n + 1, 1) for n, item in enumerate(catalog[::2])},
                            by_vendor_product={catalog[1].vendor_sku: (99, 6)})
    raws = [order_json(po) for po in sandbox.state.orders.values()]
    odd = copy.deepcopy(raws[0])
    odd["purchaseOrderState"] = "acknowledged"
    details = odd["orderDetails"]
    details["purchaseOrderType"] = "rushorder"
    details["purchaseOrderChangedDate"] = "2026-11-29T10:00:00"
    details["shipWindow"] = "nonsense"
    details.pop("sellingParty", None)
    details["items"][0]["orderedQuantity"] = {"amount": 3, "unitOfMeasure": "CASES",
                                              "unitSize": 6}
    details["items"][0].pop("netCost", None)
    if len(details["items"]) > 1:
        details["items"][1].pop("orderedQuantity", None)
    bare = {"purchaseOrderNumber": "BARE1", "purchaseOrderState": "New",
            "orderDetails": {"purchaseOrderDate": "2026-11-20T00:00:00Z"}}
    # When both read them, Then the stored values agree
    for raw in [*raws, odd, bare]:
        assert _decided(raw, mappings) == _typed(raw, mappings), raw["purchaseOrderNumber"]


@pytest.mark.django_db(transaction=True)
def test_pages_are_written_by_two_connections_outside_a_transaction(
    live, live_account, sandbox, fast_retries, monkeypatch
):
    """No outer transaction (a worker, the benchmark): two writer threads,
    each on its own connection; every page, PO and API call is recorded."""
    from channels.models import ApiCallLog
    from channels.services import purchase_orders

    # Given 250 POs over 3 days (several pages and ranges)
    sandbox.state.generate(vendor_code="DEMO1", count=250, days=3)
    _map_catalog(live, live_account, sandbox)
    writers = set()
    original = purchase_orders.purchase_order_page_write

    def recording(**kwargs):
        writers.add(threading.current_thread().name)
        return original(**kwargs)

    monkeypatch.setattr(purchase_orders, "purchase_order_page_write", recording)
    # When the account syncs
    run = purchase_orders_sync(tenant=live, account=live_account, plan=False, **fast_retries)
    # Then the writer threads (each with its own connection) wrote the
    # pages, and nothing is missing
    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    assert writers and writers <= {"po-sync-write-0", "po-sync-write-1"}
    assert run.counts["created"] == 250
    assert PurchaseOrder.objects.filter(tenant=live).count() == 250
    assert PurchaseOrderLine.objects.filter(tenant=live).count() == sum(
        len(po.lines) for po in sandbox.state.orders.values())
    calls = sandbox.stats()["calls:getPurchaseOrders"]
    assert run.counts["pages"] == calls
    assert ApiCallLog.objects.filter(
        tenant=live, operation="getPurchaseOrders").count() == calls


@pytest.mark.django_db(transaction=True)
def test_a_failing_page_write_stops_the_writers_and_keeps_the_call_log(
    live, live_account, sandbox, fast_retries, monkeypatch
):
    from channels.models import ApiCallLog
    from channels.services import purchase_orders

    # Given several pages, the second of which fails to write
    sandbox.state.generate(vendor_code="DEMO1", count=250, days=3)
    _map_catalog(live, live_account, sandbox)
    original = purchase_orders.purchase_order_page_write
    written = []

    def failing(**kwargs):
        written.append(1)
        if len(written) == 2:
            raise RuntimeError("disk full")
        return original(**kwargs)

    monkeypatch.setattr(purchase_orders, "purchase_order_page_write", failing)
    # When the account syncs, the error reaches the caller
    with pytest.raises(RuntimeError, match="disk full"):
        purchase_orders_sync(tenant=live, account=live_account, plan=False, **fast_retries)
    # And every call made is in the log
    calls = sandbox.stats()["calls:getPurchaseOrders"]
    assert ApiCallLog.objects.filter(
        tenant=live, operation="getPurchaseOrders").count() == calls
