"""Listings: import a store's items by their platform ids, match them to
products by SKU then GTIN, and the review queue (confirm, reassign, ignore).

Matching rules (a listing is the platform's item ids, never the SKU alone):
- exactly one product with the listing's SKU -> AUTO;
- else exactly one product with its GTIN -> AUTO;
- several candidates, or a SKU pointing to one product and the GTIN to
  another -> CONFLICT (review);
- none -> UNMATCHED (review).
CONFIRMED and IGNORED listings are never re-matched by an import.
Only AUTO and CONFIRMED listings are pushed.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record
from channels.models import Listing, ListingMatch, StoreSyncKind
from channels.services.stores.connections import (
    connection_adapter,
    connection_error_record,
    connection_get,
)
from channels.services.stores.runs import store_run_fail, store_run_finish, store_run_start
from channels.stores.adapter import ChannelSku, StoreError
from inventory.selectors import product_ids_by_sku_and_gtin

PUSHABLE = (ListingMatch.AUTO, ListingMatch.CONFIRMED)
MAX_PAGES = 1000  # 250 items a page: far beyond Shopify's 25,000-object cap


def _candidates(*, tenant, skus: set[str], gtins: set[str]) -> tuple[dict, dict]:
    return product_ids_by_sku_and_gtin(tenant=tenant, skus=skus, gtins=gtins)


def listing_match_decide(*, sku: str, gtin: str, by_sku: dict, by_gtin: dict
                         ) -> tuple[int | None, str, str]:
    """(product id, match state, detail) for one listing."""
    sku_ids = by_sku.get(sku, []) if sku else []
    gtin_ids = by_gtin.get(gtin, []) if gtin else []
    if len(sku_ids) > 1 or len(gtin_ids) > 1:
        return None, ListingMatch.CONFLICT, "several products share the SKU or GTIN"
    if sku_ids and gtin_ids and sku_ids != gtin_ids:
        return None, ListingMatch.CONFLICT, "SKU and GTIN point to different products"
    if sku_ids:
        return sku_ids[0], ListingMatch.AUTO, "SKU"
    if gtin_ids:
        return gtin_ids[0], ListingMatch.AUTO, "GTIN"
    return None, ListingMatch.UNMATCHED, "no product with this SKU or GTIN"


@transaction.atomic
def listings_upsert(*, tenant, connection, items: list[ChannelSku]) -> dict[str, int]:
    """Store the items and auto-match what is not confirmed or ignored."""
    counts = {"seen": len(items), "created": 0, "matched": 0, "review": 0}
    if not items:
        return counts
    existing = {
        (row.item_id, row.variant_id): row
        for row in Listing.objects.select_for_update().filter(
            tenant=tenant, connection=connection,
            item_id__in=[item.ref.item_id for item in items],
        )
    }
    by_sku, by_gtin = _candidates(
        tenant=tenant, skus={item.sku for item in items}, gtins={item.gtin for item in items}
    )
    now = timezone.now()
    created, changed = [], []
    for item in items:
        key = (item.ref.item_id, item.ref.variant_id)
        listing = existing.get(key)
        if listing is None:
            listing = Listing(tenant=tenant, connection=connection, item_id=key[0],
                              variant_id=key[1])
            created.append(listing)
        else:
            changed.append(listing)
        listing.sku = (item.sku or "")[:200]
        listing.gtin = (item.gtin or "")[:20]
        listing.title = (item.title or "")[:300]
        listing.last_seen_at = now
        if listing.match_state not in (ListingMatch.CONFIRMED, ListingMatch.IGNORED):
            product_id, state, detail = listing_match_decide(
                sku=listing.sku, gtin=listing.gtin, by_sku=by_sku, by_gtin=by_gtin)
            if product_id != listing.product_id:
                listing.push_pending = product_id is not None
            listing.product_id, listing.match_state, listing.match_detail = (
                product_id, state, detail)
        if listing.match_state in PUSHABLE:
            counts["matched"] += 1
        elif listing.match_state != ListingMatch.IGNORED:
            counts["review"] += 1
    Listing.objects.bulk_create(created)
    Listing.objects.bulk_update(changed, [
        "sku", "gtin", "title", "last_seen_at", "product", "match_state", "match_detail",
        "push_pending", "updated_at",
    ])
    counts["created"] = len(created)
    return counts


def listings_import(*, tenant, connection_id: int, actor=None) -> dict[str, int]:
    """Read every item of the store (all pages) and match them."""
    connection = connection_get(tenant=tenant, connection_id=connection_id)
    run = store_run_start(tenant=tenant, connection=connection, kind=StoreSyncKind.LISTINGS)
    totals = {"seen": 0, "created": 0, "matched": 0, "review": 0, "pages": 0}
    try:
        adapter = connection_adapter(connection=connection)
        cursor = None
        for _page in range(MAX_PAGES):
            page = adapter.list_skus(cursor=cursor)
            counts = listings_upsert(tenant=tenant, connection=connection, items=page.items)
            totals["pages"] += 1
            for key in ("seen", "created", "matched", "review"):
                totals[key] += counts[key]
            cursor = page.next_cursor
            if not cursor:
                break
    except (StoreError, ApplicationError, LookupError) as error:
        store_run_fail(run=run, error=error, counts=totals)
        connection_error_record(connection=connection, error=error)
        raise ApplicationError(
            _("Reading the store's items failed: %s") % (getattr(error, "message", "") or error)
        ) from error
    store_run_finish(run=run, counts=totals)
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=connection,
                     summary=f"Listings imported: {totals}")
    return totals


@transaction.atomic
def listing_review(*, tenant, listing_id: int, action: str, product_id: int | None = None,
                   actor=None) -> Listing:
    """``confirm`` the proposed product, ``reassign`` to another, ``ignore``."""
    from inventory.selectors import product_get

    listing = Listing.objects.select_for_update().filter(tenant=tenant, pk=listing_id).first()
    if listing is None:
        raise NotFoundError(_("No such listing."))
    before = {"product": listing.product_id, "match_state": listing.match_state}
    if action == "confirm":
        if listing.product_id is None:
            raise ApplicationError(_("Nothing to confirm: choose a product."))
        listing.match_state = ListingMatch.CONFIRMED
    elif action == "reassign":
        product = product_get(tenant=tenant, product_id=product_id) if product_id else None
        if product is None:
            raise ApplicationError(_("Choose a product."))
        listing.product_id = product.pk
        listing.match_state = ListingMatch.CONFIRMED
    elif action == "ignore":
        listing.product_id = None
        listing.match_state = ListingMatch.IGNORED
    else:
        raise ApplicationError(_("Unknown review action."))
    listing.match_detail = f"reviewed: {action}"
    listing.push_pending = listing.product_id is not None
    listing.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=listing, before=before,
                 after={"product": listing.product_id, "match_state": listing.match_state},
                 summary=f"Listing {action}")
    return listing


def connection_bootstrap(*, tenant, connection_id: int) -> dict:
    """First contact with a new store, without an admin at hand (the demo,
    a connection created through the API): test it (reads its locations);
    when the tenant has exactly one warehouse and no primary location is
    chosen yet, map the store's first location (in the store's own order)
    to it as the primary; then import and match the listings. An admin
    changes the mapping on the locations page; a tenant with several
    warehouses waits for that mapping.
    """
    from channels.models import StoreLocationMapping
    from channels.services.stores.connections import connection_test, location_mapping_set
    from inventory.selectors import warehouse_list

    connection = connection_test(tenant=tenant, connection_id=connection_id)
    result = {"tested": bool(connection.last_connection_test_ok), "mapped": False,
              "listings": None}
    if not connection.last_connection_test_ok:
        return result
    locations = list(StoreLocationMapping.objects.filter(tenant=tenant, connection=connection)
                     .order_by("id"))  # the order the store listed them in
    warehouses = list(warehouse_list(tenant=tenant)[:2])
    if locations and len(warehouses) == 1 and not any(row.is_primary for row in locations):
        location_mapping_set(tenant=tenant, connection_id=connection.pk, mappings={
            locations[0].pk: {"warehouse_id": warehouses[0].pk, "is_primary": True}})
        result["mapped"] = True
    result["listings"] = listings_import(tenant=tenant, connection_id=connection.pk)
    return result


def store_bootstrap_due(*, tenant) -> list[int]:
    """Active connections never tested: their first contact is due."""
    from channels.models import StoreConnection, StoreConnectionStatus

    return list(StoreConnection.objects.filter(
        tenant=tenant, status=StoreConnectionStatus.ACTIVE, last_connection_test_at__isnull=True,
    ).values_list("id", flat=True))
