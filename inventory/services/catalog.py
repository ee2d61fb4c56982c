"""Products, warehouses, suppliers, channel rules and inbound supply."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from acorn.exceptions import NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record, audit_snapshot, model_update
from acorn.tenancy import tenant_scope
from inventory.models import (
    ChannelRule,
    InboundStatus,
    InboundSupply,
    Product,
    StockLevel,
    Supplier,
    Warehouse,
)
from inventory.services.outbox import atp_change_mark, atp_change_mark_all
from inventory.services.stock import product_resolve, warehouse_resolve

PRODUCT_FIELDS = [
    "name", "gtin", "asin", "case_pack", "unit_size", "weight_grams", "hs_code",
    "country_of_origin", "is_lot_tracked", "safety_stock", "supplier", "moq_units", "is_active",
]


@transaction.atomic
def product_create(*, tenant, sku: str, name: str, actor=None, **fields) -> Product:
    """A product and its (empty) stock level row."""
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown product fields: {sorted(unknown)}")
    product = Product(tenant=tenant, sku=sku, name=name, **fields)
    product.full_clean()
    product.save()
    level = StockLevel(tenant=tenant, product=product)
    level.save()
    with tenant_scope(tenant):
        audit_record(actor=actor, action=AuditAction.CREATE, instance=product,
                     after=audit_snapshot(product), summary="Product created")
    return product


@transaction.atomic
def product_update(*, tenant, product, data: dict) -> tuple[Product, bool]:
    product = product_resolve(tenant=tenant, ref=product)
    safety_before = product.safety_stock
    product, changed = model_update(instance=product, fields=PRODUCT_FIELDS, data=data)
    if product.safety_stock != safety_before:
        atp_change_mark(tenant=tenant, product_ids=[product.pk])
    return product, changed


@transaction.atomic
def warehouse_create(*, tenant, code: str, name: str, country: str = "",
                     actor=None) -> Warehouse:
    warehouse = Warehouse(tenant=tenant, code=code, name=name, country=country)
    warehouse.full_clean()
    warehouse.save()
    with tenant_scope(tenant):
        audit_record(actor=actor, action=AuditAction.CREATE, instance=warehouse,
                     after=audit_snapshot(warehouse), summary="Warehouse created")
    return warehouse


SUPPLIER_FIELDS = ["name", "lead_time_days", "moq_units", "case_pack"]


@transaction.atomic
def supplier_create(
    *,
    tenant,
    code: str,
    name: str,
    lead_time_days: int = 30,
    moq_units: int = 0,
    case_pack: int = 1,
    actor=None,
) -> Supplier:
    supplier = Supplier(
        tenant=tenant,
        code=code,
        name=name,
        lead_time_days=lead_time_days,
        moq_units=moq_units,
        case_pack=case_pack,
    )
    supplier.full_clean()
    supplier.save()
    with tenant_scope(tenant):
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            instance=supplier,
            after=audit_snapshot(supplier),
            summary="Supplier created",
        )
    return supplier


@transaction.atomic
def supplier_update(*, tenant, supplier_id: int, data: dict, actor=None) -> Supplier:
    """Change a supplier's terms; planning uses them on its next run."""
    supplier = Supplier.objects.filter(tenant=tenant, pk=supplier_id).first()
    if supplier is None:
        raise NotFoundError("No such supplier.")
    before = audit_snapshot(supplier)
    supplier, changed = model_update(instance=supplier, fields=SUPPLIER_FIELDS, data=data)
    if changed:
        with tenant_scope(tenant):
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                instance=supplier,
                before=before,
                after=audit_snapshot(supplier),
            )
    return supplier


