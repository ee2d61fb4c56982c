"""PO sync, step 1 of 3: a getPurchaseOrders page read once.

``PagePreparer`` turns each raw page (``vendor_api.paging``) into a
``PreparedPage``: orders already seen in this sync dropped (a PO on a
range boundary is listed twice), each order hashed (``content_hash``, the
canonical JSON as Amazon sent it, compared with the stored hash so an
unchanged PO is never parsed), and, while pages keep bringing new or
changed orders, parsed ahead by vendor_api's typed parser in the prefetch
thread. ``PreparedPage.order`` hands the writer the typed order: the one
computed ahead or, for the first changed PO of a re-sync, parsed then.
There is no other parser of Amazon's order JSON.

Step 2 (``purchase_order_changes``) decides what changed; step 3
(``purchase_order_write``) reads the stored state and writes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from vendor_api.operations.orders import PurchaseOrder as ApiPurchaseOrder

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def content_hash(raw: dict) -> str:
    """SHA-256 of the canonical JSON of one order as Amazon sent it."""
    return hashlib.sha256(_CANONICAL.encode(raw).encode()).hexdigest()


def order_parse(raw: dict) -> ApiPurchaseOrder:
    """The typed order (vendor_api's parser; one place so it can be counted)."""
    return ApiPurchaseOrder.parse(raw)


def order_number(raw: dict) -> str:
    return raw.get("purchaseOrderNumber", "")


@dataclass
class PreparedPage:
    """A page's orders not yet seen in this sync (Amazon's JSON) with their
    hashes by number; ``parsed`` holds the orders parsed ahead."""

    orders: list[dict]
    digests: dict[str, str]
    parsed: dict[str, ApiPurchaseOrder] = field(default_factory=dict)
    listed: int = 0

    def order(self, raw: dict) -> ApiPurchaseOrder:
        parsed = self.parsed.get(order_number(raw))
        return parsed if parsed is not None else order_parse(raw)


class PagePreparer:
    """Dedupe, hash, and parse ahead while the pages keep bringing new or
    changed orders (``speculate``: from the start on a first sync; later
    syncs start without, so unchanged orders are hashed but never parsed;
    the writer switches it by what the last page held)."""

    def __init__(self, *, speculate: bool = True):
        self.seen: set[str] = set()
        self.speculate = speculate

    def __call__(self, page) -> PreparedPage:
        orders = []
        for raw in page.orders:
            number = order_number(raw)
            if number not in self.seen:
                self.seen.add(number)
                orders.append(raw)
        digests = {order_number(raw): content_hash(raw) for raw in orders}
        parsed = (
            {order_number(raw): order_parse(raw) for raw in orders} if self.speculate else {}
        )
        return PreparedPage(orders=orders, digests=digests, parsed=parsed,
                            listed=len(page.orders))
