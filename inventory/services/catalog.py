"""Products, warehouses, suppliers, channel rules and inbound supply."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from acorn.services import model_update
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
def product_create(*, tenant, sku: str, name: str, **fields) -> Product:
    """A product and its (empty) stock level row."""
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown product fields: {sorted(unknown)}")
    product = Product(tenant=tenant, sku=sku, name=name, **fields)
    product.full_clean()
    product.save()
    level = StockLevel(tenant=tenant, product=product)
    level.save()
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
def warehouse_create(*, tenant, code: str, name: str, country: str = "") -> Warehouse:
    warehouse = Warehouse(tenant=tenant, code=code, name=name, country=country)
    warehouse.full_clean()
    warehouse.save()
    return warehouse


@transaction.atomic
def supplier_create(
    *, tenant, code: str, name: str, lead_time_days: int = 30, moq_units: int = 0
) -> Supplier:
    supplier = Supplier(
        tenant=tenant, code=code, name=name, lead_time_days=lead_time_days, moq_units=moq_units
    )
    supplier.full_clean()
    supplier.save()
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
) -> ChannelRule:
    """Create or change the channel's default rule, or one product's."""
    product = product_resolve(tenant=tenant, ref=product) if product is not None else None
    rule = ChannelRule.objects.filter(tenant=tenant, channel=channel, product=product).first()
    rule = rule or ChannelRule(tenant=tenant, channel=channel, product=product)
    rule.allocation_percent = allocation_percent
    rule.keep_back = keep_back
    rule.max_listed = max_listed
    rule.zero_at = zero_at
    rule.include_inbound = include_inbound
    rule.inbound_horizon_days = inbound_horizon_days
    rule.full_clean(exclude=["tenant", "product"], validate_constraints=False)
    rule.save()
    if product is None:
        atp_change_mark_all(tenant=tenant)
    else:
        atp_change_mark(tenant=tenant, product_ids=[product.pk])
    return rule


@transaction.atomic
def inbound_supply_upsert(
    *, tenant, product, warehouse, quantity: int, expected_on: date, reference: str,
    status: str = InboundStatus.OPEN,
) -> InboundSupply:
    """Record (or update) stock on its way, keyed by reference and product."""
    product = product_resolve(tenant=tenant, ref=product)
    warehouse = warehouse_resolve(tenant=tenant, ref=warehouse)
    inbound = InboundSupply.objects.filter(
        tenant=tenant, reference=reference, product=product
    ).first() or InboundSupply(tenant=tenant, reference=reference, product=product)
    inbound.warehouse = warehouse
    inbound.quantity = quantity
    inbound.expected_on = expected_on
    inbound.status = status
    inbound.full_clean(exclude=["tenant", "product", "warehouse"], validate_constraints=False)
    inbound.save()
    atp_change_mark(tenant=tenant, product_ids=[product.pk])
    return inbound
