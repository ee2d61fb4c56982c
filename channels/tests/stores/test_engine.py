"""The sync engine on real PostgreSQL/Redis: pushes, CAS misses, orders,
webhooks, unknown outcomes."""

import pytest

from channels.models import Listing, ListingMatch, StoreOrder, StoreOrderStatus, WebhookEvent
from channels.services.stores import (
    store_orders_poll,
    store_tenant_push,
    webhook_receive,
    webhooks_process,
)
from channels.stores.adapter import InvalidSignature
from inventory.models import StockLevel
from inventory.services import stock_adjust

pytestmark = pytest.mark.django_db


def _level(product):
    return StockLevel.objects.get(product=product)


def test_listings_matched_by_sku_and_review_queue(scope, connection):
    states = dict(Listing.objects.filter(connection=connection).values_list("sku", "match_state"))
    assert states == {"TEE-0": ListingMatch.AUTO, "TEE-1": ListingMatch.AUTO,
                      "NOT-OURS": ListingMatch.UNMATCHED}


def test_stock_change_reaches_the_store(scope, connection, store_state, products, warehouse):
    store_tenant_push(tenant=scope)
    assert store_state.available["item-0"] == 10
    assert store_state.available["item-1"] == 5
    assert store_state.available["item-x"] == 3  # unmatched: never touched
    stock_adjust(tenant=scope, product=products[0], warehouse=warehouse, quantity=-4,
                 reason="damaged", idempotency_key="adj-1")
    store_tenant_push(tenant=scope)
    assert store_state.available["item-0"] == 6
    writes = store_state.writes_applied
    store_tenant_push(tenant=scope)  # nothing changed: nothing written
    assert store_state.writes_applied == writes


def test_cas_miss_from_a_store_order_keeps_both_changes(scope, connection, store_state,
                                                        products, warehouse):
    store_tenant_push(tenant=scope)
    assert store_state.available["item-0"] == 10
    # The store sells 2 (available 10 -> 8) while we receive 5 more (ATS 15).
    store_state.place_order("1001", [("item-0", 2)])
    from inventory.services import stock_receive

    stock_receive(tenant=scope, product=products[0], warehouse=warehouse, quantity=5,
                  idempotency_key="rcv-more")
    counts = store_tenant_push(tenant=scope)[connection.pk]
    assert counts["stale"] == 1  # expected 10, found 8: refused, re-read
    # Neither change lost: 15 on hand, 2 reserved for the store order.
    assert _level(products[0]).reserved == 2
    assert store_state.available["item-0"] == 13
    order = StoreOrder.objects.get(platform_order_id="1001")
    assert order.status == StoreOrderStatus.OPEN


def test_timeout_after_applied_write_does_not_double_apply(scope, connection, store_state):
    store_state.cas = False  # deltas: a double apply would show
    from channels.tests.stores.double import DoubleAdapter  # noqa: F401 (capabilities per call)

    store_tenant_push(tenant=scope)
    assert store_state.available["item-0"] == 10
    store_state.timeout_after_apply = 1
    Listing.objects.filter(sku="TEE-0").update(last_pushed_ats=7, push_pending=True)
    # Our book says the store had 7: the delta +3 is applied, then times out.
    store_tenant_push(tenant=scope)
    listing = Listing.objects.get(sku="TEE-0")
    assert listing.outcome_unknown and listing.push_pending
    applied = store_state.writes_applied
    store_tenant_push(tenant=scope)  # re-read first: 13 != 10, absolute 10
    assert store_state.available["item-0"] == 10
    assert store_state.writes_applied == applied + 1
    assert not Listing.objects.get(sku="TEE-0").outcome_unknown


def test_idempotency_key_replays_the_first_result(scope, connection, store_state):
    store_tenant_push(tenant=scope)
    store_state.timeout_after_apply = 1
    Listing.objects.filter(sku="TEE-1").update(push_pending=True, cas_token=None)
    store_state.available["item-1"] = 4  # someone changed it; we re-read then write 5
    store_tenant_push(tenant=scope)
    assert store_state.available["item-1"] == 5
    assert Listing.objects.get(sku="TEE-1").outcome_unknown
    store_tenant_push(tenant=scope)
    assert store_state.available["item-1"] == 5
    assert not Listing.objects.get(sku="TEE-1").outcome_unknown


def test_store_order_reserves_releases_and_consumes(scope, connection, store_state, products):
    store_tenant_push(tenant=scope)
    store_state.place_order("2001", [("item-1", 3)])
    store_orders_poll(tenant=scope, connection_id=connection.pk)
    assert _level(products[1]).reserved == 3
    store_orders_poll(tenant=scope, connection_id=connection.pk)  # overlap: replay is harmless
    assert _level(products[1]).reserved == 3
    store_tenant_push(tenant=scope)
    assert store_state.available["item-1"] == 2
    store_state.cancel_order("2001")
    store_orders_poll(tenant=scope, connection_id=connection.pk)
    assert _level(products[1]).reserved == 0
    assert StoreOrder.objects.get(platform_order_id="2001").status == StoreOrderStatus.CANCELLED
    store_state.place_order("2002", [("item-0", 2)])
    store_orders_poll(tenant=scope, connection_id=connection.pk)
    store_state.ship_order("2002")
    store_orders_poll(tenant=scope, connection_id=connection.pk)
    level = _level(products[0])
    assert (level.on_hand, level.reserved) == (8, 0)
    assert StoreOrder.objects.get(platform_order_id="2002").status == StoreOrderStatus.FULFILLED


def test_duplicate_and_reordered_webhooks_processed_once_in_order(scope, connection,
                                                                  store_state, products):
    store_state.place_order("3001", [("item-1", 2)])
    first = store_state.webhook("ev-1", "3001")
    store_state.cancel_order("3001")
    second = store_state.webhook("ev-2", "3001")
    # Delivered out of order, the first one twice.
    assert webhook_receive(tenant=scope, connection_id=connection.pk, headers=second[0],
                           raw_body=second[1]) is not None
    assert webhook_receive(tenant=scope, connection_id=connection.pk, headers=first[0],
                           raw_body=first[1]) is not None
    assert webhook_receive(tenant=scope, connection_id=connection.pk, headers=first[0],
                           raw_body=first[1]) is None
    assert WebhookEvent.objects.filter(connection=connection).count() == 2
    webhooks_process(tenant=scope, connection_id=connection.pk)
    order = StoreOrder.objects.get(platform_order_id="3001")
    assert order.status == StoreOrderStatus.CANCELLED
    assert _level(products[1]).reserved == 0
    bad_headers = {**first[0], "X-Test-Hmac": "AAAA"}
    with pytest.raises(InvalidSignature):
        webhook_receive(tenant=scope, connection_id=connection.pk, headers=bad_headers,
                        raw_body=first[1])
