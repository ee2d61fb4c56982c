"""What a hold request does to the stock, decided without the database.

Pure functions over values the services have read (and locked): which
open hold lines give the units of a release or a shipment, which balances
ship them (first expiring first), units per product, and whether a replay
asks for what was first placed. Nothing here queries or writes, and no
model instance is changed: the services apply the decisions.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


class OpenHoldLine(Protocol):
    pk: int
    product_id: int
    line_ref: str
    open_quantity: int


class ShippableBalance(Protocol):
    pk: int
    product_id: int
    warehouse_id: int
    lot_id: int | None
    on_hand: int


@dataclass(frozen=True, slots=True)
class Take:
    """``quantity`` units of one open hold line."""

    line: OpenHoldLine
    quantity: int


def units_by_product(product_ids: Sequence[int], quantities: Sequence[int]) -> dict[int, int]:
    """Units per product (a product may appear on several lines)."""
    wanted: dict[int, int] = defaultdict(int)
    for product_id, quantity in zip(product_ids, quantities, strict=True):
        wanted[product_id] += quantity
    return dict(wanted)


def open_lines_take(
    open_lines: Sequence[OpenHoldLine], *, taken: dict[int, int], product_id: int,
    line_ref: str, quantity: int | None,
) -> tuple[list[Take], int]:
    """Which open lines give ``quantity`` units of the product (all when
    None), after what earlier requests ``taken`` (units by line pk; updated
    here). Returns the takes and the units missing."""
    candidates = [
        line for line in open_lines
        if line.product_id == product_id and (not line_ref or line.line_ref == line_ref)
    ]
    remaining = quantity if quantity is not None else sum(c.open_quantity for c in candidates)
    takes = []
    for line in candidates:
        if remaining <= 0:
            break
        share = min(line.open_quantity - taken.get(line.pk, 0), remaining)
        if share > 0:
            taken[line.pk] = taken.get(line.pk, 0) + share
            takes.append(Take(line=line, quantity=share))
            remaining -= share
    return takes, remaining


def balances_ship_order(balances: Iterable, *, today: datetime.date) -> list:
    """Balances in shipping order: first expiring lot first, unlotted and
    undated last, then by warehouse code and pk (balances carry ``lot`` and
    ``warehouse`` loaded)."""
    return sorted(balances, key=lambda b: (
        b.lot.expires_on is None if b.lot else True,
        b.lot.expires_on if b.lot and b.lot.expires_on else today,
        b.warehouse.code, b.pk,
    ))


def balances_take(
    balances: Sequence[ShippableBalance], *, free: dict[int, int], product_id: int,
    quantity: int, warehouse_id: int | None = None, lot_id: int | None = None,
) -> tuple[list[tuple[ShippableBalance, int]], int]:
    """Which balances (in the given order) ship ``quantity`` units, from
    what is still ``free`` by balance pk (updated here); returns the
    shares and the units that could not be found."""
    shares = []
    remaining = quantity
    for balance in balances:
        if remaining == 0:
            break
        if balance.product_id != product_id or free[balance.pk] <= 0:
            continue
        if warehouse_id and balance.warehouse_id != warehouse_id:
            continue
        if lot_id and balance.lot_id != lot_id:
            continue
        share = min(free[balance.pk], remaining)
        free[balance.pk] -= share
        remaining -= share
        shares.append((balance, share))
    return shares, remaining


def placement_matches(requested: Iterable[tuple[int, int, str]],
                      placed: Iterable[tuple[int, int, str]]) -> bool:
    """A replay asks for what was placed: the same (product id, quantity,
    line ref) lines, in any order."""
    return sorted(requested) == sorted(placed)
