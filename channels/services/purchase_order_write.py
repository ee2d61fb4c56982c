"""PO sync, step 3 of 3: read what is stored for a page, write what changed.

``purchase_order_page_write`` takes a prepared page (step 1,
``purchase_order_parse``): one query reads the stored hash and state of
its orders; unchanged orders stop there (a no-change re-sync parses and
writes nothing). For the new and changed ones it reads their stored lines,
asks ``purchase_order_changes_decide`` (step 2, pure) what to write, and
writes POs, lines, events and exceptions with one set-based statement
each, through Django's connection (so the RLS backend sets the tenant for
the transaction): ``INSERT .. SELECT FROM json_to_recordset(page) .. ON
CONFLICT``. Every column list is checked against the models by
channels/tests/services/test_purchase_order_sql.py.

``pages_write`` writes the pages of a sync with two threads, each on its
own connection.
"""

from __future__ import annotations

import json
import threading
from collections import Counter

from django.db import connection, transaction
from django.utils import timezone

from acorn.tenancy import tenant_scope
from channels.models import ChannelException, ExceptionKind, ExceptionStatus
from channels.services.purchase_order_changes import (
    NOT_YET_ACKNOWLEDGED,
    UNMAPPED_SUBJECT,
    MappingIndex,
    StoredPurchaseOrder,
    purchase_order_changes_decide,
)
from channels.services.purchase_order_parse import PagePreparer, PreparedPage, order_number

# Datetimes and Decimals as text, which json_to_recordset casts to the
# recordset's column types.
_COMPACT = json.JSONEncoder(separators=(",", ":"), default=str)

# One unique-index lookup per number: with ``number = ANY(...)`` the planner
# may (with missing or stale statistics for a new account) read every PO of
# the account through the index and filter (20,000 rows for 100 numbers);
# the LATERAL .. LIMIT 1 subquery cannot be pulled up into a join.
_EXISTING_SQL = """
SELECT po.number, po.id, po.content_hash, po.state, po.ack_status, po.amazon_changed_at
FROM unnest(%s::text[]) AS wanted(number)
CROSS JOIN LATERAL (
    SELECT number, id, content_hash, state, ack_status, amazon_changed_at
    FROM channels_purchaseorder
    WHERE tenant_id = %s AND account_id = %s AND number = wanted.number
    LIMIT 1
) AS po
"""

