"""Holds and reservations: units promised to a source document.

- Amazon PO lines: ``stock_hold_place`` on acceptance (kind
  ``purchase_order``), ``stock_hold_consume`` on shipment (writes the
  shipment movements), ``stock_hold_release`` on cancellation/rejection.
- Web-store orders: ``stock_reserve``, then the same consume/release.
- Manual holds: ``stock_hold_place(kind=HoldKind.MANUAL)``.

A placement is all lines or none. Each product is one conditional UPDATE
of its ``StockLevel`` row (``on_hand >= held + reserved + safety + qty``),
rows locked in product id order; PostgreSQL re-checks the condition on
the newest row version after a wait, so concurrent placements cannot both
see the same free units. The CHECK constraint ``on_hand >= held +
reserved`` is the backstop. Every call carries an idempotency key: a
replay returns the first result and changes nothing. On PostgreSQL the
whole placement is one statement (see ``_PLACE_SQL``).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from acorn.exceptions import ApplicationError, ConflictError
from inventory.locks import (
    hold_lines_lock,
    retry_transient,
    stock_level_rows_lock,
    stock_levels_lock,
)
from inventory.models import (
    Hold,
    HoldEvent,
    HoldEventKind,
    HoldKind,
    HoldLine,
    HoldStatus,
    MovementKind,
    Product,
    StockBalance,
    StockLevel,
    StockMovement,
)
from inventory.services.outbox import ATP_MARK_UPSERT, atp_change_mark
from inventory.services.stock import (
    UNKNOWN_PRODUCT,
    MovementLine,
    actor_label,
    lot_resolve,
    movements_apply,
    products_resolve,
    warehouse_resolve,
)

INSUFFICIENT_STOCK = "Not enough available stock for {skus}."
NO_LINES = "A hold needs at least one line."
KEY_REQUIRED = "An idempotency key is required."
KEY_REUSED = "Idempotency key {key} was used for a different request."
NOTHING_HELD = "{sku}: {quantity} to ship but only {held} held for {source}."
NOT_ENOUGH_TO_SHIP = "{sku}: not enough stock on hand to ship {quantity}."


class InsufficientStockError(ConflictError):
    """The request was refused as a whole; ``extra['lines']`` says why."""


def _lines_normalise(lines) -> list[dict]:
    """Lines as dicts with ``product`` (pk, SKU or instance) and ``quantity``."""
    if not lines:
        raise ApplicationError(NO_LINES)
    normalised = []
    for line in lines:
        product = line.get("product", line.get("product_id", line.get("sku")))
        quantity = int(line["quantity"])
        if quantity <= 0:
            raise ApplicationError("Hold quantities must be positive.", {"line": str(product)})
        normalised.append(
            {"product": product, "quantity": quantity, "line_ref": str(line.get("line_ref", ""))}
        )
    return normalised


# --- Placement -------------------------------------------------------------
#
# The hot path: every accepted Amazon PO line is a placement. On PostgreSQL
# one statement does all of it, so a hold costs BEGIN, the RLS set_config,
# that statement and COMMIT. The ORM sequence it replaces (idempotency
# lookup, product resolution, precheck, hold INSERT, line INSERT, level
# UPDATEs, outbox upsert) spent most of each hold compiling SQL and
# building model instances in Python (bench/holds_throughput.py).
#
# Its steps, in one snapshot:
# 1. ``hold``: insert the hold. ON CONFLICT on (tenant, idempotency_key)
#    inserts nothing; a concurrent placement with the same key makes the
#    INSERT wait for that transaction first, so a key is placed once.
# 2. ``promised``: one conditional UPDATE of each product's level row
#    (``on_hand >= held + reserved + safety + qty``), joined with ``hold``
#    so a replay touches no level. After waiting for a row lock PostgreSQL
#    re-checks the condition on the newest row version, so two placements
#    can never both take the same free units; the CHECK constraint
#    ``on_hand >= held + reserved`` is the backstop.
# 3. ``lines`` and ``marked``: the hold lines (in request order) and the
#    outbox upsert, only when every product was promised.
# It returns the new hold's id (NULL: the key was used before) and the
# products not promised with their SKUs (NULL: no such product). Python
# raises on a refusal, and the atomic block's rollback takes the hold row
# with it: all lines or none.
_PLACE_SQL = """
WITH hold AS (
    INSERT INTO inventory_hold
        (created_at, updated_at, tenant_id, kind, status, channel, source_type,
         source_ref, idempotency_key, note, expires_at, actor_label)
    VALUES
        (%(now)s, %(now)s, %(tenant_id)s, %(kind)s, %(status)s, %(channel)s, %(source_type)s,
         %(source_ref)s, %(idempotency_key)s, %(note)s, %(expires_at)s, %(actor_label)s)
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING id
),
line AS (
    SELECT *
    FROM unnest(%(product_ids)s::bigint[], %(quantities)s::integer[], %(line_refs)s::text[])
        WITH ORDINALITY AS line (product_id, quantity, line_ref, line_no)
),
wanted AS (
    SELECT product_id, sum(quantity) AS quantity FROM line GROUP BY product_id
),
promised AS (
    UPDATE inventory_stocklevel AS level
    SET {column} = level.{column} + wanted.quantity, updated_at = %(now)s
    FROM hold, wanted
    JOIN inventory_product AS product
        ON product.id = wanted.product_id AND product.tenant_id = %(tenant_id)s
    WHERE level.tenant_id = %(tenant_id)s
      AND level.product_id = wanted.product_id
      AND level.on_hand >= level.held + level.reserved + wanted.quantity
          + CASE WHEN %(respect_safety_stock)s THEN product.safety_stock ELSE 0 END
    RETURNING level.product_id
),
complete AS (
    SELECT count(*) = (SELECT count(*) FROM wanted) AS ok FROM promised
),
lines AS (
    INSERT INTO inventory_holdline
        (created_at, updated_at, tenant_id, hold_id, product_id, line_ref, quantity,
         open_quantity, consumed_quantity, released_quantity)
    SELECT %(now)s, %(now)s, %(tenant_id)s, hold.id, line.product_id, line.line_ref,
           line.quantity, line.quantity, 0, 0
    FROM hold, line, complete
    WHERE complete.ok
    ORDER BY line.line_no
),
marked AS ({mark})
SELECT (SELECT id FROM hold),
       array_agg(wanted.product_id ORDER BY wanted.product_id),
       array_agg(product.sku ORDER BY wanted.product_id)