@transaction.atomic
def channel_rule_set(
    *,
    tenant,
    channel: str,
    product=None,
    allocation_percent: Decimal = Decimal("100"),
    keep_back: int = 0,
    max_listed: int | None = None,
    zero_at: int = 0,
    include_inbound: bool = False,
    inbound_horizon_days: int = 0,
    actor=None,
) -> ChannelRule:
    """Create or change the channel's default rule, or one product's."""
    product = product_resolve(tenant=tenant, ref=product) if product is not None else None
    rule = ChannelRule.objects.filter(tenant=tenant, channel=channel, product=product).first()
    action = AuditAction.UPDATE if rule else AuditAction.CREATE
    rule = rule or ChannelRule(tenant=tenant, channel=channel, product=product)
    before = audit_snapshot(rule) if action == AuditAction.UPDATE else {}
    rule.allocation_percent = allocation_percent
    rule.keep_back = keep_back
    rule.max_listed = max_listed
    rule.zero_at = zero_at
    rule.include_inbound = include_inbound
    rule.inbound_horizon_days = inbound_horizon_days
    rule.full_clean(exclude=["tenant", "product"], validate_constraints=False)
    rule.save()
    _channel_rule_changed(tenant=tenant, product=product)
    with tenant_scope(tenant):
        audit_record(
            actor=actor, action=action, instance=rule, before=before, after=audit_snapshot(rule)
        )
    return rule


def _channel_rule_changed(*, tenant, product) -> None:
    # A default rule moves every product's ATP; a product rule only its own.
    if product is None:
        atp_change_mark_all(tenant=tenant)
    else:
        atp_change_mark(tenant=tenant, product_ids=[product.pk])


@transaction.atomic
def channel_rule_delete(*, tenant, rule_id: int, actor=None) -> None:
    """Remove a rule: the product falls back to the channel default (or 100 %)."""
    rule = ChannelRule.objects.select_related("product").filter(tenant=tenant, pk=rule_id).first()
    if rule is None:
        raise NotFoundError("No such channel rule.")
    before = audit_snapshot(rule)
    product = rule.product
    rule.delete()
    _channel_rule_changed(tenant=tenant, product=product)
    with tenant_scope(tenant):
        audit_record(
            actor=actor,
            action=AuditAction.DELETE,
            object_type="inventory.ChannelRule",
            object_id=str(rule_id),
            object_repr=f"{before['channel']} {product.sku if product else '*'}",
            before=before,
        )


@transaction.atomic
def inbound_supply_upsert(
    *, tenant, product, warehouse, quantity: int, expected_on: date, reference: str,
    status: str = InboundStatus.OPEN, actor=None,
) -> InboundSupply:
    """Record (or update) stock on its way, keyed by reference and product."""
    product = product_resolve(tenant=tenant, ref=product)
    warehouse = warehouse_resolve(tenant=tenant, ref=warehouse)
    existing = InboundSupply.objects.filter(
        tenant=tenant, reference=reference, product=product
    ).first()
    before = audit_snapshot(existing) if existing else {}
    inbound = existing or InboundSupply(tenant=tenant, reference=reference, product=product)
    inbound.warehouse = warehouse
    inbound.quantity = quantity
    inbound.expected_on = expected_on
    inbound.status = status
    inbound.full_clean(exclude=["tenant", "product", "warehouse"], validate_constraints=False)
    inbound.save()
    atp_change_mark(tenant=tenant, product_ids=[product.pk])
    with tenant_scope(tenant):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE if existing else AuditAction.CREATE,
            instance=inbound,
            before=before,
            after=audit_snapshot(inbound),
        )
    return inbound


@transaction.atomic
def inbound_supply_status_set(*, tenant, inbound_id: int, status: str, actor=None):
    """Close an expected receipt as received or cancelled (or reopen it)."""
    inbound = InboundSupply.objects.filter(tenant=tenant, pk=inbound_id).first()
    if inbound is None:
        raise NotFoundError("No such inbound supply.")
    if status not in InboundStatus.values:
        raise ValueError(f"Unknown inbound status {status!r}.")
    if inbound.status != status:
        before = audit_snapshot(inbound)
        model_update(instance=inbound, fields=["status"], data={"status": status})
        atp_change_mark(tenant=tenant, product_ids=[inbound.product_id])
        with tenant_scope(tenant):
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                instance=inbound,
                before=before,
                after=audit_snapshot(inbound),
            )
    return inbound