# Amazon's fields are overwritten; our side (ack_status) only while nothing
# was sent, else an Amazon change flags the PO for review (changed_after_ack).
_PO_UPSERT_SQL = """
INSERT INTO channels_purchaseorder AS po (
    tenant_id, account_id, number, state, order_type, ordered_at, amazon_changed_at,
    state_changed_at, ship_window_start, ship_window_end, delivery_window_start,
    delivery_window_end, selling_party_id, ship_to_party_id, ship_to, bill_to, buying_party,
    payment_method, deal_code, import_details, currency, total_cost, content_hash,
    amazon_status, ack_status, ack_deadline_at, ack_version, has_unmapped_lines,
    changed_after_ack, created_at, updated_at
)
SELECT %(tenant)s, %(account)s, r.number, r.state, r.order_type, r.ordered_at,
    r.amazon_changed_at, r.state_changed_at, r.ship_window_start, r.ship_window_end,
    r.delivery_window_start, r.delivery_window_end, r.selling_party_id, r.ship_to_party_id,
    r.ship_to, r.bill_to, r.buying_party, r.payment_method, r.deal_code, r.import_details,
    r.currency, r.total_cost, r.content_hash, '', r.ack_status,
    r.ordered_at + make_interval(hours => %(deadline_hours)s), 0, r.has_unmapped_lines,
    false, %(now)s, %(now)s
FROM json_to_recordset(%(rows)s::json) AS r(
    number text, state text, order_type text, ordered_at timestamptz,
    amazon_changed_at timestamptz, state_changed_at timestamptz,
    ship_window_start timestamptz, ship_window_end timestamptz,
    delivery_window_start timestamptz, delivery_window_end timestamptz,
    selling_party_id text, ship_to_party_id text, ship_to jsonb, bill_to jsonb,
    buying_party jsonb, payment_method text, deal_code text, import_details jsonb,
    currency text, total_cost numeric, content_hash text, has_unmapped_lines boolean,
    ack_status text
)
ON CONFLICT ON CONSTRAINT po_unique_number DO UPDATE SET
    state = EXCLUDED.state, order_type = EXCLUDED.order_type,
    ordered_at = EXCLUDED.ordered_at, amazon_changed_at = EXCLUDED.amazon_changed_at,
    state_changed_at = EXCLUDED.state_changed_at,
    ship_window_start = EXCLUDED.ship_window_start,
    ship_window_end = EXCLUDED.ship_window_end,
    delivery_window_start = EXCLUDED.delivery_window_start,
    delivery_window_end = EXCLUDED.delivery_window_end,
    selling_party_id = EXCLUDED.selling_party_id,
    ship_to_party_id = EXCLUDED.ship_to_party_id, ship_to = EXCLUDED.ship_to,
    bill_to = EXCLUDED.bill_to, buying_party = EXCLUDED.buying_party,
    payment_method = EXCLUDED.payment_method, deal_code = EXCLUDED.deal_code,
    import_details = EXCLUDED.import_details, currency = EXCLUDED.currency,
    total_cost = EXCLUDED.total_cost, content_hash = EXCLUDED.content_hash,
    has_unmapped_lines = EXCLUDED.has_unmapped_lines, updated_at = EXCLUDED.updated_at,
    ack_status = CASE WHEN po.ack_status = ANY(%(not_acked)s) THEN EXCLUDED.ack_status
                      ELSE po.ack_status END,
    changed_after_ack = CASE
        WHEN NOT po.ack_status = ANY(%(not_acked)s)
             AND EXCLUDED.amazon_changed_at IS NOT NULL
             AND EXCLUDED.amazon_changed_at IS DISTINCT FROM po.amazon_changed_at
        THEN true ELSE po.changed_after_ack END
RETURNING po.number, po.id
"""

# Per PO through the unique (tenant, PO, sequence) index (OFFSET 0 keeps
# the subquery a per-PO lookup, as above).
_PREVIOUS_LINES_SQL = """
SELECT line.purchase_order_id, line.item_sequence_number, line.ordered_quantity,
    line.cancelled_quantity
FROM unnest(%s::bigint[]) AS wanted(id)
CROSS JOIN LATERAL (
    SELECT purchase_order_id, item_sequence_number, ordered_quantity, cancelled_quantity
    FROM channels_purchaseorderline
    WHERE tenant_id = %s AND purchase_order_id = wanted.id
    OFFSET 0
) AS line
"""

_LINE_UPSERT_SQL = """
INSERT INTO channels_purchaseorderline AS line (
    tenant_id, purchase_order_id, item_sequence_number, asin, vendor_product_id,
    ordered_quantity, order_unit, unit_size, is_backorder_allowed, net_cost, list_price,
    currency, product_id, units_per_order_unit, planned_accept, planned_backorder,
    planned_reject, rejection_reason, plan_note, plan_note_code, plan_note_params,
    cancelled_quantity, receive_status, shipped_quantity, created_at, updated_at
)
SELECT %(tenant)s, r.po, r.seq, r.asin, r.vendor_product_id, r.ordered, r.order_unit,
    r.unit_size, r.backorder, r.net_cost, r.list_price, r.currency, r.product, r.units,
    0, 0, 0, '', '', '', '{}'::jsonb, r.cancelled, '', 0, %(now)s, %(now)s
FROM json_to_recordset(%(rows)s::json) AS r(
    po bigint, seq text, asin text, vendor_product_id text, ordered integer,
    order_unit text, unit_size integer, backorder boolean, net_cost numeric,
    list_price numeric, currency text, product bigint, units integer, cancelled integer
)
ON CONFLICT ON CONSTRAINT po_line_unique_seq DO UPDATE SET
    asin = EXCLUDED.asin, vendor_product_id = EXCLUDED.vendor_product_id,
    ordered_quantity = EXCLUDED.ordered_quantity, order_unit = EXCLUDED.order_unit,
    unit_size = EXCLUDED.unit_size, is_backorder_allowed = EXCLUDED.is_backorder_allowed,
    net_cost = EXCLUDED.net_cost, list_price = EXCLUDED.list_price,
    currency = EXCLUDED.currency, product_id = EXCLUDED.product_id,
    units_per_order_unit = EXCLUDED.units_per_order_unit,
    cancelled_quantity = EXCLUDED.cancelled_quantity, updated_at = EXCLUDED.updated_at
"""

