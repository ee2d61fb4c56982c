"""Stock out to the stores: drain inventory's outbox, push ATS, reconcile.

Design (store-channels.md §4 and §6; target: a change visible in the store
within 15 s at p95):

1. ``store_outbox_drain`` claims inventory's ``AtpChange`` rows, flags every
   pushable listing of those products ``push_pending`` (one UPDATE) and acks
   the claims. Fanning out into per-listing flags decouples the stores: a
   store that is down keeps its own listings pending and never holds the
   outbox back for the others. A crash between claim and ack hands the rows
   out again after inventory's lease (flags are idempotent).
2. ``store_connection_push`` pushes a connection's pending listings in
   batches of the adapter's ``max_write_batch``, one push per connection at
   a time (a Redis lock), so writes to one store never race each other.
   - Compare-and-set (Shopify): ``set_levels`` with ``expected`` = the last
     observed ``cas_token``; a listing without one (new, or after a store
     webhook or an unknown outcome) is re-read first. On STALE the store's
     stock moved under us (usually an order): the engine imports the
     store's new orders (which reserve stock, so our ATS drops), recomputes
     and writes again against the fresh token, at most ``CAS_ATTEMPTS``
     times; then the listing stays pending for the next run. Never a
     blind overwrite.
   - No compare-and-set (Magento, BigCommerce): deltas (``target - last
     pushed``) for event-driven changes; a listing never pushed, or whose
     last write had an unknown outcome, gets an absolute write only after
     a re-read and an order import (the reconciliation rule).
   - Idempotency key: a digest of the batch's rows (refs, targets,
     expected values), so a retried call after a timeout sends the same key
     and the platform answers with the first result instead of applying it
     twice. ``OutcomeUnknown`` marks the rows ``outcome_unknown``: the next
     run re-reads before it writes again.
3. Timing: services that change ATP inside channels (store orders) call
   ``store_push_soon`` on commit; inventory's own writes (receipts,
   adjustments, Amazon holds) are found by the beat backstop
   ``channels.stores_push_dispatch`` every few seconds (acorn/schedule.py).
   ``store_push_soon`` debounces per tenant with a short Redis key, so a
   burst of changes is one drain + one batched push per store.
4. ``store_connection_reconcile`` (beat, per connection interval) reads
   every pushed listing's level, counts drift (store ATS != ours) and
   repairs it with the same write path, after importing orders first.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from channels.models import (
    Listing,
    StoreConnection,
    StoreConnectionStatus,
    StoreLocationMapping,
    StoreSyncKind,
)
from channels.services.stores.connections import (
    connection_adapter,
    connection_error_record,
    connection_ok_record,
)
from channels.services.stores.listings import PUSHABLE
from channels.services.stores.runs import store_run_fail, store_run_finish, store_run_start
from channels.stores.adapter import (
    ChannelAdapter,
    CompareAndSet,
    ItemRef,
    LevelDelta,
    LevelWrite,
    OutcomeUnknown,
    RowResult,
    StoreError,
    WriteOutcome,
)

logger = logging.getLogger(__name__)

CAS_ATTEMPTS = 3
PUSH_LOCK_SECONDS = 120
PUSH_BATCH_LIMIT = 2000  # pending listings one run takes per connection
DEBOUNCE_SECONDS = 1.0


class StorePushBusy(Exception):
    """Another worker is pushing this connection."""


@dataclass
class PushCounts:
    rows: int = 0
    applied: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0
    unknown: int = 0
    drift: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


# --- Triggers -----------------------------------------------------------------


def store_push_soon(*, tenant_id: int) -> None:
    """Ask for a drain + push of the tenant shortly (debounced).

    Off (``ACORN_STORE_PUSH_ON_COMMIT``) in the unit tests, which call the
    engine directly; the beat backstop finds the work either way.
    """
    if not settings.ACORN_STORE_PUSH_ON_COMMIT:
        return
    if not cache.add(f"stores:push-soon:{tenant_id}", 1, timeout=DEBOUNCE_SECONDS):
        return
    # By name, on the current Celery app: channels does not import floor 4.
    from celery import current_app

    current_app.send_task("channels.stores_push", kwargs={"tenant_id": tenant_id},
                          countdown=DEBOUNCE_SECONDS, queue="stores")


def store_push_on_commit(*, tenant_id: int) -> None:
    transaction.on_commit(lambda: store_push_soon(tenant_id=tenant_id))


# --- Outbox ---------------------------------------------------------------------


def store_outbox_drain(*, tenant) -> int:
    """Move inventory's ATP changes onto the listings; returns products drained."""
    from inventory.services import atp_change_ack, atp_change_claim

    drained = 0
    while True:
        claims = atp_change_claim(tenant=tenant)
        if not claims:
            return drained
        with transaction.atomic():
            Listing.objects.filter(
                tenant=tenant, product_id__in=[claim.product_id for claim in claims],
                match_state__in=PUSHABLE,
            ).update(push_pending=True)
            atp_change_ack(tenant=tenant, claims=claims)
        drained += len(claims)


