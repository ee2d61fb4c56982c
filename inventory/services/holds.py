"""Holds and reservations: units promised to a source document.

- Amazon PO lines: ``stock_hold_place`` on acceptance (kind
  ``purchase_order``), ``stock_hold_consume`` on shipment (writes the
  shipment movements), ``stock_hold_release`` on cancellation/rejection.
- Web-store orders: ``stock_reserve``, then the same consume/release.
- Manual holds: ``stock_hold_place(kind=HoldKind.MANUAL)``.

A placement is all lines or none. Each line is one conditional UPDATE of
the product's ``StockLevel`` row (``on_hand >= held + reserved + safety
+ qty``), taken in product id order; PostgreSQL re-checks the condition
on the newest row version after a wait, so concurrent placements cannot
both see the same free units. The CHECK constraint ``on_hand >= held +
reserved`` is the backstop. Every call carries an idempotency key: a
replay returns the first result and changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from acorn.exceptions import ApplicationError, ConflictError
from inventory.locks import hold_lines_lock, retry_transient, stock_levels_lock
from inventory.models import (
    Hold,
    HoldEvent,
    HoldEventKind,
    HoldKind,
    HoldLine,
    HoldStatus,
    MovementKind,
    StockBalance,
    StockLevel,
    StockMovement,
)
from inventory.services.outbox import atp_change_mark
from inventory.services.stock import (
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


def _hold_existing(*, tenant, idempotency_key: str) -> Hold | None:
    return (
        Hold.objects.filter(tenant=tenant, idempotency_key=idempotency_key)
        .prefetch_related("lines__product")
        .first()
    )


@retry_transient
@transaction.atomic
def _hold_place(
    *, tenant, kind, lines, source_type, source_ref, idempotency_key, channel, note,
    expires_at, actor, respect_safety_stock,
) -> Hold:
    # One transaction from the first read: on PostgreSQL each statement
    # in autocommit would cost its own BEGIN, set_config and COMMIT.
    existing = _hold_existing(tenant=tenant, idempotency_key=idempotency_key)
    if existing is not None:
        if not _same_request(tenant=tenant, hold=existing, lines=lines):
            raise ConflictError(KEY_REUSED.format(key=idempotency_key))
        return existing
    products = products_resolve(tenant=tenant, refs=[line["product"] for line in lines])
    _precheck(
        tenant=tenant, lines=lines, products=products, respect_safety_stock=respect_safety_stock
    )
    hold = Hold(
        tenant=tenant, kind=kind, channel=channel, source_type=source_type,
        source_ref=source_ref, idempotency_key=idempotency_key, note=note,
        expires_at=expires_at, actor_label=actor_label(actor),
    )
    # The idempotency key's unique constraint is checked by the INSERT
    # itself: a concurrent replay waits for this transaction, then fails.
    hold.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
    hold.save()
    wanted: dict[int, int] = defaultdict(int)
    hold_lines = []
    for line in lines:
        product = products[line["product"]]
        wanted[product.pk] += line["quantity"]
        hold_lines.append(
            HoldLine(
                tenant=tenant, hold=hold, product=product, line_ref=line["line_ref"],
                quantity=line["quantity"], open_quantity=line["quantity"],
            )
        )
    column = "reserved" if kind == HoldKind.RESERVATION else "held"
    safety = {p.pk: p.safety_stock for p in products.values()} if respect_safety_stock else {}
    # The lines go in before the level rows are touched: a level row lock
    # is then held only for the UPDATEs, the outbox upsert and COMMIT.
    HoldLine.objects.bulk_create(hold_lines)
    now = timezone.now()
    refused = []
    for product_id in sorted(wanted):
        quantity = wanted[product_id]
        floor = quantity + safety.get(product_id, 0)
        updated = StockLevel.objects.filter(
            tenant=tenant, product_id=product_id,
            on_hand__gte=F("held") + F("reserved") + floor,
        ).update(**{column: F(column) + quantity, "updated_at": now})
        if not updated:
            refused.append(product_id)
            # All or nothing: stop at the first refusal; the transaction
            # rolls back whatever was promised before it.
            break
    if refused:
        _refuse(products=products, wanted=wanted, refused=refused)
    atp_change_mark(tenant=tenant, product_ids=wanted)
    return hold


def _refuse(*, products, wanted, refused):
    by_pk = {p.pk: p for p in products.values()}
    raise InsufficientStockError(
        INSUFFICIENT_STOCK.format(skus=", ".join(by_pk[pk].sku for pk in refused)),
        {"lines": [{"sku": by_pk[pk].sku, "requested": wanted[pk]} for pk in refused]},
    )


def _precheck(*, tenant, lines, products, respect_safety_stock: bool) -> None:
    """Refuse early, without a lock, what is already visibly unavailable.

    A read of committed rows only: it can refuse a request that a release
    committing this instant would have allowed (as if it came a moment
    earlier), never allow one; the conditional UPDATE stays the judge.
    """
    wanted: dict[int, int] = defaultdict(int)
    for line in lines:
        wanted[products[line["product"]].pk] += line["quantity"]
    refused = [
        product_id
        for product_id, on_hand, held, reserved, safety in StockLevel.objects.filter(
            tenant=tenant, product_id__in=list(wanted)
        ).values_list("product_id", "on_hand", "held", "reserved", "product__safety_stock")
        if on_hand - held - reserved - (safety if respect_safety_stock else 0) < wanted[product_id]
    ]
    if refused:
        _refuse(products=products, wanted=wanted, refused=refused)


def _same_request(*, tenant, hold: Hold, lines: list[dict]) -> bool:
    products = products_resolve(tenant=tenant, refs=[line["product"] for line in lines])
    requested = sorted(
        (products[line["product"]].pk, line["quantity"], line["line_ref"]) for line in lines
    )
    held = sorted((line.product_id, line.quantity, line.line_ref) for line in hold.lines.all())
    return requested == held


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
    try:
        return _hold_place(
            tenant=tenant, kind=kind, lines=lines, source_type=source_type,
            source_ref=source_ref, idempotency_key=idempotency_key, channel=channel,
            note=note, expires_at=expires_at, actor=actor,
            respect_safety_stock=respect_safety_stock,
        )
    except IntegrityError:
        # A concurrent replay won the INSERT of the idempotency key.
        existing = _hold_existing(tenant=tenant, idempotency_key=idempotency_key)
        if existing is None:
            raise
    if not _same_request(tenant=tenant, hold=existing, lines=lines):
        raise ConflictError(KEY_REUSED.format(key=idempotency_key))
    return existing


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
