"""The stock ledger: receipts, adjustments, transfers, shipments, returns
and counts, each a set of append-only movements.

On-hand is kept twice, in step: per location and lot (``StockBalance``)
and per product (``StockLevel``, the row holds are placed against). Both
change in the same transaction as the movements, under the locks of
inventory/locks.py; ``stock_consistency_check`` recomputes them from the
ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from acorn.exceptions import ApplicationError, ConflictError
from acorn.models import AuditAction
from acorn.services import audit_record
from acorn.tenancy import tenant_scope
from inventory.locks import retry_transient, stock_balances_lock, stock_levels_lock
from inventory.models import (
    Lot,
    MovementKind,
    Product,
    StockBalance,
    StockLevel,
    StockMovement,
    Warehouse,
)
from inventory.services.outbox import atp_change_mark

NOT_ENOUGH_AT_LOCATION = "Not enough stock of {sku} at {warehouse}: {on_hand} on hand."
OVER_PROMISED = (
    "{sku}: {promised} units are held or reserved; on-hand cannot drop to {on_hand}. "
    "Release or reduce holds first."
)
LOT_REQUIRED = "{sku} is lot-tracked: give a lot number."
LOT_NOT_TRACKED = "{sku} is not lot-tracked: leave the lot empty."
UNKNOWN_LOT = "{sku} has no lot {lot}."
UNKNOWN_PRODUCT = "Unknown product {ref}."
UNKNOWN_WAREHOUSE = "Unknown warehouse {ref}."
QUANTITY_POSITIVE = "The quantity must be positive."
QUANTITY_NONZERO = "An adjustment must change the quantity."
SAME_WAREHOUSE = "Transfer between two different warehouses."


@dataclass
class MovementLine:
    """One intended change, before locks turn a count into a delta."""

    product: Product
    warehouse: Warehouse
    kind: str
    quantity: int = 0
    lot: Lot | None = None
    counted_quantity: int | None = None


def actor_label(actor) -> str:
    return (getattr(actor, "get_username", lambda: "")() or "system")[:200] if actor else "system"


def product_resolve(*, tenant, ref) -> Product:
    """A product from an instance, a pk or a SKU, inside ``tenant``."""
    if isinstance(ref, Product):
        if ref.tenant_id != tenant.pk:
            raise ApplicationError(UNKNOWN_PRODUCT.format(ref=ref.pk))
        return ref
    queryset = Product.objects.filter(tenant=tenant)
    lookup = {"pk": ref} if isinstance(ref, int) else {"sku": ref}
    product = queryset.filter(**lookup).first()
    if product is None:
        raise ApplicationError(UNKNOWN_PRODUCT.format(ref=ref), {"product": str(ref)})
    return product


def products_resolve(*, tenant, refs) -> dict:
    """Products for many refs (pks or SKUs) in one query, keyed by ref."""
    skus = {ref for ref in refs if isinstance(ref, str)}
    ids = {ref for ref in refs if isinstance(ref, int)}
    found = list(Product.objects.filter(tenant=tenant, sku__in=skus)) if skus else []
    if ids:
        found += list(Product.objects.filter(tenant=tenant, pk__in=ids))
    by_ref = {}
    for product in found:
        by_ref[product.sku] = product
        by_ref[product.pk] = product
    missing = [ref for ref in refs if ref not in by_ref and not isinstance(ref, Product)]
    if missing:
        raise ApplicationError(
            UNKNOWN_PRODUCT.format(ref=", ".join(str(m) for m in missing)),
            {"products": [str(m) for m in missing]},
        )
    for ref in refs:
        if isinstance(ref, Product):
            if ref.tenant_id != tenant.pk:
                raise ApplicationError(UNKNOWN_PRODUCT.format(ref=ref.pk))
            by_ref[ref] = ref
    return by_ref


def warehouse_resolve(*, tenant, ref) -> Warehouse:
    if isinstance(ref, Warehouse):
        if ref.tenant_id != tenant.pk:
            raise ApplicationError(UNKNOWN_WAREHOUSE.format(ref=ref.pk))
        return ref
    queryset = Warehouse.objects.filter(tenant=tenant)
    lookup = {"pk": ref} if isinstance(ref, int) else {"code": ref}
    warehouse = queryset.filter(**lookup).first()
    if warehouse is None:
        raise ApplicationError(UNKNOWN_WAREHOUSE.format(ref=ref), {"warehouse": str(ref)})
    return warehouse


def lot_resolve(
    *, tenant, product: Product, number: str, expires_on: date | None = None, create: bool = False
) -> Lot | None:
    number = (number or "").strip()
    if not product.is_lot_tracked:
        if number:
            raise ApplicationError(LOT_NOT_TRACKED.format(sku=product.sku))
        return None
    if not number:
        raise ApplicationError(LOT_REQUIRED.format(sku=product.sku))
    lot = Lot.objects.filter(tenant=tenant, product=product, number=number).first()
    if lot is None:
        if not create:
            raise ApplicationError(UNKNOWN_LOT.format(sku=product.sku, lot=number))
        lot = Lot(tenant=tenant, product=product, number=number, expires_on=expires_on)
        lot.full_clean(exclude=["tenant", "product"], validate_constraints=False)
        try:
            with transaction.atomic():
                lot.save()
        except IntegrityError:
            lot = Lot.objects.get(tenant=tenant, product=product, number=number)
    elif expires_on and lot.expires_on is None:
        lot.expires_on = expires_on
        lot.save(update_fields=["expires_on", "updated_at"])
    return lot


def movements_apply(
    *,
    tenant,
    lines: list[MovementLine],
    source_type: str = "",
    source_ref: str = "",
    reason: str = "",
    idempotency_key: str = "",
    actor=None,
    promise_release: dict[int, tuple[int, int]] | None = None,
) -> list[StockMovement]:
    """Lock, check and write movements; the core of every ledger service.

    ``promise_release`` maps product id to (held, reserved) units to take
    off the level with the same stroke (a hold consumed by a shipment).
    Runs inside the caller's transaction; the caller owns atomicity.
    """
    if idempotency_key:
        existing = list(
            StockMovement.objects.filter(tenant=tenant, idempotency_key=idempotency_key).order_by(
                "line_no"
            )
        )
        if existing:
            return existing
    promise_release = promise_release or {}
    product_ids = {line.product.pk for line in lines} | set(promise_release)
    levels = stock_levels_lock(tenant=tenant, product_ids=product_ids)
    StockBalance.objects.bulk_create(
        [
            StockBalance(
                tenant=tenant, product=line.product, warehouse=line.warehouse, lot=line.lot
            )
            for line in lines
        ],
        ignore_conflicts=True,
    )
    balances = {
        (b.product_id, b.warehouse_id, b.lot_id): b
        for b in stock_balances_lock(tenant=tenant, product_ids=product_ids)
    }
    now = timezone.now()
    label = actor_label(actor)
    movements = []
    for line_no, line in enumerate(lines):
        balance = balances[(line.product.pk, line.warehouse.pk, line.lot.pk if line.lot else None)]
        delta = line.quantity
        if line.kind == MovementKind.COUNT:
            delta = line.counted_quantity - balance.on_hand
        if balance.on_hand + delta < 0:
            raise ConflictError(
                NOT_ENOUGH_AT_LOCATION.format(
                    sku=line.product.sku, warehouse=line.warehouse.code, on_hand=balance.on_hand
                ),
                {"sku": line.product.sku, "warehouse": line.warehouse.code},
            )
        balance.on_hand += delta
        balance.updated_at = now
        levels[line.product.pk].on_hand += delta
        movements.append(
            StockMovement(
                tenant=tenant, product=line.product, warehouse=line.warehouse, lot=line.lot,
                kind=line.kind, quantity=delta, counted_quantity=line.counted_quantity,
                source_type=source_type, source_ref=source_ref, reason=reason,
                idempotency_key=idempotency_key, line_no=line_no, actor_label=label,
            )
        )
    for product_id, (held, reserved) in promise_release.items():
        levels[product_id].held -= held
        levels[product_id].reserved -= reserved
    for level in levels.values():
        level.updated_at = now
        if level.on_hand < level.held + level.reserved:
            sku = next(line.product.sku for line in lines if line.product.pk == level.product_id)
            raise ConflictError(
                OVER_PROMISED.format(
                    sku=sku, promised=level.held + level.reserved, on_hand=level.on_hand
                ),
                {"sku": sku},
            )
    for movement in movements:
        # Field validation only: foreign keys were resolved inside the
        # tenant above, and the database enforces the constraints.
        movement.full_clean(
            exclude=["tenant", "product", "warehouse", "lot"], validate_constraints=False,
            validate_unique=False,
        )
    StockBalance.objects.bulk_update(list(balances.values()), ["on_hand", "updated_at"])
    StockLevel.objects.bulk_update(
        list(levels.values()), ["on_hand", "held", "reserved", "updated_at"]
    )
    StockMovement.objects.bulk_create(movements)
    atp_change_mark(tenant=tenant, product_ids=product_ids)
    return movements


def _movement_audit(*, tenant, actor, kind: str, product, warehouse, quantity: int,
                    reason: str, movements) -> list[StockMovement]:
    """The audit entry of a receipt, adjustment or count; returns ``movements``."""
    with tenant_scope(tenant):
        audit_record(
            actor=actor, action=AuditAction.ACTION, instance=product,
            summary=f"Stock {kind} at {warehouse.code}: "
                    f"{', '.join(f'{m.quantity:+d}' for m in movements)}",
            after={"kind": kind, "warehouse": warehouse.code, "quantity": quantity,
                   "reason": reason},
        )
    return movements


def _idempotent(func):
    """Answer a concurrent replay (same idempotency key) with the winner's rows."""

    def wrapper(*, tenant, idempotency_key: str = "", **kwargs):
        try:
            return func(tenant=tenant, idempotency_key=idempotency_key, **kwargs)
        except IntegrityError:
            if not idempotency_key:
                raise
            existing = list(
                StockMovement.objects.filter(
                    tenant=tenant, idempotency_key=idempotency_key
                ).order_by("line_no")
            )
            if not existing:
                raise
            return existing

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