# --- Push -------------------------------------------------------------------------


def _primary_location(*, tenant, connection) -> str | None:
    row = StoreLocationMapping.objects.filter(
        tenant=tenant, connection=connection, is_primary=True
    ).values_list("location_id", flat=True).first()
    return row


def _ats_for(*, tenant, connection, listings: Sequence[Listing]) -> dict[int, int]:
    from inventory.selectors import atp_for_products

    atp = atp_for_products(tenant=tenant, channel=connection.sync_channel,
                           product_ids={listing.product_id for listing in listings})
    return {listing.pk: max(atp[listing.product_id].available, 0)
            if listing.product_id in atp else 0 for listing in listings}


def _own_orders(*, tenant, connection, listings: Sequence[Listing]) -> dict[int, int]:
    """Per product: units of this store's orders we hold or shipped (reserved
    minus released). The store took them off its own number when the order
    was placed, so a delta must not take them off again."""
    from django.db.models import F, Sum

    from channels.models import StoreOrderLine

    rows = StoreOrderLine.objects.filter(
        tenant=tenant, order__connection=connection,
        product_id__in={listing.product_id for listing in listings},
    ).values("product_id").annotate(own=Sum(F("reserved_quantity") - F("released_quantity")))
    return {row["product_id"]: row["own"] or 0 for row in rows}


def _ref(listing: Listing) -> ItemRef:
    return ItemRef(item_id=listing.item_id, variant_id=listing.variant_id)


def _key(connection, kind: str, rows: list) -> str:
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()
    return f"acorn-{kind}-{connection.pk}-{digest[:32]}"


def _refresh(*, adapter: ChannelAdapter, location: str, listings: list[Listing]) -> None:
    """Re-read the store's level (ATS + CAS token) of these listings."""
    if not listings:
        return
    by_ref = {(_ref(listing).item_id, _ref(listing).variant_id): listing for listing in listings}
    snapshots = adapter.get_levels([_ref(listing) for listing in listings], [location])
    now = timezone.now()
    for snapshot in snapshots:
        listing = by_ref.get((snapshot.ref.item_id, snapshot.ref.variant_id))
        if listing is None or snapshot.location_id != location:
            continue
        listing.last_seen_ats = snapshot.ats
        listing.cas_token = snapshot.cas_token
        listing.last_seen_at = now
        listing.outcome_unknown = False


def _orders_import(*, tenant, connection) -> None:
    """Import the store's new orders (their reservations lower our ATS)."""
    from channels.services.stores.orders import store_orders_poll

    try:
        store_orders_poll(tenant=tenant, connection_id=connection.pk)
    except StoreError as error:  # the push goes on with what we know
        logger.warning("store %s: order import before a re-push failed: %s", connection.pk,
                       error)


def _row_apply(listing: Listing, row: RowResult, target: int, counts: PushCounts, now) -> bool:
    """Record one row's outcome; True when the listing is done."""
    if row.outcome == WriteOutcome.APPLIED:
        if hasattr(listing, "own_orders_next"):
            listing.own_orders_at_push = listing.own_orders_next
        listing.last_pushed_ats = target
        listing.last_pushed_at = now
        listing.last_seen_ats = target
        listing.cas_token = row.current if row.current is not None else target
        listing.outcome_unknown = False
        listing.last_error = ""
        counts.applied += 1
        return True
    if row.outcome == WriteOutcome.STALE:
        listing.cas_token = row.current
        listing.last_seen_ats = row.current
        counts.stale += 1
        return False
    if row.outcome == WriteOutcome.REJECTED:
        listing.last_error = (row.code or "rejected")[:300]
        counts.rejected += 1
        return True  # a refused row waits for a change or the review queue
    listing.outcome_unknown = True
    counts.unknown += 1
    return False