_EVENT_INSERT_SQL = """
INSERT INTO channels_purchaseorderevent (
    tenant_id, purchase_order_id, kind, dedupe_key, occurred_at, detail, actor_label,
    created_at, updated_at
)
SELECT %(tenant)s, r.po, r.kind, r.key, r.at, r.detail, 'amazon', %(now)s, %(now)s
FROM json_to_recordset(%(rows)s::json) AS r(
    po bigint, kind text, key text, at timestamptz, detail jsonb
)
ON CONFLICT ON CONSTRAINT po_event_unique_fact DO NOTHING
"""

_EXCEPTION_INSERT_SQL = """
INSERT INTO channels_channelexception (
    tenant_id, account_id, kind, status, subject_key, purchase_order_id, submission_id,
    message, message_code, message_params, detail, resolved_at, resolution, created_at,
    updated_at
)
SELECT %(tenant)s, %(account)s, %(kind)s, %(status)s, r.subject, r.po, NULL, r.message,
    r.code, r.params, r.detail, NULL, '', %(now)s, %(now)s
FROM json_to_recordset(%(rows)s::json) AS r(
    subject text, po bigint, message text, code text, params jsonb, detail jsonb
)
-- One open exception per (kind, subject): the partial unique index
-- channel_exception_one_open, named by its columns and predicate (ON
-- CONSTRAINT cannot name a partial index).
ON CONFLICT (tenant_id, kind, subject_key) WHERE status = 'open' DO NOTHING
"""



def _stored(cursor, *, tenant, account, numbers) -> dict[str, StoredPurchaseOrder]:
    cursor.execute(_EXISTING_SQL, [list(numbers), tenant.pk, account.pk])
    return {
        number: StoredPurchaseOrder(id=po_id, content_hash=digest, state=state,
                                    ack_status=ack_status, amazon_changed_at=changed_at)
        for number, po_id, digest, state, ack_status, changed_at in cursor.fetchall()
    }


def _previous_lines(cursor, *, tenant, purchase_order_ids) -> dict:
    if not purchase_order_ids:
        return {}
    cursor.execute(_PREVIOUS_LINES_SQL, [purchase_order_ids, tenant.pk])
    return {(po_id, seq): (ordered, cancelled)
            for po_id, seq, ordered, cancelled in cursor.fetchall()}


def purchase_order_page_write(*, tenant, account, page: PreparedPage, mappings: MappingIndex,
                              counts: Counter, preparer: PagePreparer | None = None) -> list[int]:
    """Upsert one prepared page; returns the PO ids to (re-)plan.

    Unchanged orders (same content hash as stored) are neither parsed nor
    written; a page of them runs one SELECT. ``preparer`` parses ahead
    from here on if this page brought new or changed orders.
    """
    if not page.orders:
        return []
    digests = page.digests
    with transaction.atomic(), connection.cursor() as cursor:
        stored = _stored(cursor, tenant=tenant, account=account, numbers=digests)
        fresh = []
        for raw in page.orders:
            number = order_number(raw)
            row = stored.get(number)
            if row is not None and row.content_hash == digests[number]:
                counts["unchanged"] += 1
                continue
            fresh.append(raw)
        if preparer is not None:
            preparer.speculate = bool(fresh)
        if not fresh:
            return []
        now = timezone.now()
        previous_lines = _previous_lines(cursor, tenant=tenant, purchase_order_ids=[
            stored[order_number(raw)].id for raw in fresh if order_number(raw) in stored
        ])
        changes = purchase_order_changes_decide(
            orders=[(page.order(raw), digests[order_number(raw)]) for raw in fresh],
            stored=stored, previous_lines=previous_lines, mappings=mappings, now=now,
        )
        counts.update(changes.counts)
        return _write(cursor, tenant=tenant, account=account, changes=changes, now=now)