@_idempotent
@retry_transient
@transaction.atomic
def stock_receive(
    *,
    tenant,
    product,
    warehouse,
    quantity: int,
    lot_number: str = "",
    expires_on: date | None = None,
    source_type: str = "receipt",
    source_ref: str = "",
    idempotency_key: str = "",
    reason: str = "",
    actor=None,
) -> list[StockMovement]:
    """Goods in: ``quantity`` units at ``warehouse`` (a lot if tracked)."""
    if quantity <= 0:
        raise ApplicationError(QUANTITY_POSITIVE)
    product = product_resolve(tenant=tenant, ref=product)
    warehouse = warehouse_resolve(tenant=tenant, ref=warehouse)
    lot = lot_resolve(
        tenant=tenant, product=product, number=lot_number, expires_on=expires_on, create=True
    )
    movements = movements_apply(
        tenant=tenant,
        lines=[MovementLine(product=product, warehouse=warehouse, lot=lot,
                            kind=MovementKind.RECEIPT, quantity=quantity)],
        source_type=source_type, source_ref=source_ref, reason=reason,
        idempotency_key=idempotency_key, actor=actor,
    )
    return _movement_audit(tenant=tenant, actor=actor, kind="receipt", product=product,
                           warehouse=warehouse, quantity=quantity, reason=reason,
                           movements=movements)