def _write_cas(*, tenant, connection, adapter, location, listings, counts) -> list[Listing]:
    """Compare-and-set writes; returns the listings still pending."""
    pending = list(listings)
    now = timezone.now()
    for attempt in range(CAS_ATTEMPTS):
        _refresh(adapter=adapter, location=location, listings=[
            listing for listing in pending if listing.cas_token is None or listing.outcome_unknown
        ])
        targets = _ats_for(tenant=tenant, connection=connection, listings=pending)
        writes, batch = [], []
        for listing in pending:
            target = targets[listing.pk]
            if listing.last_seen_ats == target and listing.cas_token is not None:
                listing.last_pushed_ats = target
                listing.last_pushed_at = now
                counts.unchanged += 1
                continue
            writes.append(LevelWrite(ref=_ref(listing), location_id=location, target_ats=target,
                                     expected=listing.cas_token))
            batch.append((listing, target))
        if not writes:
            return []
        counts.rows += len(writes)
        still: list[Listing] = []
        result = _write_batches(
            connection=connection, adapter=adapter, writes=writes, kind="set",
        )
        for (listing, target), row in zip(batch, result, strict=True):
            if not _row_apply(listing, row, target, counts, now):
                still.append(listing)
        pending = still
        if not pending:
            return []
        if any(listing.outcome_unknown for listing in pending):
            return pending  # re-read on the next run, not in a tight loop
        # STALE: the store moved (an order?). Import orders, recompute, retry.
        if attempt < CAS_ATTEMPTS - 1:
            _orders_import(tenant=tenant, connection=connection)
    return pending


def _write_batches(*, connection, adapter, writes, kind: str) -> list[RowResult]:
    size = max(adapter.capabilities.max_write_batch, 1)
    results: list[RowResult] = []
    for start in range(0, len(writes), size):
        chunk = writes[start:start + size]
        rows = [[w.ref.item_id, w.ref.variant_id, w.location_id,
                 getattr(w, "target_ats", getattr(w, "delta", None)), getattr(w, "expected", None)]
                for w in chunk]
        key = _key(connection, kind, rows)
        reason = "correction"
        ref_uri = f"gid://acorn/StorePush/{key}"
        try:
            if kind == "adjust":
                result = adapter.adjust_levels(chunk, idempotency_key=key, reason=reason,
                                               ref_uri=ref_uri)
            else:
                result = adapter.set_levels(chunk, idempotency_key=key, reason=reason,
                                            ref_uri=ref_uri)
            by_ref = {(row.ref.item_id, row.ref.variant_id, row.location_id): row
                      for row in result.rows}
            for write in chunk:
                results.append(by_ref.get(
                    (write.ref.item_id, write.ref.variant_id, write.location_id),
                    RowResult(ref=write.ref, location_id=write.location_id,
                              outcome=WriteOutcome.UNKNOWN),
                ))
        except OutcomeUnknown:
            results.extend(RowResult(ref=w.ref, location_id=w.location_id,
                                     outcome=WriteOutcome.UNKNOWN) for w in chunk)
    return results


