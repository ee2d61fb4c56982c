"""Deterministic vendor life: purchase orders from a seed.

A vendor has ship-to fulfilment centres and an ASIN catalog; the generator
draws POs (order type, windows, net costs, 1-6 lines), some later changed
by Amazon (quantity, via purchaseOrderChangedDate) and some lines cancelled
(quantity 0, poItemState=Cancelled).
"""

from __future__ import annotations

import datetime
import random
import string
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class CatalogItem:
    asin: str
    vendor_sku: str
    net_cost: Decimal
    list_price: Decimal


@dataclass
class Vendor:
    code: str
    currency_code: str = "USD"
    country_code: str = "US"
    ship_to: tuple[str, ...] = ("ABE2", "PHX7", "ONT8")
    catalog: list[CatalogItem] = field(default_factory=list)


@dataclass
class OrderLine:
    sequence: str
    asin: str
    vendor_sku: str
    ordered: int
    net_cost: Decimal
    list_price: Decimal
    back_order_allowed: bool
    cancelled: int = 0
    accepted: int = 0
    rejected: int = 0
    received: int = 0
    last_receive_date: datetime.datetime | None = None
    quantity_changes: list[dict] = field(default_factory=list)
    acknowledgements: list[dict] = field(default_factory=list)

    @property
    def open_quantity(self) -> int:
        return self.ordered - self.cancelled


@dataclass
class SandboxPurchaseOrder:
    number: str
    vendor_code: str
    ship_to: str
    currency_code: str
    country_code: str
    order_type: str
    payment_method: str
    created: datetime.datetime
    ship_window: tuple[datetime.datetime, datetime.datetime]
    delivery_window: tuple[datetime.datetime, datetime.datetime]
    lines: list[OrderLine]
    state: str = "New"
    state_changed: datetime.datetime | None = None
    changed: datetime.datetime | None = None

    @property
    def updated(self) -> datetime.datetime:
        return max(d for d in (self.created, self.changed, self.state_changed) if d)

    def line(self, sequence: str) -> OrderLine | None:
        for line in self.lines:
            if line.sequence == sequence:
                return line
        return None


ORDER_TYPES = (
    ("RegularOrder", 80), ("RushOrder", 8), ("NewProductIntroduction", 7), ("ConsignedOrder", 5),
)
PO_ALPHABET = string.ascii_uppercase + string.digits


def demo_catalog(*, rng: random.Random, size: int = 40) -> list[CatalogItem]:
    items = []
    for index in range(size):
        cost = Decimal(rng.randrange(199, 19999)) / 100
        items.append(CatalogItem(
            asin="B0" + "".join(rng.choices(PO_ALPHABET, k=8)),
            vendor_sku=f"SKU-{index + 1:04d}",
            net_cost=cost,
            list_price=(cost * Decimal("1.6")).quantize(Decimal("0.01")),
        ))
    return items


def generate_purchase_orders(
    *,
    vendor: Vendor,
    rng: random.Random,
    count: int,
    start: datetime.datetime,
    end: datetime.datetime,
    existing_numbers: set[str],
    change_rate: float = 0.1,
    cancel_rate: float = 0.05,
) -> list[SandboxPurchaseOrder]:
    """``count`` New POs created between start and end (changes at most at ``end``)."""
    span = (end - start).total_seconds()
    orders = []
    for _ in range(count):
        number = "".join(rng.choices(PO_ALPHABET, k=8))
        while number in existing_numbers:
            number = "".join(rng.choices(PO_ALPHABET, k=8))
        existing_numbers.add(number)
        created = start + datetime.timedelta(seconds=int(rng.random() * span))
        ship_start = (created + datetime.timedelta(days=rng.randint(2, 6))).replace(
            minute=0, second=0, microsecond=0
        )
        ship_end = ship_start + datetime.timedelta(days=rng.randint(3, 7))
        delivery = (ship_end + datetime.timedelta(days=1), ship_end + datetime.timedelta(days=8))
        lines = []
        for sequence, item in enumerate(rng.sample(vendor.catalog, k=rng.randint(1, 6)), start=1):
            lines.append(OrderLine(
                sequence=str(sequence),
                asin=item.asin,
                vendor_sku=item.vendor_sku,
                ordered=rng.choice((6, 12, 24, 36, 48, 60, 120)),
                net_cost=item.net_cost,
                list_price=item.list_price,
                back_order_allowed=rng.random() < 0.3,
            ))
        order_type = rng.choices(
            [kind for kind, _ in ORDER_TYPES], weights=[w for _, w in ORDER_TYPES]
        )[0]
        order = SandboxPurchaseOrder(
            number=number,
            vendor_code=vendor.code,
            ship_to=rng.choice(vendor.ship_to),
            currency_code=vendor.currency_code,
            country_code=vendor.country_code,
            order_type=order_type,
            payment_method="Consignment" if order_type == "ConsignedOrder" else "Invoice",
            created=created,
            ship_window=(ship_start, ship_end),
            delivery_window=delivery,
            lines=lines,
            state_changed=created,
        )
        roll = rng.random()
        change_at = min(end, created + datetime.timedelta(hours=rng.randint(2, 40)))
        if roll < cancel_rate and change_at > created:
            line = rng.choice(lines)
            line.cancelled = line.ordered
            line.quantity_changes.append({"at": change_at, "ordered": line.ordered,
                                          "cancelled": line.ordered})
            order.changed = change_at
        elif roll < cancel_rate + change_rate and change_at > created:
            line = rng.choice(lines)
            line.ordered = max(6, line.ordered - 6)
            line.quantity_changes.append({"at": change_at, "ordered": line.ordered,
                                          "cancelled": 0})
            order.changed = change_at
        orders.append(order)
    return orders
