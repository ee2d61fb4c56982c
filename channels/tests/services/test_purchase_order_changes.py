"""The PO sync's decision on plain values: no database, no HTTP."""

import datetime
from decimal import Decimal

from channels.services.purchase_order_changes import (
    MappingIndex,
    StoredPurchaseOrder,
    purchase_order_changes_decide,
)
from vendor_api.operations.orders import PurchaseOrder

NOW = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
ORDERED = datetime.datetime(2026, 11, 28, 8, 0, tzinfo=datetime.UTC)
MAPPINGS = MappingIndex(by_asin={"B000000001": (11, 1)},
                        by_vendor_product={"SKU-2": (12, 6)})


def _order(*, number="PO1", state="New", changed=None, items=None):
    details = {"purchaseOrderDate": "2026-11-28T08:00:00Z", "sellingParty": {"partyId": "V1"},
               "shipToParty": {"partyId": "ABE2", "address": {"city": "X"}},
               "items": items if items is not None else [
                   {"itemSequenceNumber": "1", "amazonProductIdentifier": "B000000001",
                    "orderedQuantity": {"amount": 4, "unitOfMeasure": "Eaches"},
                    "netCost": {"currencyCode": "USD", "amount": "2.50"}},
                   {"itemSequenceNumber": "2", "vendorProductIdentifier": "SKU-2",
                    "orderedQuantity": {"amount": 2, "unitOfMeasure": "Cases", "unitSize": 6},
                    "netCost": {"currencyCode": "USD", "amount": "10"}},
               ]}
    if changed:
        details["purchaseOrderChangedDate"] = changed
    return PurchaseOrder.parse({"purchaseOrderNumber": number, "purchaseOrderState": state,
                                "orderDetails": details})


def _stored(**values):
    return StoredPurchaseOrder(**{"id": 7, "content_hash": "old", "state": "New",
                                  "ack_status": "pending", "amazon_changed_at": None, **values})


def _kinds(changes):
    return [(event["kind"], event["key"]) for event in changes.events]


def test_a_new_mapped_po_is_created_pending_and_planned():
    changes = purchase_order_changes_decide(orders=[(_order(), "h1")], stored={},
                                            previous_lines={}, mappings=MAPPINGS, now=NOW)
    (po,) = changes.purchase_orders
    assert (po["number"], po["ack_status"], po["content_hash"]) == ("PO1", "pending", "h1")
    assert po["total_cost"] == Decimal("30.00") and po["currency"] == "USD"
    assert po["ordered_at"] == ORDERED and po["ship_to"] == {"partyId": "ABE2",
                                                            "address": {"city": "X"}}
    assert [(line["seq"], line["product"], line["units"], line["order_unit"], line["unit_size"])
            for line in changes.lines] == [("1", 11, 1, "Eaches", 1), ("2", 12, 6, "Cases", 6)]
    assert _kinds(changes) == [("created", "created")]
    assert changes.to_plan == ["PO1"] and changes.cleared == [] and changes.exceptions == []
    assert changes.counts == {"created": 1, "lines_written": 2}


def test_an_unmapped_line_blocks_its_po_with_one_exception():
    items = [{"itemSequenceNumber": "1", "amazonProductIdentifier": "B0UNKNOWN1",
              "orderedQuantity": {"amount": 3}}]
    changes = purchase_order_changes_decide(orders=[(_order(items=items), "h")], stored={},
                                            previous_lines={}, mappings=MAPPINGS, now=NOW)
    assert changes.purchase_orders[0]["ack_status"] == "blocked"
    assert changes.purchase_orders[0]["has_unmapped_lines"] is True
    assert [exception["seq"] for exception in changes.exceptions] == ["1"]
    assert "B0UNKNOWN1" in changes.exceptions[0]["message"]
    assert _kinds(changes) == [("line_unmapped", "unmapped:1"), ("created", "created")]
    assert changes.to_plan == [] and changes.counts["unmapped_lines"] == 1


def test_a_change_before_sending_records_the_cancellation_once_and_replans():
    items = [{"itemSequenceNumber": "1", "amazonProductIdentifier": "B000000001",
              "orderedQuantity": {"amount": 0}}]
    order = _order(items=items, changed="2026-11-30T10:00:00Z")
    changes = purchase_order_changes_decide(
        orders=[(order, "h2")], stored={"PO1": _stored()},
        previous_lines={(7, "1"): (4, 0)}, mappings=MAPPINGS, now=NOW,
    )
    assert changes.lines[0]["cancelled"] == 4
    assert _kinds(changes) == [("cancelled", "cancelled:1"),
                               ("changed", "changed:2026-11-30T10:00:00Z")]
    assert changes.events[1]["detail"] == {"acknowledged": False}
    # Every line cancelled: nothing to acknowledge, and nothing to plan.
    assert changes.purchase_orders[0]["ack_status"] == "not_needed"
    assert changes.to_plan == [] and changes.cleared == ["PO1"]
    # When the same cancellation is seen again (already 0 before)
    again = purchase_order_changes_decide(
        orders=[(order, "h3")], stored={"PO1": _stored()},
        previous_lines={(7, "1"): (0, 4)}, mappings=MAPPINGS, now=NOW,
    )
    # Then it keeps the cancelled quantity and records no second cancellation
    assert again.lines[0]["cancelled"] == 4
    assert ("cancelled", "cancelled:1") not in _kinds(again)


def test_a_change_after_sending_hands_the_po_to_planning_for_its_holds():
    changes = purchase_order_changes_decide(
        orders=[(_order(state="Closed", changed="2026-11-30T10:00:00Z"), "h2")],
        stored={"PO1": _stored(ack_status="accepted")},
        previous_lines={(7, "1"): (4, 0), (7, "2"): (2, 0)}, mappings=MAPPINGS, now=NOW,
    )
    assert changes.to_plan == ["PO1"]
    assert changes.events[0]["detail"] == {"acknowledged": True}
    assert ("state_changed", f"state:Closed:{NOW:%Y-%m-%dT%H:%M:%SZ}") in _kinds(changes)
    assert changes.counts == {"changed": 1, "lines_written": 2}


def test_an_unchanged_amazon_clock_is_no_change_event():
    changed = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)
    changes = purchase_order_changes_decide(
        orders=[(_order(changed="2026-11-30T10:00:00Z"), "h2")],
        stored={"PO1": _stored(ack_status="accepted", amazon_changed_at=changed)},
        previous_lines={}, mappings=MAPPINGS, now=NOW,
    )
    assert _kinds(changes) == [] and changes.to_plan == []
