"""Store orders in: polled by watermark and received by webhook, applied in
order of the platform's ``updated_at``, held as inventory reservations.

Every version of an order is applied by ``store_order_apply``, which is
idempotent and ordered:
- a version older than the one stored is skipped (reordered webhooks, an
  overlapping poll);
- per line, the open quantity (``quantity - cancelled - shipped``) is what
  inventory must hold: more -> ``stock_reserve`` for the difference;
  cancelled units -> ``stock_reservation_release``; shipped units ->
  ``stock_hold_consume`` (the ledger's shipment movement). Idempotency keys
  carry the line's cumulative total, so replaying a version changes nothing;
- demand history: the ordered quantity once per line, corrected by a
  negative entry for cancelled units (``demand_record``);
- a line we cannot map, or stock we cannot reserve (the store sold what we
  no longer had), makes the order NEEDS_ATTENTION with the reason; the
  rest of the order is still held.
Inventory marks the products' ATP changed itself; the push follows via the
outbox (``store_push_on_commit`` makes it immediate).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from acorn.exceptions import ApplicationError, ConflictError
from channels.models import (
    Listing,
    StoreConnection,
    StoreOrder,
    StoreOrderLine,
    StoreOrderStatus,
    StoreSyncKind,
    WebhookEvent,
    WebhookEventStatus,
)
from channels.services.stores.connections import (
    connection_adapter,
    connection_error_record,
    connection_get,
    connection_ok_record,
)
from channels.services.stores.push import store_push_on_commit
from channels.services.stores.runs import store_run_fail, store_run_finish, store_run_start
from channels.stores.adapter import ChannelOrder, StoreError, Watermark, WebhookEnvelope

logger = logging.getLogger(__name__)

SOURCE_TYPE = "store_order"
# Orders are re-read from this far before the high-water mark, so a write
# the platform indexes late is never skipped (store-channels.md §4).
POLL_OVERLAP = timedelta(minutes=2)
MAX_POLL_PAGES = 200
DUE_SLACK = timedelta(seconds=10)
ORDER_TOPIC_WORDS = ("order",)


def _listing_for(*, tenant, connection, line, listings_by_ref, listings_by_sku):
    if line.ref is not None:
        found = listings_by_ref.get((line.ref.item_id, line.ref.variant_id))
        if found is None and line.ref.variant_id:
            found = next((listing for (item, variant), listing in listings_by_ref.items()
                          if variant == line.ref.variant_id), None)
        if found is not None:
            return found
    candidates = listings_by_sku.get(line.sku, []) if line.sku else []
    return candidates[0] if len(candidates) == 1 else None


@transaction.atomic
def store_order_apply(*, tenant, connection: StoreConnection, order: ChannelOrder) -> StoreOrder:
    """Apply one version of a store order (see the module doc)."""
    from inventory.services import (
        InsufficientStockError,
        demand_record,
        stock_hold_consume,
        stock_reservation_release,
        stock_reserve,
    )

    record = StoreOrder.objects.select_for_update().filter(
        tenant=tenant, connection=connection, platform_order_id=order.order_id).first()
    if record is None:
        try:
            with transaction.atomic():
                record = StoreOrder.objects.create(
                    tenant=tenant, connection=connection, platform_order_id=order.order_id,
                    name=order.name[:100], placed_at=order.created_at,
                    platform_updated_at=order.updated_at, raw_status=order.raw_status[:100],
                    is_test=order.is_test,
                )
        except IntegrityError:  # a concurrent first apply: lock theirs
            record = StoreOrder.objects.select_for_update().get(
                tenant=tenant, connection=connection, platform_order_id=order.order_id)
    elif order.updated_at < record.platform_updated_at:
        return record  # an older version: what we have is newer
    record.platform_updated_at = order.updated_at
    record.raw_status = order.raw_status[:100]
    record.name = order.name[:100] or record.name

    refs = [line.ref for line in order.lines if line.ref is not None]
    listings = list(Listing.objects.filter(
        tenant=tenant, connection=connection,
        item_id__in=[ref.item_id for ref in refs] or [""],
    )) + list(Listing.objects.filter(
        tenant=tenant, connection=connection, sku__in=[line.sku for line in order.lines if line.sku]
    ))
    by_ref = {(listing.item_id, listing.variant_id): listing for listing in listings}
    by_sku: dict[str, list[Listing]] = {}
    for listing in {listing.pk: listing for listing in listings}.values():
        if listing.sku:
            by_sku.setdefault(listing.sku, []).append(listing)
    existing = {line.line_id: line for line in StoreOrderLine.objects.select_for_update().filter(
        tenant=tenant, order=record)}
    problems: list[str] = []
    source_ref = record.source_ref
    channel = connection.sync_channel
    occurred_on = order.created_at.date()
    for line in order.lines:
        row = existing.get(line.line_id)
        if row is None:
            row = StoreOrderLine(tenant=tenant, order=record, line_id=line.line_id)
        row.sku = (line.sku or "")[:200]
        row.quantity = line.quantity
        row.quantity_cancelled = min(line.quantity_cancelled, line.quantity)
        row.quantity_shipped = min(line.quantity_shipped, line.quantity - row.quantity_cancelled)
        if row.product_id is None:
            listing = _listing_for(tenant=tenant, connection=connection, line=line,
                                   listings_by_ref=by_ref, listings_by_sku=by_sku)
            if listing is not None and listing.product_id:
                row.listing, row.product_id = listing, listing.product_id
        row.save()
        if row.product_id is None:
            if not order.cancelled:
                problems.append(f"line {line.line_id} ({line.sku or '?'}) matches no product")
            continue
        product = {"product_id": row.product_id, "line_ref": row.line_id}
        line_key = f"{source_ref}:{row.line_id}"
        if row.reserved_quantity == 0 and row.consumed_quantity == 0 and row.released_quantity == 0:
            demand_record(tenant=tenant, product=row.product_id, channel=channel,
                          quantity=row.quantity, occurred_on=occurred_on,
                          idempotency_key=f"{line_key}:demand",
                          source_type=SOURCE_TYPE, source_ref=source_ref)
        open_wanted = 0 if order.cancelled else (
            row.quantity - row.quantity_cancelled - row.quantity_shipped)
        # 1. Shipped units: consume what is held for them.
        ship_more = row.quantity_shipped - row.consumed_quantity
        held_now = row.reserved_quantity - row.released_quantity - row.consumed_quantity
        if ship_more > 0 and held_now > 0:
            take = min(ship_more, held_now)
            try:
                stock_hold_consume(
                    tenant=tenant, source_type=SOURCE_TYPE, source_ref=source_ref,
                    lines=[{**product, "quantity": take}],
                    idempotency_key=f"{line_key}:consumed:{row.consumed_quantity + take}",
                )
                row.consumed_quantity += take
                held_now -= take
            except ConflictError as error:
                problems.append(f"line {row.line_id}: shipping failed: {error}")
        # 2. Fewer open units than held: release the rest (cancel, refund).
        if held_now > open_wanted:
            give_back = held_now - open_wanted
            stock_reservation_release(
                tenant=tenant, source_ref=source_ref, lines=[{**product, "quantity": give_back}],
                idempotency_key=f"{line_key}:released:{row.released_quantity + give_back}",
                reason="store order cancelled" if order.cancelled else "store order changed",
            )
            row.released_quantity += give_back
            held_now = open_wanted
        # 3. More open units than held: reserve the difference.
        elif held_now < open_wanted:
            more = open_wanted - held_now
            try:
                stock_reserve(
                    tenant=tenant, lines=[{**product, "quantity": more}], source_ref=source_ref,
                    idempotency_key=f"{line_key}:reserved:{row.reserved_quantity + more}",
                    channel=channel, source_type=SOURCE_TYPE,
                )
                row.reserved_quantity += more
            except InsufficientStockError:
                problems.append(
                    f"line {row.line_id} ({row.sku}): not enough free stock to reserve {more}")
        cancelled_units = row.quantity if order.cancelled else row.quantity_cancelled
        if cancelled_units:
            demand_record(tenant=tenant, product=row.product_id, channel=channel,
                          quantity=-cancelled_units, occurred_on=occurred_on,
                          idempotency_key=f"{line_key}:demand-cancelled:{cancelled_units}",
                          source_type=SOURCE_TYPE, source_ref=source_ref)
        row.save()
    lines = list(StoreOrderLine.objects.filter(tenant=tenant, order=record))
    if order.cancelled:
        record.status = StoreOrderStatus.CANCELLED
    elif problems:
        record.status = StoreOrderStatus.NEEDS_ATTENTION
    elif lines and all(line.quantity_shipped + line.quantity_cancelled >= line.quantity
                       for line in lines):
        record.status = StoreOrderStatus.FULFILLED
    elif any(line.quantity_shipped for line in lines):
        record.status = StoreOrderStatus.PARTIALLY_FULFILLED
    else:
        record.status = StoreOrderStatus.OPEN
    record.status_detail = "; ".join(problems)[:500]
    record.save()
    store_push_on_commit(tenant_id=tenant.pk)
    return record


def store_orders_poll(*, tenant, connection_id: int) -> dict[str, int]:
    """Orders changed since the high-water mark (minus overlap), every page."""
    connection = connection_get(tenant=tenant, connection_id=connection_id)
    run = store_run_start(tenant=tenant, connection=connection, kind=StoreSyncKind.ORDERS)
    counts = {"pages": 0, "orders": 0}
    since = (connection.orders_high_water - POLL_OVERLAP
             if connection.orders_high_water else None)
    high_water = connection.orders_high_water
    try:
        adapter = connection_adapter(connection=connection)
        watermark, token = Watermark(updated_at=since), None
        for _page in range(MAX_POLL_PAGES):
            page = adapter.list_orders_since(watermark, page_token=token)
            counts["pages"] += 1
            for order in sorted(page.orders, key=lambda o: (o.updated_at, o.order_id)):
                store_order_apply(tenant=tenant, connection=connection, order=order)
                counts["orders"] += 1
                if high_water is None or order.updated_at > high_water:
                    high_water = order.updated_at
            token = page.next_page_token
            if not token:
                break
    except (StoreError, ApplicationError, LookupError) as error:
        store_run_fail(run=run, error=error, counts=counts)
        connection_error_record(connection=connection, error=error)
        raise
    store_run_finish(run=run, counts=counts)
    connection_ok_record(connection=connection, orders_high_water=high_water,
                         last_order_poll_at=timezone.now())
    return counts


def store_orders_poll_due(*, tenant, now=None) -> list[int]:
    now = now or timezone.now()
    due = []
    for connection in StoreConnection.objects.filter(
        tenant=tenant, status="active", last_connection_test_at__isnull=False
    ):
        # Less the dispatcher's own jitter: a poll 60.1 s after the last one
        # at a 1-minute interval is due, not skipped to the next minute.
        interval = timedelta(minutes=connection.order_poll_interval_minutes) - DUE_SLACK
        if connection.last_order_poll_at is None or connection.last_order_poll_at + interval <= now:
            due.append(connection.pk)
    return due


# --- Webhooks -------------------------------------------------------------------


def _jsonable(payload) -> dict:
    try:
        return json.loads(json.dumps(payload, default=str))
    except (TypeError, ValueError):
        return {}


def webhook_receive(*, tenant, connection_id: int, headers, raw_body: bytes) -> WebhookEvent | None:
    """Verify (through the adapter) and store a delivery once.

    Raises ``InvalidSignature`` for a bad signature. Returns the new event,
    or None for a duplicate (already stored: answered 200, not processed
    again).
    """
    connection = connection_get(tenant=tenant, connection_id=connection_id)
    envelope: WebhookEnvelope = connection_adapter(connection=connection).verify_webhook(
        headers, raw_body)
    now = timezone.now()
    payload = _jsonable({"payload": envelope.payload, "order_ids": envelope.order_ids,
                         "refs": [[ref.item_id, ref.variant_id] for ref in envelope.refs]})
    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            tenant=tenant, connection=connection, dedupe_key=envelope.dedupe_key[:200],
            defaults={"topic": envelope.topic[:100], "triggered_at": envelope.triggered_at,
                      "received_at": now, "payload": payload},
        )
    return event if created else None


def store_webhook_pending_connections(*, tenant) -> list[int]:
    """Connections with received, unprocessed webhook events (the backstop)."""
    return sorted(set(WebhookEvent.objects.filter(
        tenant=tenant, status=WebhookEventStatus.RECEIVED).values_list("connection_id", flat=True)))


def webhooks_process(*, tenant, connection_id: int) -> dict[str, int]:
    """Process the connection's received events in order (triggered_at, id).

    Order events re-read the order through the API (payloads may be stale
    replays) and apply it; ``store_order_apply`` skips older versions, so
    a reordered pair ends at the newest. Inventory-level events flag the
    listings for a re-read + push (we are the master of stock).
    """
    connection = connection_get(tenant=tenant, connection_id=connection_id)
    counts = {"processed": 0, "failed": 0}
    lock_key = f"stores:webhooks:{connection.pk}"
    from django.core.cache import cache

    if not cache.add(lock_key, 1, timeout=120):
        return counts
    try:
        adapter = None
        events = list(WebhookEvent.objects.filter(
            tenant=tenant, connection=connection, status=WebhookEventStatus.RECEIVED,
        ).order_by("triggered_at", "received_at", "id")[:500])
        for event in events:
            try:
                adapter = adapter or connection_adapter(connection=connection)
                order_ids = event.payload.get("order_ids") or []
                refs = event.payload.get("refs") or []
                if order_ids:
                    for order_id in order_ids:
                        store_order_apply(tenant=tenant, connection=connection,
                                          order=adapter.get_order(order_id))
                elif refs:
                    with transaction.atomic():
                        Listing.objects.filter(
                            tenant=tenant, connection=connection,
                            item_id__in=[ref[0] for ref in refs],
                        ).update(push_pending=True, cas_token=None)
                    store_push_on_commit(tenant_id=tenant.pk)
                status, error = WebhookEventStatus.PROCESSED, ""
                counts["processed"] += 1
            except (StoreError, ApplicationError) as failure:
                status = WebhookEventStatus.FAILED
                error = str(getattr(failure, "message", "") or failure)[:500]
                counts["failed"] += 1
                connection_error_record(connection=connection, error=failure)
            WebhookEvent.objects.filter(tenant=tenant, pk=event.pk).update(
                status=status, error=error, processed_at=timezone.now())
    finally:
        cache.delete(lock_key)
    return counts
