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
replay returns the first result and changes nothing.

Each service reads its request once (``hold_requests``), decides with the
pure functions of ``hold_allocation`` and writes; a placement's write is
one statement (``hold_placement``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from acorn.exceptions import ApplicationError, ConflictError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record, audit_snapshot
from acorn.tenancy import tenant_scope
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
    StockBalance,
    StockLevel,
    StockMovement,
)
from inventory.services.hold_allocation import (
    balances_ship_order,
    balances_take,
    open_lines_take,
    placement_matches,
    units_by_product,
)
from inventory.services.hold_placement import hold_placement_write
from inventory.services.hold_requests import (
    HoldLineRequest,
    hold_line_parse,
    hold_placement_lines_parse,
    product_ids_resolve,
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
KEY_REQUIRED = "An idempotency key is required."
KEY_REUSED = "Idempotency key {key} was used for a different request."
NOTHING_HELD = "{sku}: {quantity} to ship but only {held} held for {source}."
NOT_ENOUGH_TO_SHIP = "{sku}: not enough stock on hand to ship {quantity}."
SHIPPED_NOT_POSITIVE = "Shipped quantities must be positive."


class InsufficientStockError(ConflictError):
    """The request was refused as a whole; ``extra['lines']`` says why."""


@retry_transient
@transaction.atomic
def _hold_place(*, tenant, hold, requests, product_ids, respect_safety_stock) -> Hold:
    # The savepoint of a nested call stays: a refusal must roll back the
    # hold row without dooming the caller's transaction (callers catch
    # InsufficientStockError and go on). Outermost there is none anyway.
    if len(set(product_ids)) > 1:
        # The UPDATE takes its row locks in plan order; two multi-line
        # placements must take theirs in one fixed order or they can
        # deadlock, so lock first, by product id. One line needs no order.
        stock_level_rows_lock(tenant=tenant, product_ids=product_ids)
    placement = hold_placement_write(
        tenant=tenant, hold=hold, requests=requests, product_ids=product_ids,
        respect_safety_stock=respect_safety_stock, now=timezone.now(),
    )
    if placement.hold is None:
        # The key was used before (or by a placement that committed while
        # this one waited on it): a replay if the request is the same.
        return _hold_replayed(
            tenant=tenant, idempotency_key=hold.idempotency_key, requests=requests,
            product_ids=product_ids,
        )
    if placement.refused:
        _refuse(tenant=tenant, requests=requests, product_ids=product_ids,
                refused=placement.refused)
    return placement.hold


def _hold_replayed(*, tenant, idempotency_key, requests, product_ids) -> Hold:
    """The hold first placed under the key, if this request is the same."""
    # Committed before this statement began (READ COMMITTED), so visible.
    existing = Hold.objects.prefetch_related("lines__product").get(
        tenant=tenant, idempotency_key=idempotency_key
    )
    requested = [
        (product_id, request.quantity, request.line_ref)
        for product_id, request in zip(product_ids, requests, strict=True)
    ]
    placed = [(line.product_id, line.quantity, line.line_ref) for line in existing.lines.all()]
    if not placement_matches(requested, placed):
        raise ConflictError(KEY_REUSED.format(key=idempotency_key))
    return existing


def _refuse(*, tenant, requests, product_ids, refused):
    """Raise for the products that could not be promised (in id order)."""
    if any(sku is None for _, sku in refused):
        # An id of no product of this tenant: the resolver's error.
        products_resolve(tenant=tenant, refs=[request.product for request in requests])
    wanted = units_by_product(product_ids, [request.quantity for request in requests])
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
    requests = hold_placement_lines_parse(lines)
    hold = Hold(
        tenant=tenant, kind=kind, channel=channel, source_type=source_type,
        source_ref=source_ref, idempotency_key=idempotency_key, note=note,
        expires_at=expires_at, actor_label=actor_label(actor),
    )
    # Field validation needs no database: done once, before the transaction.
    # The idempotency key's uniqueness is the INSERT's business.
    hold.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
    product_ids = product_ids_resolve(tenant=tenant, refs=[r.product for r in requests])
    hold = _hold_place(
        tenant=tenant, hold=hold, requests=requests, product_ids=product_ids,
        respect_safety_stock=respect_safety_stock,
    )
    # A manual hold is a person's decision and audited here; the other kinds
    # are audited by the service of their source document (a PO's
    # acknowledgement, a store order), which keeps the hot path to one write.
    if kind == HoldKind.MANUAL:
        with tenant_scope(tenant):
            audit_record(actor=actor, action=AuditAction.CREATE, instance=hold,
                         after=audit_snapshot(hold), summary="Manual hold placed")
    return hold


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


def _events_replayed(*, tenant, idempotency_key: str) -> list[HoldEvent] | None:
    if not idempotency_key:
        return None
    events = list(
        HoldEvent.objects.filter(tenant=tenant, idempotency_key=idempotency_key).order_by("line_no")
    )
    return events or None


@retry_transient
@transaction.atomic
def _hold_release(*, tenant, source_type, source_ref, requests, idempotency_key, reason,
                  actor):
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
    if requests is None:
        wanted = [(line, line.open_quantity) for line in open_lines]
    else:
        products = products_resolve(tenant=tenant, refs=[r.product for r in requests])
        taken: dict[int, int] = {}
        for request in requests:
            takes, _missing = open_lines_take(
                open_lines, taken=taken, product_id=products[request.product].pk,
                line_ref=request.line_ref, quantity=request.quantity,
            )
            # Releasing more than is open releases what is open: the
            # promise is gone either way.
            wanted.extend((take.line, take.quantity) for take in takes)
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
            tenant=tenant, source_type=source_type, source_ref=source_ref,
            requests=None if lines is None else [hold_line_parse(line) for line in lines],
            idempotency_key=idempotency_key, reason=reason, actor=actor,
        )
    except IntegrityError:
        replayed = _events_replayed(tenant=tenant, idempotency_key=idempotency_key)
        if replayed is None:
            raise
        return replayed