def _write_no_cas(*, tenant, connection, adapter, location, listings, counts) -> list[Listing]:
    """Deltas for known levels; re-read + absolute for the rest."""
    now = timezone.now()
    absolute = [listing for listing in listings
                if listing.last_pushed_ats is None or listing.outcome_unknown]
    if absolute:
        _orders_import(tenant=tenant, connection=connection)
        _refresh(adapter=adapter, location=location, listings=absolute)
    targets = _ats_for(tenant=tenant, connection=connection, listings=listings)
    own = _own_orders(tenant=tenant, connection=connection, listings=listings)
    sets, set_batch, deltas, delta_batch = [], [], [], []
    for listing in listings:
        target = targets[listing.pk]
        own_now = own.get(listing.product_id, 0)
        if listing in absolute:
            listing.own_orders_at_push = own_now
            if listing.last_seen_ats == target and not listing.outcome_unknown:
                listing.last_pushed_ats, listing.last_pushed_at = target, now
                counts.unchanged += 1
                continue
            sets.append(LevelWrite(ref=_ref(listing), location_id=location, target_ats=target))
            set_batch.append((listing, target))
        else:
            # Our ATS moved by (target - last pushed); the part due to this
            # store's own orders (own_now - own at the last push) the store
            # has applied itself.
            delta = (target - listing.last_pushed_ats) + (own_now - listing.own_orders_at_push)
            listing.own_orders_next = own_now  # taken when the delta is applied
            if delta == 0:
                listing.last_pushed_ats = target
                listing.own_orders_at_push = own_now
                counts.unchanged += 1
                continue
            if adapter.capabilities.delta_writes:
                deltas.append(LevelDelta(ref=_ref(listing), location_id=location, delta=delta))
                delta_batch.append((listing, target))
            else:
                sets.append(LevelWrite(ref=_ref(listing), location_id=location,
                                       target_ats=target))
                set_batch.append((listing, target))
    still = []
    for kind, writes, batch in (("set", sets, set_batch), ("adjust", deltas, delta_batch)):
        if not writes:
            continue
        counts.rows += len(writes)
        rows = _write_batches(connection=connection, adapter=adapter, writes=writes, kind=kind)
        for (listing, target), row in zip(batch, rows, strict=True):
            if not _row_apply(listing, row, target, counts, now):
                still.append(listing)
    return still


def _listings_save(listings: Sequence[Listing]) -> None:
    Listing.objects.bulk_update(list(listings), [
        "last_pushed_ats", "last_pushed_at", "last_seen_ats", "cas_token", "last_seen_at",
        "own_orders_at_push",
        "outcome_unknown", "last_error", "push_pending", "updated_at",
    ])


class _PushLock:
    def __init__(self, connection_id: int):
        self.key = f"stores:push-lock:{connection_id}"

    def __enter__(self):
        if not cache.add(self.key, 1, timeout=PUSH_LOCK_SECONDS):
            raise StorePushBusy(self.key)
        return self

    def __exit__(self, *exc):
        cache.delete(self.key)
        return False


def _push(*, tenant, connection: StoreConnection, listings: list[Listing], counts: PushCounts
          ) -> list[Listing]:
    location = _primary_location(tenant=tenant, connection=connection)
    if location is None:
        raise StoreError("The connection has no primary location mapped to a warehouse.",
                         code="NO_PRIMARY_LOCATION")
    adapter = connection_adapter(connection=connection)
    write = (_write_cas if adapter.capabilities.cas == CompareAndSet.NATIVE else _write_no_cas)
    return write(tenant=tenant, connection=connection, adapter=adapter, location=location,
                 listings=listings, counts=counts)


def store_connection_push(*, tenant, connection_id: int) -> PushCounts:
    """Push the connection's pending listings (see the module doc)."""
    counts = PushCounts()
    connection = StoreConnection.objects.filter(tenant=tenant, pk=connection_id).first()
    if connection is None or connection.status == StoreConnectionStatus.PAUSED:
        return counts
    listings = list(
        Listing.objects.filter(tenant=tenant, connection=connection, push_pending=True,
                               match_state__in=PUSHABLE, product__isnull=False)
        .order_by("id")[:PUSH_BATCH_LIMIT]
    )
    if not listings:
        return counts
    try:
        lock = _PushLock(connection.pk)
        lock.__enter__()
    except StorePushBusy:
        return counts  # the running push will see the flags (or the next beat)
    run = store_run_start(tenant=tenant, connection=connection, kind=StoreSyncKind.PUSH)
    try:
        still = _push(tenant=tenant, connection=connection, listings=listings, counts=counts)
    except (StoreError, LookupError, Exception) as error:
        store_run_fail(run=run, error=error, counts=counts.as_dict())
        connection_error_record(connection=connection, error=error)
        for listing in listings:
            listing.last_error = str(getattr(error, "message", "") or error)[:300]
        with transaction.atomic():
            _listings_save(listings)
        if not isinstance(error, StoreError | LookupError):
            raise
        return counts
    finally:
        lock.__exit__(None, None, None)
    still_ids = {listing.pk for listing in still}
    for listing in listings:
        listing.push_pending = listing.pk in still_ids
    with transaction.atomic():
        _listings_save(listings)
    store_run_finish(run=run, counts=counts.as_dict())
    connection_ok_record(connection=connection, last_push_at=timezone.now())
    return counts


