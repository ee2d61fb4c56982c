"""Every write of the inventory app; see the submodules by subdomain.

The public API other apps call is re-exported here: other apps import
``inventory.services`` only, never a submodule (the import contract in
pyproject.toml checks it).
"""

from inventory.services.catalog import (
    channel_rule_delete,
    channel_rule_set,
    inbound_supply_status_set,
    inbound_supply_upsert,
    product_create,
    product_update,
    supplier_create,
    supplier_update,
    warehouse_create,
)
from inventory.services.holds import (
    InsufficientStockError,
    hold_release,
    stock_hold_consume,
    stock_hold_expire,
    stock_hold_place,
    stock_hold_release,
    stock_reservation_release,
    stock_reserve,
)
from inventory.services.imports import (
    forecast_import,
    forecast_import_dataset,
    forecast_import_file,
    inbound_supply_import,
    inbound_supply_import_file,
    product_export_dataset,
    product_import,
    product_import_file,
)
from inventory.services.outbox import (
    AtpClaim,
    atp_change_ack,
    atp_change_claim,
    atp_change_mark,
)
from inventory.services.planning import (
    demand_record,
    purchase_plan_refresh,
    purchase_plan_review,
)
from inventory.services.stock import (
    product_resolve,
    products_resolve,
    stock_adjust,
    stock_count,
    stock_receive,
    stock_return,
    stock_transfer,
)

__all__ = [
    "demand_record",
    "forecast_import",
    "forecast_import_dataset",
    "forecast_import_file",
    "inbound_supply_import",
    "inbound_supply_import_file",
    "product_export_dataset",
    "product_import",
    "product_import_file",
    "product_resolve",
    "products_resolve",
    "purchase_plan_refresh",
    "purchase_plan_review",
    "AtpClaim",
    "InsufficientStockError",
    "atp_change_ack",
    "atp_change_claim",
    "atp_change_mark",
    "channel_rule_delete",
    "channel_rule_set",
    "inbound_supply_status_set",
    "inbound_supply_upsert",
    "product_create",
    "product_update",
    "stock_adjust",
    "stock_count",
    "stock_hold_consume",
    "stock_hold_expire",
    "hold_release",
    "stock_hold_place",
    "stock_hold_release",
    "stock_receive",
    "stock_reservation_release",
    "stock_reserve",
    "stock_return",
    "stock_transfer",
    "supplier_create",
    "supplier_update",
    "warehouse_create",
]