@transaction.atomic
def hold_release(*, tenant, hold_id: int, reason: str = "", actor=None) -> Hold:
    """Release every open unit of one hold's source, with the hold's audit entry."""
    hold = Hold.objects.filter(tenant=tenant, pk=hold_id).first()
    if hold is None:
        raise NotFoundError("No such hold.")
    before = audit_snapshot(hold)
    stock_hold_release(
        tenant=tenant, source_type=hold.source_type, source_ref=hold.source_ref,
        reason=reason, actor=actor,
    )
    hold.refresh_from_db()
    with tenant_scope(tenant):
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=hold, before=before,
                     after=audit_snapshot(hold), summary="Hold released")
    return hold


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
def _hold_consume(*, tenant, source_type, source_ref, requests: list[HoldLineRequest],
                  idempotency_key, warehouse, actor):
    if StockMovement.objects.filter(tenant=tenant, idempotency_key=idempotency_key).exists():
        return list(
            StockMovement.objects.filter(tenant=tenant, idempotency_key=idempotency_key)
            .order_by("line_no")
        )
    products = products_resolve(tenant=tenant, refs=[r.product for r in requests])
    product_ids = sorted({products[r.product].pk for r in requests})
    stock_levels_lock(tenant=tenant, product_ids=product_ids)
    # Balances are locked again (no-op, already ours) by movements_apply.
    balances = balances_ship_order(
        StockBalance.objects.select_for_update(of=("self",))
        .filter(tenant=tenant, product_id__in=product_ids, on_hand__gt=0)
        .select_related("lot", "warehouse")
        .order_by("pk"),
        today=timezone.now().date(),
    )
    open_lines = hold_lines_lock(tenant=tenant, source_type=source_type, source_ref=source_ref)
    site = warehouse_resolve(tenant=tenant, ref=warehouse) if warehouse else None
    free = {b.pk: b.on_hand for b in balances}
    taken: dict[int, int] = {}
    now = timezone.now()
    label = actor_label(actor)
    movement_lines: list[MovementLine] = []
    events: list[HoldEvent] = []
    held: dict[int, int] = defaultdict(int)
    reserved: dict[int, int] = defaultdict(int)
    touched = []
    for request in requests:
        product = products[request.product]
        quantity = request.quantity
        if quantity is None or quantity <= 0:
            raise ApplicationError(SHIPPED_NOT_POSITIVE)
        takes, missing = open_lines_take(
            open_lines, taken=taken, product_id=product.pk, line_ref=request.line_ref,
            quantity=quantity,
        )
        if missing > 0:
            raise ConflictError(
                NOTHING_HELD.format(
                    sku=product.sku, quantity=quantity, held=quantity - missing,
                    source=f"{source_type} {source_ref}",
                ),
                {"sku": product.sku},
            )
        for take in takes:
            hold_line = take.line
            hold_line.open_quantity -= take.quantity
            hold_line.consumed_quantity += take.quantity
            hold_line.updated_at = now
            touched.append(hold_line)
            target = reserved if hold_line.hold.kind == HoldKind.RESERVATION else held
            target[product.pk] += take.quantity
            events.append(HoldEvent(
                tenant=tenant, line=hold_line, kind=HoldEventKind.CONSUME,
                quantity=take.quantity, idempotency_key=idempotency_key, line_no=len(events),
                actor_label=label,
            ))
        line_site = (
            warehouse_resolve(tenant=tenant, ref=request.warehouse) if request.warehouse
            else site
        )
        lot = (
            lot_resolve(tenant=tenant, product=product, number=request.lot)
            if request.lot else None
        )
        shares, remaining = balances_take(
            balances, free=free, product_id=product.pk, quantity=quantity,
            warehouse_id=line_site.pk if line_site else None, lot_id=lot.pk if lot else None,
        )
        if remaining:
            raise ConflictError(NOT_ENOUGH_TO_SHIP.format(sku=product.sku, quantity=quantity))
        movement_lines.extend(
            MovementLine(product=product, warehouse=balance.warehouse, lot=balance.lot,
                         kind=MovementKind.SHIPMENT, quantity=-share)
            for balance, share in shares
        )
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
            tenant=tenant, source_type=source_type, source_ref=source_ref,
            requests=[hold_line_parse(line) for line in lines],
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