def store_pending_connections(*, tenant) -> list[int]:
    """Connections (not paused) with listings waiting for a push."""
    return sorted(set(
        Listing.objects.filter(tenant=tenant, push_pending=True)
        .exclude(connection__status=StoreConnectionStatus.PAUSED)
        .values_list("connection_id", flat=True)
    ))


def store_tenant_push(*, tenant) -> dict[int, dict]:
    """Drain the outbox, then push every active connection with pending listings."""
    store_outbox_drain(tenant=tenant)
    ids = store_pending_connections(tenant=tenant)
    return {connection_id: store_connection_push(tenant=tenant, connection_id=connection_id)
            .as_dict() for connection_id in sorted(ids)}


# --- Reconciliation -------------------------------------------------------------


def store_connection_reconcile(*, tenant, connection_id: int) -> PushCounts:
    """Read every pushed listing's level, report drift, repair it."""
    counts = PushCounts()
    connection = StoreConnection.objects.filter(tenant=tenant, pk=connection_id).first()
    if connection is None or connection.status == StoreConnectionStatus.PAUSED:
        return counts
    run = store_run_start(tenant=tenant, connection=connection, kind=StoreSyncKind.RECONCILE)
    try:
        with _PushLock(connection.pk):
            location = _primary_location(tenant=tenant, connection=connection)
            if location is None:
                raise StoreError("The connection has no primary location mapped.",
                                 code="NO_PRIMARY_LOCATION")
            adapter = connection_adapter(connection=connection)
            _orders_import(tenant=tenant, connection=connection)
            listings = list(Listing.objects.filter(
                tenant=tenant, connection=connection, match_state__in=PUSHABLE,
                product__isnull=False).order_by("id"))
            drifted: list[Listing] = []
            size = max(adapter.capabilities.max_write_batch, 1)
            for start in range(0, len(listings), size):
                chunk = listings[start:start + size]
                for listing in chunk:
                    listing.cas_token, listing.last_seen_ats = None, None
                _refresh(adapter=adapter, location=location, listings=chunk)
                targets = _ats_for(tenant=tenant, connection=connection, listings=chunk)
                drifted.extend(listing for listing in chunk
                               if listing.last_seen_ats != targets[listing.pk])
            counts.drift = len(drifted)
            for listing in drifted:
                listing.last_pushed_ats = None  # absolute write after the re-read
                listing.push_pending = True
            with transaction.atomic():
                _listings_save(listings)
    except StorePushBusy:
        store_run_finish(run=run, counts={"skipped": 1})
        return counts
    except (StoreError, LookupError) as error:
        store_run_fail(run=run, error=error, counts=counts.as_dict())
        connection_error_record(connection=connection, error=error)
        return counts
    repaired = store_connection_push(tenant=tenant, connection_id=connection.pk)
    counts.rows, counts.applied, counts.stale = repaired.rows, repaired.applied, repaired.stale
    store_run_finish(run=run, counts=counts.as_dict())
    connection_ok_record(connection=connection, last_reconcile_at=timezone.now(),
                         last_drift_count=counts.drift)
    return counts


def store_reconcile_due(*, tenant, now=None) -> list[int]:
    """Connections whose reconciliation interval has passed."""
    now = now or timezone.now()
    due = []
    for connection in StoreConnection.objects.filter(
        tenant=tenant, last_connection_test_at__isnull=False
    ).exclude(status=StoreConnectionStatus.PAUSED).filter(
        Q(last_reconcile_at__isnull=True) | Q(last_reconcile_at__lt=now)
    ):
        interval = timezone.timedelta(minutes=connection.reconcile_interval_minutes,
                                      seconds=-10)  # the dispatcher's jitter
        if connection.last_reconcile_at is None or connection.last_reconcile_at + interval <= now:
            due.append(connection.pk)
    return due
