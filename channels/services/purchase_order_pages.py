"""The bulk path of the PO sync: raw getPurchaseOrders pages into PostgreSQL.

``purchase_orders_sync`` reads pages of Amazon's order JSON (unparsed) and
hands each page to ``purchase_order_page_write``:

1. the page's orders are hashed (canonical JSON, as ``content_hash``) and
   compared with the stored hashes in one query; unchanged orders stop
   there (a no-change re-sync parses and writes nothing);
2. new and changed orders are read straight from their JSON into row
   values (``order_values``: the same values the typed
   ``vendor_api.operations.orders.PurchaseOrder`` would give, without
   building the dataclasses);
3. POs, lines, events and exceptions are written with one set-based
   statement each through Django's connection (so the RLS backend sets
   the tenant for the transaction): ``INSERT .. SELECT FROM
   json_to_recordset(page) .. ON CONFLICT``.

On databases other than PostgreSQL (the embedded demo's SQLite) the same
operations run row by row through the ORM (``purchase_order_rows``).

``PagePrefetcher`` fetches the next page in a thread while the current one
is written; the thread only talks HTTP (its call-log records are written
by the sync's own thread and connection).
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import json
import queue
import threading
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from acorn.money import MONEY_DECIMAL_PLACES
from channels.models import (
    AckStatus,
    ChannelException,
    ExceptionKind,
    ExceptionStatus,
    OrderUnit,
    PurchaseOrderEventKind,
    PurchaseOrderState,
)
from channels.services import purchase_order_rows as orm_rows
from vendor_api.operations.orders import MAX_PAGE_SIZE, split_windows
from vendor_api.operations.orders import PaymentMethod as ApiPaymentMethod
from vendor_api.operations.orders import PurchaseOrderState as ApiPurchaseOrderState
from vendor_api.operations.orders import PurchaseOrderType as ApiPurchaseOrderType
from vendor_api.types import UnitOfMeasure, parse_datetime, parse_enum

MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_DECIMAL_PLACES)


def set_based_sql() -> bool:
    """PostgreSQL gets the set-based statements below; other databases (the
    embedded demo's SQLite) the row-by-row ORM twins in purchase_order_rows."""
    return connection.vendor == "postgresql"
# Our acknowledgement has not left yet: a change can simply be re-planned.
NOT_YET_ACKNOWLEDGED = frozenset({AckStatus.PENDING, AckStatus.BLOCKED, AckStatus.REVIEW})

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
_COMPACT = json.JSONEncoder(separators=(",", ":"), default=str)


def content_hash(raw: dict) -> str:
    """SHA-256 of the canonical JSON of one order as Amazon sent it."""
    return hashlib.sha256(_CANONICAL.encode(raw).encode()).hexdigest()


# --- order JSON -> row values ---------------------------------------------------------

_ENUM_VALUES = {
    enum_class: frozenset(member.value for member in enum_class)
    for enum_class in (ApiPurchaseOrderState, ApiPurchaseOrderType, ApiPaymentMethod,
                       UnitOfMeasure)
}


def _enum_text(enum_class, raw) -> str | None:
    """``str(parse_enum(enum_class, raw))`` (None stays None), exact values fast."""
    if raw is None:
        return None
    if type(raw) is str and raw in _ENUM_VALUES[enum_class]:
        return raw
    value = parse_enum(enum_class, raw)
    return None if value is None else str(value)


def _interval(raw) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """``DateTimeInterval.parse`` as (start, end)."""
    if not raw or "--" not in raw:
        return None, None
    start, end = raw.split("--", 1)
    return parse_datetime(start), parse_datetime(end)


def _amount(money) -> tuple[bool, Decimal | None, str]:
    """``Money.parse``: (present, amount, currency code)."""
    if not money or money.get("amount") is None:
        return False, None, ""
    amount = money["amount"]
    value = None if amount == "" else Decimal(str(amount))
    return True, value, money.get("currencyCode") or ""


def _iso(value: datetime.datetime | None) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _db_time(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _unmapped(line: dict) -> bool:
    return line["product"] is None and line["ordered"] > 0


@dataclass
class OrderValues:
    """One order's PO row and line rows (dicts keyed like the SQL recordsets)."""

    number: str
    po: dict
    lines: list[dict]
    ordered_at: datetime.datetime
    changed_at: datetime.datetime | None
    state_changed_at: datetime.datetime | None
    has_unmapped_lines: bool
    ack_status: str
    detail: dict = field(default_factory=dict)


def order_values(raw: dict, *, digest: str, mappings, now) -> OrderValues:
    """The stored values of one order straight from Amazon's JSON."""
    details = raw.get("orderDetails") or {}
    ordered_at = parse_datetime(details.get("purchaseOrderDate")) or now
    changed_at = parse_datetime(details.get("purchaseOrderChangedDate"))
    state_changed_at = parse_datetime(details.get("purchaseOrderStateChangedDate"))
    ship_start, ship_end = _interval(details.get("shipWindow"))
    delivery_start, delivery_end = _interval(details.get("deliveryWindow"))
    selling = details.get("sellingParty")
    ship_to = details.get("shipToParty")
    currency = ""
    total = Decimal("0")
    lines = []
    resolve = mappings.resolve
    for item in details.get("items") or ():
        quantity = item.get("orderedQuantity")
        if quantity:
            ordered = int(quantity.get("amount") or 0)
            unit = _enum_text(UnitOfMeasure, quantity.get("unitOfMeasure"))
            order_unit = OrderUnit.CASES.value if unit == OrderUnit.CASES else (
                OrderUnit.EACHES.value)
            unit_size = quantity.get("unitSize") or 1
        else:
            ordered, order_unit, unit_size = 0, OrderUnit.EACHES.value, 1
        has_net, net_cost, net_currency = _amount(item.get("netCost"))
        _, list_price, _ = _amount(item.get("listPrice"))
        if has_net:
            currency = currency or net_currency
            if net_cost is not None:
                total += net_cost * ordered
        asin = (item.get("amazonProductIdentifier") or "")[:10]
        vendor_product_id = (item.get("vendorProductIdentifier") or "")[:64]
        mapped = resolve(asin=asin, vendor_product_id=vendor_product_id)
        lines.append({
            "seq": str(item.get("itemSequenceNumber", ""))[:10],
            "asin": asin,
            "vendor_product_id": vendor_product_id,
            "ordered": ordered,
            "order_unit": order_unit,
            "unit_size": unit_size,
            "backorder": bool(item.get("isBackOrderAllowed", False)),
            "net_cost": None if net_cost is None else str(net_cost),
            "list_price": None if list_price is None else str(list_price),
            "currency": net_currency[:3],
            "product": mapped[0] if mapped else None,
            "units": mapped[1] if mapped else 1,
        })
    state = _enum_text(ApiPurchaseOrderState, raw.get("purchaseOrderState")) or (
        PurchaseOrderState.NEW.value)
    has_unmapped = any(_unmapped(line) for line in lines)
    all_cancelled = bool(lines) and all(line["ordered"] == 0 for line in lines)
    if has_unmapped:
        ack_status = AckStatus.BLOCKED.value
    elif all_cancelled or state == PurchaseOrderState.CLOSED:
        ack_status = AckStatus.NOT_NEEDED.value
    else:
        ack_status = AckStatus.PENDING.value
    number = raw.get("purchaseOrderNumber", "")
    po = {
        "number": number,
        "state": state,
        "order_type": (_enum_text(ApiPurchaseOrderType, details.get("purchaseOrderType"))
                       or "")[:40],
        "ordered_at": _db_time(ordered_at),
        "amazon_changed_at": _db_time(changed_at),
        "state_changed_at": _db_time(state_changed_at),
        "ship_window_start": _db_time(ship_start),
        "ship_window_end": _db_time(ship_end),
        "delivery_window_start": _db_time(delivery_start),
        "delivery_window_end": _db_time(delivery_end),
        "selling_party_id": ((selling.get("partyId") or "") if selling else "")[:20],
        "ship_to_party_id": ((ship_to.get("partyId") or "") if ship_to else "")[:20],
        "ship_to": ship_to or {},
        "bill_to": details.get("billToParty") or {},
        "buying_party": details.get("buyingParty") or {},
        "payment_method": (_enum_text(ApiPaymentMethod, details.get("paymentMethod"))
                           or "")[:20],
        "deal_code": (details.get("dealCode") or "")[:60],
        "import_details": details.get("importDetails") or {},
        "currency": currency[:3],
        "total_cost": str(total.quantize(MONEY_QUANTUM)),
        "content_hash": digest,
        "has_unmapped_lines": has_unmapped,
        "ack_status": ack_status,
    }
    return OrderValues(
        number=number, po=po, lines=lines, ordered_at=ordered_at, changed_at=changed_at,
        state_changed_at=state_changed_at, has_unmapped_lines=has_unmapped,
        ack_status=ack_status,
    )


# --- SQL ------------------------------------------------------------------------------

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
ON CONFLICT (tenant_id, account_id, number) DO UPDATE SET
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
    planned_reject, rejection_reason, plan_note, cancelled_quantity, receive_status,
    shipped_quantity, created_at, updated_at
)
SELECT %(tenant)s, r.po, r.seq, r.asin, r.vendor_product_id, r.ordered, r.order_unit,
    r.unit_size, r.backorder, r.net_cost, r.list_price, r.currency, r.product, r.units,
    0, 0, 0, '', '', r.cancelled, '', 0, %(now)s, %(now)s
FROM json_to_recordset(%(rows)s::json) AS r(
    po bigint, seq text, asin text, vendor_product_id text, ordered integer,
    order_unit text, unit_size integer, backorder boolean, net_cost numeric,
    list_price numeric, currency text, product bigint, units integer, cancelled integer
)
ON CONFLICT (tenant_id, purchase_order_id, item_sequence_number) DO UPDATE SET
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
ON CONFLICT DO NOTHING
"""

_EXCEPTION_INSERT_SQL = """
INSERT INTO channels_channelexception (
    tenant_id, account_id, kind, status, subject_key, purchase_order_id, submission_id,
    message, detail, resolved_at, resolution, created_at, updated_at
)
SELECT %(tenant)s, %(account)s, %(kind)s, %(status)s, r.subject, r.po, NULL, r.message,
    r.detail, NULL, '', %(now)s, %(now)s
FROM json_to_recordset(%(rows)s::json) AS r(
    subject text, po bigint, message text, detail jsonb
)
ON CONFLICT DO NOTHING
"""


def _event(*, po_id: int, kind: str, key: str, at, detail: dict) -> dict:
    return {"po": po_id, "kind": kind, "key": key[:200], "at": _db_time(at), "detail": detail}


@dataclass
class PreparedPage:
    """A page's orders not yet seen in this sync, hashed; ``values`` holds
    the row values computed ahead (by the prefetch thread) for some of them."""

    orders: list[dict]
    digests: dict[str, str]
    values: dict[str, OrderValues] = field(default_factory=dict)
    listed: int = 0


class PagePreparer:
    """Dedupe (a PO listed twice in one sync is processed once), hash, and
    compute row values ahead while the pages keep bringing new or changed
    orders (``speculate``: from the start on a first sync; later syncs start
    without, so unchanged orders are hashed but never parsed)."""

    def __init__(self, *, mappings, speculate: bool = True):
        self.mappings = mappings
        self.seen: set[str] = set()
        self.speculate = speculate

    def __call__(self, page) -> PreparedPage:
        orders = []
        for raw in page.orders:
            number = raw.get("purchaseOrderNumber", "")
            if number not in self.seen:
                self.seen.add(number)
                orders.append(raw)
        digests = {raw.get("purchaseOrderNumber", ""): content_hash(raw) for raw in orders}
        values = {}
        if self.speculate:
            now = timezone.now()
            for raw in orders:
                number = raw.get("purchaseOrderNumber", "")
                values[number] = order_values(raw, digest=digests[number],
                                              mappings=self.mappings, now=now)
        return PreparedPage(orders=orders, digests=digests, values=values,
                            listed=len(page.orders))


def purchase_order_page_write(*, tenant, account, page: PreparedPage, mappings,
                              counts: Counter, preparer: PagePreparer | None = None) -> list[int]:
    """Upsert one prepared page; returns the PO ids to (re-)plan.

    Unchanged orders (same content hash as stored) are neither parsed nor
    written; a page of them runs one SELECT.
    """
    if not page.orders:
        return []
    digests = page.digests
    with transaction.atomic(), connection.cursor() as cursor:
        if set_based_sql():
            cursor.execute(_EXISTING_SQL, [list(digests), tenant.pk, account.pk])
            found = cursor.fetchall()
        else:
            found = orm_rows.existing_rows(tenant=tenant, account=account, numbers=digests)
        existing = {row[0]: row for row in found}
        fresh = []
        for raw in page.orders:
            number = raw.get("purchaseOrderNumber", "")
            row = existing.get(number)
            if row is not None and row[2] == digests[number]:
                counts["unchanged"] += 1
                continue
            fresh.append(raw)
        if preparer is not None:
            preparer.speculate = bool(fresh)
        if not fresh:
            return []
        now = timezone.now()
        values = []
        for raw in fresh:
            number = raw.get("purchaseOrderNumber", "")
            value = page.values.get(number)
            if value is None:
                value = order_values(raw, digest=digests[number], mappings=mappings, now=now)
            values.append(value)
        return _write(cursor, tenant=tenant, account=account, values=values,
                      existing=existing, counts=counts, now=now)


def _write(cursor, *, tenant, account, values, existing, counts, now):
    not_acked = sorted(status.value for status in NOT_YET_ACKNOWLEDGED)
    if set_based_sql():
        cursor.execute(_PO_UPSERT_SQL, {
            "tenant": tenant.pk, "account": account.pk, "now": now,
            "deadline_hours": int(account.ack_deadline_hours), "not_acked": not_acked,
            "rows": _COMPACT.encode([order.po for order in values]),
        })
        ids = dict(cursor.fetchall())
    else:
        ids = orm_rows.purchase_orders_upsert(
            tenant=tenant, account=account, now=now, rows=[order.po for order in values],
            deadline_hours=int(account.ack_deadline_hours), not_acked=set(not_acked),
        )
    changed_ids = [ids[order.number] for order in values if order.number in existing]
    previous_lines = {}
    if changed_ids:
        if set_based_sql():
            cursor.execute(_PREVIOUS_LINES_SQL, [changed_ids, tenant.pk])
            found = cursor.fetchall()
        else:
            found = orm_rows.previous_lines(tenant=tenant, purchase_order_ids=changed_ids)
        previous_lines = {(po_id, seq): (ordered, cancelled)
                          for po_id, seq, ordered, cancelled in found}
    all_lines, events, exceptions, to_plan = [], [], [], []
    for order in values:
        po_id = ids[order.number]
        row = existing.get(order.number)
        event_at = order.changed_at or order.ordered_at
        for line in order.lines:
            seq = line["seq"]
            line["po"] = po_id
            cancelled = 0
            before = previous_lines.get((po_id, seq)) if row is not None else None
            if before is not None:
                cancelled = before[1]
                if before[0] > 0 and line["ordered"] == 0:
                    cancelled = before[0]
            line["cancelled"] = cancelled
            if line["ordered"] == 0 and (before is None or before[0] > 0):
                events.append(_event(
                    po_id=po_id, kind=PurchaseOrderEventKind.CANCELLED.value,
                    key=f"cancelled:{seq}", at=event_at,
                    detail={"line": seq, "cancelled_quantity": cancelled},
                ))
            if _unmapped(line):
                events.append(_event(
                    po_id=po_id, kind=PurchaseOrderEventKind.LINE_UNMAPPED.value,
                    key=f"unmapped:{seq}", at=now, detail={"line": seq, "asin": line["asin"]},
                ))
                exceptions.append({
                    "subject": f"po:{po_id}/line:{seq}", "po": po_id,
                    "message": (f"PO {order.number} line {seq}: no SKU mapping for ASIN "
                                f"{line['asin'] or '-'} / vendor product "
                                f"{line['vendor_product_id'] or '-'}.")[:500],
                    "detail": {"asin": line["asin"],
                               "vendor_product_id": line["vendor_product_id"], "line": seq},
                })
                counts["unmapped_lines"] += 1
            all_lines.append(line)
        if row is None:
            counts["created"] += 1
            events.append(_event(
                po_id=po_id, kind=PurchaseOrderEventKind.CREATED.value, key="created",
                at=order.ordered_at,
                detail={"state": order.po["state"], "lines": len(order.lines)},
            ))
            if order.ack_status == AckStatus.PENDING:
                to_plan.append(po_id)
            continue
        counts["changed"] += 1
        _, _, _, old_state, old_ack_status, old_changed_at = row
        amazon_changed = order.changed_at and order.changed_at != old_changed_at
        if amazon_changed:
            events.append(_event(
                po_id=po_id, kind=PurchaseOrderEventKind.CHANGED.value,
                key=f"changed:{_iso(order.changed_at)}", at=order.changed_at,
                detail={"acknowledged": old_ack_status not in NOT_YET_ACKNOWLEDGED},
            ))
        state = order.po["state"]
        if state != old_state:
            at = order.state_changed_at or now
            events.append(_event(
                po_id=po_id, kind=PurchaseOrderEventKind.STATE_CHANGED.value,
                key=f"state:{state}:{_iso(at)}", at=at,
                detail={"from": old_state, "to": state},
            ))
        # Re-plan a changed PO while nothing was sent (the upsert kept our
        # ack_status otherwise and flagged changed_after_ack); after sending,
        # planning brings the holds in line with Amazon's new quantities.
        if old_ack_status in NOT_YET_ACKNOWLEDGED and order.ack_status == AckStatus.PENDING:
            to_plan.append(po_id)
        elif old_ack_status not in NOT_YET_ACKNOWLEDGED and (amazon_changed or state != old_state):
            to_plan.append(po_id)
    if all_lines:
        if set_based_sql():
            cursor.execute(_LINE_UPSERT_SQL, {"tenant": tenant.pk, "now": now,
                                              "rows": _COMPACT.encode(all_lines)})
        else:
            orm_rows.lines_upsert(tenant=tenant, now=now, rows=all_lines)
    counts["lines_written"] += len(all_lines)
    if events:
        if set_based_sql():
            cursor.execute(_EVENT_INSERT_SQL, {"tenant": tenant.pk, "now": now,
                                               "rows": _COMPACT.encode(events)})
        else:
            orm_rows.events_insert(tenant=tenant, rows=events)
    if exceptions:
        if set_based_sql():
            cursor.execute(_EXCEPTION_INSERT_SQL, {
                "tenant": tenant.pk, "account": account.pk, "now": now,
                "kind": ExceptionKind.UNMAPPED_LINE.value, "status": ExceptionStatus.OPEN.value,
                "rows": _COMPACT.encode(exceptions),
            })
        else:
            orm_rows.exceptions_insert(
                tenant=tenant, account=account, kind=ExceptionKind.UNMAPPED_LINE.value,
                status=ExceptionStatus.OPEN.value, rows=exceptions,
            )
    # A change that mapped every line (or cancelled the unmapped ones)
    # closes the PO's unmapped-line exceptions.
    cleared = [ids[order.number] for order in values
               if order.number in existing and not order.has_unmapped_lines]
    if cleared:
        ChannelException.objects.filter(
            tenant=tenant, kind=ExceptionKind.UNMAPPED_LINE, status=ExceptionStatus.OPEN,
            purchase_order_id__in=cleared,
        ).update(status=ExceptionStatus.RESOLVED, resolved_at=now, updated_at=now,
                 resolution="The line is mapped or cancelled now.")
    return to_plan


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
    # SQLite (the embedded demo) allows one writer at a time anyway.
    if workers <= 1 or connection.in_atomic_block or not set_based_sql():
        for page in pages:
            write(page)
        return
    from acorn.tenancy import tenant_scope

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


# --- pages ----------------------------------------------------------------------------


# Page chains are sequential (each page brings the next page's token), and
# one answer takes Amazon a few hundred ms: a long range is read as several
# ranges of at most a day, a few at once, to use the whole rate.
CHAIN_SPAN = datetime.timedelta(days=1)
FETCH_WORKERS = 3


def page_chains(*, passes, after, before, span=CHAIN_SPAN):
    """(by, start, end) ranges of at most ``span`` covering [after, before] per pass."""
    chains = []
    for by in passes:
        for window_start, window_end in split_windows(after=after, before=before):
            start = window_start
            while start < window_end:
                end = min(start + span, window_end)
                chains.append((by, start, end))
                start = end
    return chains


def chain_pages(client, *, by, start, end):
    """Every raw getPurchaseOrders page of one range (created|changed)."""
    bounds = (
        {"created_after": start, "created_before": end}
        if by == "created"
        else {"changed_after": start, "changed_before": end}
    )
    next_token = None
    while True:
        page = client.get_purchase_orders_raw_page(
            **bounds, limit=MAX_PAGE_SIZE, next_token=next_token
        )
        yield page
        if not page.next_token:
            break
        next_token = page.next_token


def raw_pages(client, *, passes, after, before):
    """All raw pages, one chain after the other (no threads)."""
    for by, start, end in page_chains(passes=passes, after=after, before=before):
        yield from chain_pages(client, by=by, start=start, end=end)


class PagePrefetcher:
    """Iterate the raw pages (through ``prepare``), fetched and prepared by
    ``workers`` threads, each reading one range's chain of pages at a time.

    Use as a context manager. The threads only make HTTP calls (the shared
    token bucket paces them): the client's call hook (the ApiCallLog
    insert) is buffered and run in the caller's thread, on its database
    connection and tenant, as each page is handed over and on exit. An
    error in a thread (e.g. re-authorization needed) is raised in the
    caller and stops the other threads.
    """

    _DONE = object()

    def __init__(self, client, *, passes, after, before, prepare=None,
                 workers: int = FETCH_WORKERS, depth: int = 4):
        self.client = client
        self.prepare = prepare or (lambda page: page)
        self.prepare_lock = threading.Lock()
        self.chains: queue.SimpleQueue = queue.SimpleQueue()
        for chain in page_chains(passes=passes, after=after, before=before):
            self.chains.put(chain)
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.records: collections.deque = collections.deque()
        self.hook = None
        self.running = max(1, workers)
        self.running_lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, name=f"po-sync-fetch-{n}", daemon=True)
            for n in range(self.running)
        ]

    def __enter__(self) -> PagePrefetcher:
        transport = self.client.transport
        self.hook = transport.call_hook
        if self.hook is not None:
            transport.call_hook = self.records.append
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        self.client.transport.call_hook = self.hook
        self.flush()

    def flush(self) -> None:
        while self.records:
            self.hook(self.records.popleft())

    def _offer(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    by, start, end = self.chains.get_nowait()
                except queue.Empty:
                    break
                for page in chain_pages(self.client, by=by, start=start, end=end):
                    with self.prepare_lock:
                        prepared = self.prepare(page)
                    if not self._offer(prepared):
                        return
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            self._offer(error)
            self.stop.set()
            return
        with self.running_lock:
            self.running -= 1
            last = self.running == 0
        if last:
            self._offer(self._DONE)

    def __iter__(self):
        while True:
            item = self.queue.get()
            self.flush()
            if item is self._DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
