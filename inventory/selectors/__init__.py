"""Every non-trivial read of the inventory app (tenant always explicit)."""

from inventory.selectors.stock import (
    Atp,
    Mismatch,
    atp_for_products,
    atp_get,
    hold_event_list,
    hold_line_list,
    hold_list,
    movement_list,
    stock_balance_list,
    stock_consistency_check,
    stock_level_list,
)

__all__ = [
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