FROM wanted
LEFT JOIN inventory_product AS product
    ON product.id = wanted.product_id AND product.tenant_id = %(tenant_id)s
WHERE wanted.product_id NOT IN (SELECT product_id FROM promised)
"""
_PLACE_MARK_ROWS = """
SELECT %(tenant_id)s, promised.product_id, 1, %(now)s, '', %(now)s, %(now)s
FROM promised, complete
WHERE complete.ok
ORDER BY promised.product_id
"""
# Planning this statement (seven CTEs, the RLS policies of four tables)
# takes about twice as long as running it (EXPLAIN ANALYZE: ~1 ms against
# ~0.5 ms; ~0.07 ms planning once prepared), so each database session
# prepares it once and then only EXECUTEs it, and PostgreSQL reuses the
# (generic) plan. Both go through Django's cursor, so the RLS
# tenant is set as for any statement. A prepared statement lives as long
# as its session (a rollback keeps it), so what each psycopg connection
# has prepared is remembered, weakly, per connection.
_PLACE_STATEMENT = "inventory_hold_place"
# The parameters, in ``$n`` order, with their types.
_PLACE_PARAMS = (
    ("now", "timestamptz"), ("tenant_id", "bigint"), ("kind", "text"), ("status", "text"),
    ("channel", "text"), ("source_type", "text"), ("source_ref", "text"),
    ("idempotency_key", "text"), ("note", "text"), ("expires_at", "timestamptz"),
    ("actor_label", "text"), ("product_ids", "bigint[]"), ("quantities", "integer[]"),
    ("line_refs", "text[]"), ("respect_safety_stock", "boolean"),
)


def _place_statements(column: str) -> tuple[str, str]:
    """PREPARE and EXECUTE of the statement promising in ``column``
    (``held``: PO and manual holds, ``reserved``: store reservations)."""
    name = f"{_PLACE_STATEMENT}_{column}"
    text = _PLACE_SQL.format(
        column=column, mark=ATP_MARK_UPSERT.format(rows=_PLACE_MARK_ROWS).strip()
    )
    text %= {param: f"${number}" for number, (param, _) in enumerate(_PLACE_PARAMS, 1)}
    types = ", ".join(sql_type for _, sql_type in _PLACE_PARAMS)
    placeholders = ", ".join(["%s"] * len(_PLACE_PARAMS))
    return f"PREPARE {name} ({types}) AS {text}", f"EXECUTE {name} ({placeholders})"


_PLACE = {column: _place_statements(column) for column in ("held", "reserved")}
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _place_execute(cursor, *, column: str, params: dict) -> tuple:
    prepare, execute = _PLACE[column]
    prepared = _prepared.setdefault(connection.connection, set())
    if column not in prepared:
        cursor.execute(prepare)
        prepared.add(column)
    cursor.execute(execute, [params[name] for name, _ in _PLACE_PARAMS])
    return cursor.fetchone()


def _product_ids(*, tenant, refs) -> list[int]:
    """The product id of each line ref: no query for ids and instances,
    one ``values_list`` query for SKUs.

    An id of no product of the tenant is not looked up here: no level row
    is promised for it, and the placement then asks ``products_resolve``
    for the error (the same error as every other service).
    """
    skus = {ref for ref in refs if isinstance(ref, str)}
    by_sku = (
        dict(Product.objects.filter(tenant=tenant, sku__in=skus).values_list("sku", "pk"))
        if skus else {}
    )
    ids = []
    for ref in refs:
        if isinstance(ref, Product) and ref.tenant_id == tenant.pk:
            ids.append(ref.pk)
        elif isinstance(ref, int) and not isinstance(ref, bool):
            ids.append(ref)
        elif isinstance(ref, str) and ref in by_sku:
            ids.append(by_sku[ref])
        else:
            products_resolve(tenant=tenant, refs=refs)  # raises UNKNOWN_PRODUCT
            raise ApplicationError(UNKNOWN_PRODUCT.format(ref=ref), {"product": str(ref)})
    return ids


def _hold_write_sql(*, tenant, hold, lines, product_ids, respect_safety_stock, now):
    """The placement statement (PostgreSQL): (the hold saved or None, refused)."""
    column = "reserved" if hold.kind == HoldKind.RESERVATION else "held"
    params = {
        **{name: getattr(hold, name) for name in (
            "channel", "source_type", "source_ref", "idempotency_key", "note", "expires_at",
            "actor_label",
        )},
        "kind": str(hold.kind),
        "status": str(hold.status),
        "tenant_id": tenant.pk,
        "now": now,
        "product_ids": product_ids,
        "quantities": [line["quantity"] for line in lines],
        "line_refs": [line["line_ref"] for line in lines],
        "respect_safety_stock": respect_safety_stock,
    }
    if len(set(product_ids)) > 1:
        # The UPDATE takes its row locks in plan order; two multi-line
        # placements must take theirs in one fixed order or they can
        # deadlock, so lock first, by product id. One line needs no order.
        stock_level_rows_lock(tenant=tenant, product_ids=product_ids)
    with connection.cursor() as cursor:
        hold_id, refused_ids, refused_skus = _place_execute(cursor, column=column, params=params)
    if hold_id is None:
        return None, []
    # The instance now is what save() would have made of it: the row as
    # written (nothing read back).
    hold.pk = hold_id
    hold.created_at = hold.updated_at = now
    hold._state.adding = False
    hold._state.db = connection.alias
    return hold, list(zip(refused_ids or [], refused_skus or [], strict=True))


def _hold_write_orm(*, tenant, hold, lines, product_ids, respect_safety_stock, now):
    """The same steps through the ORM, for SQLite (the embedded demo), which
    has no data-modifying CTEs. SQLite runs one writer at a time, so the key
    lookup and the INSERT cannot race."""
    if Hold.objects.filter(tenant=tenant, idempotency_key=hold.idempotency_key).exists():
        return None, []
    hold.save()
    HoldLine.objects.bulk_create([
        HoldLine(
            tenant=tenant, hold=hold, product_id=product_id, line_ref=line["line_ref"],
            quantity=line["quantity"], open_quantity=line["quantity"],
        )
        for product_id, line in zip(product_ids, lines, strict=True)
    ])
    wanted = _wanted(lines, product_ids)
    safety = (
        dict(Product.objects.filter(tenant=tenant, pk__in=wanted).values_list("pk", "safety_stock"))
        if respect_safety_stock else {}
    )
    column = "reserved" if hold.kind == HoldKind.RESERVATION else "held"
    refused = [
        product_id
        for product_id in sorted(wanted)  # the fixed lock order
        if not StockLevel.objects.filter(
            tenant=tenant, product_id=product_id,
            on_hand__gte=F("held") + F("reserved") + wanted[product_id] + safety.get(product_id, 0),
        ).update(**{column: F(column) + wanted[product_id], "updated_at": now})
    ]
    if refused:
        skus = dict(Product.objects.filter(tenant=tenant, pk__in=refused).values_list("pk", "sku"))
        return hold, [(product_id, skus.get(product_id)) for product_id in refused]
    atp_change_mark(tenant=tenant, product_ids=wanted)
    return hold, []


def _wanted(lines, product_ids) -> dict[int, int]:
    """Units per product (a product may appear on several lines)."""
    wanted: dict[int, int] = defaultdict(int)
    for product_id, line in zip(product_ids, lines, strict=True):
        wanted[product_id] += line["quantity"]
    return wanted


@retry_transient
@transaction.atomic
def _hold_place(*, tenant, hold, lines, product_ids, respect_safety_stock) -> Hold:
    # The savepoint of a nested call stays: a refusal must roll back the
    # hold row without dooming the caller's transaction (callers catch
    # InsufficientStockError and go on). Outermost there is none anyway.
    write = _hold_write_sql if connection.vendor == "postgresql" else _hold_write_orm
    placed, refused = write(
        tenant=tenant, hold=hold, lines=lines, product_ids=product_ids,
        respect_safety_stock=respect_safety_stock, now=timezone.now(),
    )
    if placed is None:
        # The key was used before (or by a placement that committed while
        # this one waited on it): a replay if the request is the same.
        return _hold_replayed(
            tenant=tenant, idempotency_key=hold.idempotency_key, lines=lines,
            product_ids=product_ids,
        )
    if refused:
        _refuse(tenant=tenant, lines=lines, product_ids=product_ids, refused=refused)
    return placed


def _hold_replayed(*, tenant, idempotency_key, lines, product_ids) -> Hold:
    """The hold first placed under the key, if this request is the same."""
    # Committed before this statement began (READ COMMITTED), so visible.
    existing = Hold.objects.prefetch_related("lines__product").get(
        tenant=tenant, idempotency_key=idempotency_key
    )
    requested = sorted(
        (product_id, line["quantity"], line["line_ref"])
        for product_id, line in zip(product_ids, lines, strict=True)
    )
    held = sorted((line.product_id, line.quantity, line.line_ref) for line in existing.lines.all())
    if requested != held:
        raise ConflictError(KEY_REUSED.format(key=idempotency_key))
    return existing


def _refuse(*, tenant, lines, product_ids, refused):
    """Raise for the products that could not be promised (in id order)."""
    if any(sku is None for _, sku in refused):
        # An id of no product of this tenant: the resolver's error.
        products_resolve(tenant=tenant, refs=[line["product"] for line in lines])
    wanted = _wanted(lines, product_ids)
    raise InsufficientStockError(
        INSUFFICIENT_STOCK.format(skus=", ".join(sku for _, sku in refused)),
        {"lines": [{"sku": sku, "requested": wanted[pk]} for pk, sku in refused]},
    )


def stock_hold_place(
    *,
    tenant,
    lines: list[dict],
    source_type: str,
    source_ref: str,
    idempotency_key: str,
    channel: str = "",
    kind: str = HoldKind.PURCHASE_ORDER,
    note: str = "",
    expires_at: datetime | None = None,
    actor=None,
    respect_safety_stock: bool = True,
) -> Hold:
    """Promise units to a source document, every line or none.

    ``lines``: ``[{"sku": "ABC-1", "quantity": 5, "line_ref": "2"}, ...]``
    (``product_id`` or ``product`` instead of ``sku`` also work). Raises
    ``InsufficientStockError`` (409) when any line cannot be promised from
    on-hand minus holds, reservations and (unless told otherwise) safety
    stock. A replay with the same ``idempotency_key`` returns the first
    hold; the key reused for a different request raises ``ConflictError``.
    """
    if not idempotency_key:
        raise ApplicationError(KEY_REQUIRED)
    lines = _lines_normalise(lines)
    hold = Hold(
        tenant=tenant, kind=kind, channel=channel, source_type=source_type,
        source_ref=source_ref, idempotency_key=idempotency_key, note=note,
        expires_at=expires_at, actor_label=actor_label(actor),
    )
    # Field validation needs no database: done once, before the transaction.
    # The idempotency key's uniqueness is the INSERT's business.
    hold.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
    product_ids = _product_ids(tenant=tenant, refs=[line["product"] for line in lines])
    return _hold_place(
        tenant=tenant, hold=hold, lines=lines, product_ids=product_ids,
        respect_safety_stock=respect_safety_stock,
    )


def stock_reserve(
    *,
    tenant,
    lines: list[dict],
    source_ref: str,
    idempotency_key: str,
    channel: str = "web_store",
    source_type: str = "store_order",
    expires_at: datetime | None = None,
    actor=None,
) -> Hold:
    """Reserve units for a web-store order (see ``stock_hold_place``)."""
    return stock_hold_place(
        tenant=tenant, lines=lines, source_type=source_type, source_ref=source_ref,
        idempotency_key=idempotency_key, channel=channel, kind=HoldKind.RESERVATION,
        expires_at=expires_at, actor=actor,
    )


def _holds_close(*, tenant, hold_ids) -> None:
    """Set the status of holds whose lines have no open units left."""
    lines = HoldLine.objects.filter(tenant=tenant, hold_id__in=hold_ids).values_list(
        "hold_id", "open_quantity", "consumed_quantity", "released_quantity"
    )
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for hold_id, open_qty, consumed, released in lines:
        totals[hold_id][0] += open_qty
        totals[hold_id][1] += consumed
        totals[hold_id][2] += released
    now = timezone.now()
    for status in (HoldStatus.CONSUMED, HoldStatus.RELEASED, HoldStatus.CLOSED):
        ids = [
            hold_id for hold_id, (open_qty, consumed, released) in totals.items()
            if open_qty == 0 and status == (
                HoldStatus.CONSUMED if not released else
                HoldStatus.RELEASED if not consumed else HoldStatus.CLOSED
            )
        ]
        if ids:
            Hold.objects.filter(tenant=tenant, pk__in=ids).update(status=status, updated_at=now)


def _take(open_lines: list[HoldLine], product_id: int, line_ref: str, quantity: int | None):
    """Which open lines give ``quantity`` units (all when None): [(line, qty)]."""
    taken = []
    candidates = [
        line for line in open_lines
        if line.product_id == product_id and (not line_ref or line.line_ref == line_ref)
    ]
    remaining = quantity if quantity is not None else sum(c.open_quantity for c in candidates)
    for line in candidates:
        if remaining <= 0:
            break
        share = min(line.open_quantity - getattr(line, "_taken", 0), remaining)
        if share > 0:
            line._taken = getattr(line, "_taken", 0) + share
            taken.append((line, share))
            remaining -= share
    return taken, remaining


def _events_replayed(*, tenant, idempotency_key: str) -> list[HoldEvent] | None:
    if not idempotency_key:
        return None
    events = list(
        HoldEvent.objects.filter(tenant=tenant, idempotency_key=idempotency_key).order_by("line_no")
    )
    return events or None


@retry_transient
@transaction.atomic
def _hold_release(*, tenant, source_type, source_ref, lines, idempotency_key, reason, actor):
    replayed = _events_replayed(tenant=tenant, idempotency_key=idempotency_key)
    if replayed is not None:
        return replayed
    # Levels first (the parent lock), then the hold lines: the fixed order.
    candidates = HoldLine.objects.filter(
        tenant=tenant, hold__source_type=source_type, hold__source_ref=source_ref,
        hold__status=HoldStatus.ACTIVE, open_quantity__gt=0,
    ).values_list("product_id", flat=True)
    stock_levels_lock(tenant=tenant, product_ids=list(candidates))
    open_lines = hold_lines_lock(tenant=tenant, source_type=source_type, source_ref=source_ref)
    wanted = []
    if lines is None:
        wanted = [(line, line.open_quantity) for line in open_lines]
    else:
        products = products_resolve(
            tenant=tenant, refs=[line.get("product", line.get("product_id", line.get("sku")))
                                 for line in lines]
        )
        for line in lines:
            product = products[line.get("product", line.get("product_id", line.get("sku")))]
            quantity = line.get("quantity")
            taken, _missing = _take(
                open_lines, product.pk, str(line.get("line_ref", "")),
                int(quantity) if quantity is not None else None,
            )
            # Releasing more than is open releases what is open: the
            # promise is gone either way.
            wanted.extend(taken)
    now = timezone.now()
    label = actor_label(actor)
    events = []
    held: dict[int, int] = defaultdict(int)
    reserved: dict[int, int] = defaultdict(int)
    for line_no, (line, quantity) in enumerate(wanted):
        line.open_quantity -= quantity
        line.released_quantity += quantity
        line.updated_at = now
        target = reserved if line.hold.kind == HoldKind.RESERVATION else held
        target[line.product_id] += quantity
        events.append(HoldEvent(
            tenant=tenant, line=line, kind=HoldEventKind.RELEASE, quantity=quantity,
            reason=reason, idempotency_key=idempotency_key, line_no=line_no, actor_label=label,
        ))
    if not events:
        return []
    HoldLine.objects.bulk_update(
        [line for line, _ in wanted], ["open_quantity", "released_quantity", "updated_at"]
    )
    for product_id in sorted(set(held) | set(reserved)):
        StockLevel.objects.filter(tenant=tenant, product_id=product_id).update(
            held=F("held") - held[product_id], reserved=F("reserved") - reserved[product_id],
            updated_at=now,
        )
    HoldEvent.objects.bulk_create(events)
    _holds_close(tenant=tenant, hold_ids={line.hold_id for line, _ in wanted})
    atp_change_mark(tenant=tenant, product_ids=set(held) | set(reserved))
    return events


def stock_hold_release(
    *,
    tenant,
    source_type: str,
    source_ref: str,
    lines: list[dict] | None = None,
    idempotency_key: str = "",
    reason: str = "",
    actor=None,
) -> list[HoldEvent]:
    """Give promised units back (PO cancelled or rejected, order cancelled).

    Without ``lines`` every open unit of the source's active holds is
    released (naturally idempotent). With lines
    ``[{"sku": ..., "quantity": n | None, "line_ref": ...}]`` only those;
    pass an ``idempotency_key`` so a replay changes nothing.
    """
    try:
        return _hold_release(
            tenant=tenant, source_type=source_type, source_ref=source_ref, lines=lines,
            idempotency_key=idempotency_key, reason=reason, actor=actor,
        )
    except IntegrityError:
        replayed = _events_replayed(tenant=tenant, idempotency_key=idempotency_key)
        if replayed is None:
            raise
        return replayed


def stock_reservation_release(*, tenant, source_ref: str, source_type: str = "store_order",
                              lines: list[dict] | None = None, idempotency_key: str = "",
                              reason: str = "", actor=None) -> list[HoldEvent]:
    """Cancel a web-store reservation (see ``stock_hold_release``)."""
    return stock_hold_release(
        tenant=tenant, source_type=source_type, source_ref=source_ref, lines=lines,
        idempotency_key=idempotency_key, reason=reason, actor=actor,
    )


@retry_transient
@transaction.atomic
def _hold_consume(*, tenant, source_type, source_ref, lines, idempotency_key, warehouse, actor):
    if StockMovement.objects.filter(tenant=tenant, idempotency_key=idempotency_key).exists():
        return list(
            StockMovement.objects.filter(tenant=tenant, idempotency_key=idempotency_key)
            .order_by("line_no")
        )
    refs = [line.get("product", line.get("product_id", line.get("sku"))) for line in lines]
    products = products_resolve(tenant=tenant, refs=refs)
    product_ids = sorted({products[ref].pk for ref in refs})
    stock_levels_lock(tenant=tenant, product_ids=product_ids)
    # Balances are locked again (no-op, already ours) by movements_apply.
    balances = list(
        StockBalance.objects.select_for_update(of=("self",))
        .filter(tenant=tenant, product_id__in=product_ids, on_hand__gt=0)
        .select_related("lot", "warehouse")
        .order_by("pk")
    )
    open_lines = hold_lines_lock(tenant=tenant, source_type=source_type, source_ref=source_ref)
    site = warehouse_resolve(tenant=tenant, ref=warehouse) if warehouse else None
    # First expiring first out, then by warehouse code.
    balances.sort(key=lambda b: (
        b.lot.expires_on is None if b.lot else True,
        b.lot.expires_on if b.lot and b.lot.expires_on else timezone.now().date(),
        b.warehouse.code, b.pk,
    ))
    free = {b.pk: b.on_hand for b in balances}
    now = timezone.now()
    label = actor_label(actor)
    movement_lines: list[MovementLine] = []
    events: list[HoldEvent] = []
    held: dict[int, int] = defaultdict(int)
    reserved: dict[int, int] = defaultdict(int)
    touched = []
    for ref, line in zip(refs, lines, strict=True):
        product = products[ref]
        quantity = int(line["quantity"])
        if quantity <= 0:
            raise ApplicationError("Shipped quantities must be positive.")
        taken, missing = _take(open_lines, product.pk, str(line.get("line_ref", "")), quantity)
        if missing > 0:
            raise ConflictError(
                NOTHING_HELD.format(
                    sku=product.sku, quantity=quantity, held=quantity - missing,
                    source=f"{source_type} {source_ref}",
                ),
                {"sku": product.sku},
            )
        for hold_line, share in taken:
            hold_line.open_quantity -= share
            hold_line.consumed_quantity += share
            hold_line.updated_at = now
            touched.append(hold_line)
            target = reserved if hold_line.hold.kind == HoldKind.RESERVATION else held
            target[product.pk] += share
            events.append(HoldEvent(
                tenant=tenant, line=hold_line, kind=HoldEventKind.CONSUME, quantity=share,
                idempotency_key=idempotency_key, line_no=len(events), actor_label=label,
            ))
        line_site = (
            warehouse_resolve(tenant=tenant, ref=line["warehouse"]) if line.get("warehouse")
            else site
        )
        lot = (
            lot_resolve(tenant=tenant, product=product, number=line["lot"])
            if line.get("lot") else None
        )
        remaining = quantity
        for balance in balances:
            if remaining == 0:
                break
            if balance.product_id != product.pk or free[balance.pk] <= 0:
                continue
            if line_site and balance.warehouse_id != line_site.pk:
                continue
            if lot and balance.lot_id != lot.pk:
                continue
            share = min(free[balance.pk], remaining)
            free[balance.pk] -= share
            remaining -= share
            movement_lines.append(MovementLine(
                product=product, warehouse=balance.warehouse, lot=balance.lot,
                kind=MovementKind.SHIPMENT, quantity=-share,
            ))
        if remaining:
            raise ConflictError(NOT_ENOUGH_TO_SHIP.format(sku=product.sku, quantity=quantity))
    HoldLine.objects.bulk_update(touched, ["open_quantity", "consumed_quantity", "updated_at"])
    HoldEvent.objects.bulk_create(events)
    movements = movements_apply(
        tenant=tenant, lines=movement_lines, source_type=source_type, source_ref=source_ref,
        idempotency_key=idempotency_key, actor=actor,
        promise_release={pid: (held[pid], reserved[pid]) for pid in set(held) | set(reserved)},
    )
    _holds_close(tenant=tenant, hold_ids={line.hold_id for line in touched})
    return movements


def stock_hold_consume(
    *,
    tenant,
    source_type: str,
    source_ref: str,
    lines: list[dict],
    idempotency_key: str,
    warehouse=None,
    actor=None,
) -> list[StockMovement]:
    """Ship held units: the hold shrinks and shipment movements are written.

    ``lines``: ``[{"sku": ..., "quantity": n, "line_ref": "", "warehouse":
    code?, "lot": number?}]``. Units come from the named warehouse (or
    ``warehouse`` for all lines), first-expiring lot first; without one,
    from any warehouse, FEFO then by warehouse code. Shipping more than is
    held for the source raises ``ConflictError``: hold first. A replay of
    the same ``idempotency_key`` returns the first movements.
    """
    if not idempotency_key:
        raise ApplicationError(KEY_REQUIRED)
    try:
        return _hold_consume(
            tenant=tenant, source_type=source_type, source_ref=source_ref, lines=lines,
            idempotency_key=idempotency_key, warehouse=warehouse, actor=actor,
        )
    except IntegrityError:
        existing = list(
            StockMovement.objects.filter(tenant=tenant, idempotency_key=idempotency_key)
            .order_by("line_no")
        )
        if not existing:
            raise
        return existing


def stock_hold_expire(*, tenant, now: datetime | None = None) -> int:
    """Release every active hold past its ``expires_at``; returns how many."""
    now = now or timezone.now()
    expired = list(
        Hold.objects.filter(tenant=tenant, status=HoldStatus.ACTIVE, expires_at__lte=now)
        .values_list("source_type", "source_ref")
        .distinct()
    )
    for source_type, source_ref in expired:
        stock_hold_release(
            tenant=tenant, source_type=source_type, source_ref=source_ref, reason="expired"
        )
    return len(expired)