def _write(cursor, *, tenant, account, changes, now) -> list[int]:
    cursor.execute(_PO_UPSERT_SQL, {
        "tenant": tenant.pk, "account": account.pk, "now": now,
        "deadline_hours": int(account.ack_deadline_hours),
        "not_acked": sorted(status.value for status in NOT_YET_ACKNOWLEDGED),
        "rows": _COMPACT.encode(changes.purchase_orders),
    })
    ids = dict(cursor.fetchall())
    for row in (*changes.lines, *changes.events):
        row["po"] = ids[row["number"]]
    if changes.lines:
        cursor.execute(_LINE_UPSERT_SQL, {"tenant": tenant.pk, "now": now,
                                          "rows": _COMPACT.encode(changes.lines)})
    if changes.events:
        cursor.execute(_EVENT_INSERT_SQL, {"tenant": tenant.pk, "now": now,
                                           "rows": _COMPACT.encode(changes.events)})
    if changes.exceptions:
        for row in changes.exceptions:
            row["po"] = ids[row["number"]]
            row["subject"] = UNMAPPED_SUBJECT.format(po=row["po"], seq=row["seq"])
        cursor.execute(_EXCEPTION_INSERT_SQL, {
            "tenant": tenant.pk, "account": account.pk, "now": now,
            "kind": ExceptionKind.UNMAPPED_LINE.value, "status": ExceptionStatus.OPEN.value,
            "rows": _COMPACT.encode(changes.exceptions),
        })
    if changes.cleared:
        ChannelException.objects.filter(
            tenant=tenant, kind=ExceptionKind.UNMAPPED_LINE, status=ExceptionStatus.OPEN,
            purchase_order_id__in=[ids[number] for number in changes.cleared],
        ).update(status=ExceptionStatus.RESOLVED, resolved_at=now, updated_at=now,
                 resolution="The line is mapped or cancelled now.")
    return [ids[number] for number in changes.to_plan]


# --- writers --------------------------------------------------------------------------

# A page's statements mostly wait for PostgreSQL (upserts, then the deferred
# FK checks at commit): two writers, each on its own connection, keep it
# busy while the other one's Python runs.
PAGE_WRITERS = 2


def pages_write(pages, write, *, tenant, workers: int = PAGE_WRITERS) -> None:
    """``write(page)`` for each page of ``pages``, by ``workers`` threads.

    Each thread writes whole pages in its own transactions on its own
    connection (Django's, in ``tenant``'s scope, so the RLS backend sets
    the tenant), and takes the next page from ``pages`` under a lock (a
    PagePrefetcher runs its call-log hook there). Inside an outer
    transaction (tests) every write stays on the caller's connection: a
    second connection would neither see nor be rolled back with it.
    The first error stops the other writers and is raised here.
    """
    if workers <= 1 or connection.in_atomic_block:
        for page in pages:
            write(page)
        return
    iterator = iter(pages)
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with tenant_scope(tenant, atomic=False):
                while not stop.is_set():
                    with lock:
                        if stop.is_set():
                            return
                        page = next(iterator, None)
                    if page is None:
                        return
                    write(page)
        except BaseException as error:  # noqa: BLE001 - raised in the caller
            errors.append(error)
            stop.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, name=f"po-sync-write-{n}", daemon=True)
               for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
