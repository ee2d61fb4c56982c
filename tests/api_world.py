"""Seeded data behind every API list, for the schema battery and the
secrets canary: one tenant's Amazon account synced from the real sandbox
(POs, lines, events, the call log, sync runs), acknowledgements sent and
polled (submissions), a palletised shipment and a loose one (nullable
pallet SSCCs), an unmapped line (nullable product SKU), stock, movements
and a purchase plan."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from acorn.services import api_key_create
from acorn.tenancy import tenant_scope


@dataclass
class SeededTenant:
    tenant: object
    account: object
    api_key: str


def seed_api_world(*, tenant, sandbox, credentials: dict | None = None) -> SeededTenant:
    """Everything the API lists, for ``tenant``, through the real services."""
    from channels.models import AckAutoSend, Gs1Settings, PurchaseOrder, PurchaseOrderLine
    from channels.services.purchase_orders import purchase_orders_sync
    from channels.services.shipments import shipment_create
    from channels.services.submissions import submissions_poll
    from channels.tests.factories import AmazonVendorAccountFactory, SkuMappingFactory
    from inventory.services.planning import purchase_plan_refresh
    from inventory.services.stock import stock_receive
    from inventory.tests.factories import ProductFactory, WarehouseFactory
    from vendor_api.transport import RetryPolicy

    suffix = uuid.uuid4().hex[:10]
    credentials = credentials or {
        "client_id": f"amzn1.application-oa2-client.{suffix}",
        "client_secret": f"secret-{suffix}",
        "refresh_token": f"Atzr|{suffix}",
    }
    sandbox.control("POST", "/_sandbox/apps", {**credentials, "vendor_codes": ["DEMO1"]})
    fast = {"retry_policy": RetryPolicy(max_attempts=3, base_delay_seconds=0.05,
                                        max_delay_seconds=0.2, total_budget_seconds=10)}
    with tenant_scope(tenant, atomic=False):
        account = AmazonVendorAccountFactory(
            tenant=tenant, name=f"Sandbox {tenant.slug}", endpoint_override=sandbox.base_url,
            lwa_client_id=credentials["client_id"],
            lwa_client_secret=credentials["client_secret"],
            lwa_refresh_token=credentials["refresh_token"], ack_auto_send=AckAutoSend.ALWAYS,
        )
        warehouse = WarehouseFactory(tenant=tenant)
        catalog = sandbox.state.vendors["DEMO1"].catalog
        # Every catalog item mapped but the last: its lines stay unmapped.
        for item in catalog[:-1]:
            product = ProductFactory(tenant=tenant, sku=f"{tenant.slug}-{item.vendor_sku}")
            SkuMappingFactory(tenant=tenant, account=account, asin=item.asin,
                              vendor_product_id=item.vendor_sku, product=product)
            stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=500)
        Gs1Settings.objects.create(tenant=tenant, company_prefix="0614141", extension_digit=3)
        purchase_orders_sync(tenant=tenant, account=account, **fast)
        submissions_poll(tenant=tenant)
        for po in PurchaseOrder.objects.filter(has_unmapped_lines=False)[:2]:
            lines = list(PurchaseOrderLine.objects.filter(purchase_order=po,
                                                          planned_accept__gt=0))
            if not lines:
                continue
            specs = [{"po_line_id": ln.pk, "quantity": ln.planned_accept,
                      "country_of_origin": "US"} for ln in lines]
            palletised = po.pk % 2 == 0
            cartons = [{"items": [{"line": index, "quantity": spec["quantity"]}],
                        "weight_kg": "3.5", "length_cm": "40", "width_cm": "30",
                        "height_cm": "25"} for index, spec in enumerate(specs)]
            shipment_create(tenant=tenant, warehouse=warehouse, lines=specs, cartons=cartons,
                            cartons_per_pallet=2 if palletised else None,
                            shipment_type="LessThanTruckLoad" if palletised else "SmallParcel",
                            carrier_scac="ABFS")
        purchase_plan_refresh(tenant=tenant)
        _key, plaintext = api_key_create(tenant=tenant, name=f"bi-{tenant.slug}")
    return SeededTenant(tenant=tenant, account=account, api_key=plaintext)