@_idempotent
@retry_transient
@transaction.atomic
def stock_return(
    *,
    tenant,
    product,
    warehouse,
    quantity: int,
    lot_number: str = "",
    source_type: str = "return",
    source_ref: str = "",
    idempotency_key: str = "",
    reason: str = "",
    actor=None,
) -> list[StockMovement]:
    """A customer return put back into sellable stock."""
    if quantity <= 0:
        raise ApplicationError(QUANTITY_POSITIVE)
    product = product_resolve(tenant=tenant, ref=product)
    warehouse = warehouse_resolve(tenant=tenant, ref=warehouse)
    lot = lot_resolve(tenant=tenant, product=product, number=lot_number, create=True)
    return movements_apply(
        tenant=tenant,
        lines=[MovementLine(product=product, warehouse=warehouse, lot=lot,
                            kind=MovementKind.RETURN, quantity=quantity)],
        source_type=source_type, source_ref=source_ref, reason=reason,
        idempotency_key=idempotency_key, actor=actor,
    )


@_idempotent
@retry_transient
@transaction.atomic
def stock_adjust(
    *,
    tenant,
    product,
    warehouse,
    quantity: int,
    reason: str,
    lot_number: str = "",
    idempotency_key: str = "",
    actor=None,
) -> list[StockMovement]:
    """A signed correction (damage, found stock) with its reason."""
    if quantity == 0:
        raise ApplicationError(QUANTITY_NONZERO)
    product = product_resolve(tenant=tenant, ref=product)
    warehouse = warehouse_resolve(tenant=tenant, ref=warehouse)
    lot = lot_resolve(tenant=tenant, product=product, number=lot_number, create=quantity > 0)
    movements = movements_apply(
        tenant=tenant,
        lines=[MovementLine(product=product, warehouse=warehouse, lot=lot,
                            kind=MovementKind.ADJUSTMENT, quantity=quantity)],
        source_type="adjustment", reason=reason, idempotency_key=idempotency_key, actor=actor,
    )
    return _movement_audit(tenant=tenant, actor=actor, kind="adjustment", product=product,
                           warehouse=warehouse, quantity=quantity, reason=reason,
                           movements=movements)


