"""Every non-trivial read of the inventory app (tenant always explicit)."""

from inventory.selectors.catalog import (
    forecast_list,
    overview_cards,
    product_get,
    product_list,
    purchase_plan_list,
    stock_level_get,
    supplier_list,
    warehouse_list,
)
from inventory.selectors.stock import (
    Atp,
    Mismatch,
    atp_for_products,
    atp_get,
    hold_event_list,
    hold_line_list,
    hold_list,
    inbound_supply_open_by_product,
    movement_list,
    stock_balance_list,
    stock_consistency_check,
    stock_level_list,
)

__all__ = [
    "forecast_list",
    "inbound_supply_open_by_product",
    "overview_cards",
    "product_get",
    "product_list",
    "purchase_plan_list",
    "stock_level_get",
    "supplier_list",
    "warehouse_list",
    "Atp",
    "Mismatch",
    "atp_for_products",
    "atp_get",
    "hold_event_list",
    "hold_line_list",
    "hold_list",
    "movement_list",
    "stock_balance_list",
    "stock_consistency_check",
    "stock_level_list",
]
