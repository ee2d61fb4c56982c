"""Cross-tenant probes for inventory's pages and endpoints (see
tests/isolation.py): each returns what tenant A owns at the URL."""

from __future__ import annotations

from acorn.tenancy import tenant_scope
from tests.isolation import ProbeTarget


def _world(tenant) -> dict:
    """One product with stock, a hold, a movement and a plan line in A."""
    from inventory.models import PurchasePlanLine
    from inventory.services import purchase_plan_refresh, stock_hold_place, stock_receive
    from inventory.tests.factories import ProductFactory, WarehouseFactory

    with tenant_scope(tenant):
        warehouse = WarehouseFactory(tenant=tenant, code=f"WH-{tenant.slug.upper()}")
        product = ProductFactory(
            tenant=tenant, sku=f"ISO-{tenant.slug.upper()}-1", asin="B0ISO00001"
        )
        stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=20)
        hold = stock_hold_place(
            tenant=tenant,
            lines=[{"product": product, "quantity": 2}],
            source_type="amazon_po",
            source_ref=f"PO-ISO-{tenant.slug}",
            idempotency_key=f"iso-{tenant.slug}",
        )
        purchase_plan_refresh(tenant=tenant)
        line = PurchasePlanLine.objects.filter(product=product).first()
    return {"warehouse": warehouse, "product": product, "hold": hold, "plan_line": line}


def _product_page(tenant):
    world = _world(tenant)
    return ProbeTarget(marker=world["product"].sku, kwargs={"product_id": world["product"].pk})


def _product_action(extra: dict):
    def probe(tenant):
        world = _world(tenant)
        data = {"warehouse": world["warehouse"].code, "quantity": 1, "reason": "probe", **extra}
        return ProbeTarget(
            marker="", kwargs={"product_id": world["product"].pk}, method="post", data=data
        )

    return probe


def _list_with_sku(tenant):
    return ProbeTarget(marker=_world(tenant)["product"].sku)


def _plan_line(tenant):
    world = _world(tenant)
    return ProbeTarget(
        marker="",
        kwargs={"line_id": world["plan_line"].pk},
        method="post",
        data={"status": "approved"},
    )


def _plan_export(tenant):
    return ProbeTarget(marker=_world(tenant)["product"].sku)


def _hold_release(tenant):
    world = _world(tenant)
    return ProbeTarget(
        marker="", kwargs={"hold_id": world["hold"].pk}, method="post", data={"reason": "probe"}
    )


def _page_of_tenant(tenant):
    # A form page with no tenant data: its header names the tenant.
    return ProbeTarget(marker=tenant.name)


def _supplier(tenant):
    from inventory.services import supplier_create

    code = f"SUP-{tenant.slug.upper()}"
    with tenant_scope(tenant):
        supplier_create(tenant=tenant, code=code, name="Probe supplier")
    return ProbeTarget(marker=code)


def _channel_rule(tenant):
    from inventory.services import channel_rule_set

    world = _world(tenant)
    with tenant_scope(tenant):
        channel_rule_set(
            tenant=tenant, channel="amazon_vendor", product=world["product"], keep_back=1
        )
    return ProbeTarget(marker=world["product"].sku)


def _inbound(tenant):
    from datetime import date

    from inventory.services import inbound_supply_upsert

    world = _world(tenant)
    reference = f"SPO-{tenant.slug.upper()}"
    with tenant_scope(tenant):
        inbound_supply_upsert(
            tenant=tenant, product=world["product"], warehouse=world["warehouse"], quantity=5,
            expected_on=date(2030, 1, 1), reference=reference,
        )
    return ProbeTarget(marker=reference)


PROBES = {
    "inventory:supplier_list": _supplier,
    "inventory:channel_rule_list": _channel_rule,
    "inventory:inbound_supply_list": _inbound,
    "inventory:stock_list": _list_with_sku,
    "inventory:product_list": _list_with_sku,
    "inventory:product_export": _list_with_sku,
    "inventory:product_import": _page_of_tenant,
    "inventory:forecast_import": _page_of_tenant,
    "inventory:inbound_supply_import": _page_of_tenant,
    "inventory:product_detail": _product_page,
    "inventory:product_adjust": _product_action({}),
    "inventory:product_count": _product_action({}),
    "inventory:product_receive": _product_action({}),
    "inventory:product_hold": _product_action({"note": "probe hold"}),
    "inventory:hold_list": lambda tenant: ProbeTarget(marker=_world(tenant)["hold"].source_ref),
    "inventory:hold_release": _hold_release,
    "inventory:warehouse_list": lambda tenant: ProbeTarget(marker=_world(tenant)["warehouse"].code),
    "inventory:purchase_plan": _list_with_sku,
    "inventory:purchase_plan_export": _plan_export,
    "inventory:purchase_plan_review": _plan_line,
    "api:inventory:product_list": _list_with_sku,
    "api:inventory:product_detail": _product_page,
    "api:inventory:stock_list": _list_with_sku,
    "api:inventory:movement_list": _list_with_sku,
    "api:inventory:purchase_plan_list": _list_with_sku,
}