@_idempotent
@retry_transient
@transaction.atomic
def stock_count(
    *,
    tenant,
    product,
    warehouse,
    counted_quantity: int,
    lot_number: str = "",
    reason: str = "",
    idempotency_key: str = "",
    actor=None,
) -> list[StockMovement]:
    """A physical count: on-hand at the location becomes what was counted."""
    if counted_quantity < 0:
        raise ApplicationError("A count cannot be negative.")
    product = product_resolve(tenant=tenant, ref=product)
    warehouse = warehouse_resolve(tenant=tenant, ref=warehouse)
    lot = lot_resolve(tenant=tenant, product=product, number=lot_number, create=True)
    movements = movements_apply(
        tenant=tenant,
        lines=[MovementLine(product=product, warehouse=warehouse, lot=lot,
                            kind=MovementKind.COUNT, counted_quantity=counted_quantity)],
        source_type="count", reason=reason, idempotency_key=idempotency_key, actor=actor,
    )
    return _movement_audit(tenant=tenant, actor=actor, kind="count", product=product,
                           warehouse=warehouse, quantity=counted_quantity, reason=reason,
                           movements=movements)


@_idempotent
@retry_transient
@transaction.atomic
def stock_transfer(
    *,
    tenant,
    product,
    from_warehouse,
    to_warehouse,
    quantity: int,
    lot_number: str = "",
    reason: str = "",
    idempotency_key: str = "",
    actor=None,
) -> list[StockMovement]:
    """Move units between locations: two movements, net zero on-hand."""
    if quantity <= 0:
        raise ApplicationError(QUANTITY_POSITIVE)
    product = product_resolve(tenant=tenant, ref=product)
    source = warehouse_resolve(tenant=tenant, ref=from_warehouse)
    target = warehouse_resolve(tenant=tenant, ref=to_warehouse)
    if source.pk == target.pk:
        raise ApplicationError(SAME_WAREHOUSE)
    lot = lot_resolve(tenant=tenant, product=product, number=lot_number)
    return movements_apply(
        tenant=tenant,
        lines=[
            MovementLine(product=product, warehouse=source, lot=lot,
                         kind=MovementKind.TRANSFER, quantity=-quantity),
            MovementLine(product=product, warehouse=target, lot=lot,
                         kind=MovementKind.TRANSFER, quantity=quantity),
        ],
        source_type="transfer", reason=reason, idempotency_key=idempotency_key, actor=actor,
    )
