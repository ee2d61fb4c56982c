"""PO sync, step 2 of 3: what a page's new and changed orders change.

``purchase_order_changes_decide`` is a pure function: from the typed
orders (step 1), what is stored for them (step 3 reads it) and the
account's SKU mappings it decides every row to write (PO, line, event,
exception), which POs to (re-)plan and which POs' unmapped-line
exceptions to close. It reads no database and writes nothing, so it is
tested on plain values and benchmarked (bench/po_decide.py).

Rows are keyed by PO number: the writer learns the ids of new POs from
their upsert and fills them in.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from acorn.messages import message_store
from acorn.money import MONEY_DECIMAL_PLACES
from channels import message_codes as messages
from channels.models import AckStatus, OrderUnit, PurchaseOrderEventKind, PurchaseOrderState
from vendor_api.operations.orders import PurchaseOrder as ApiPurchaseOrder
from vendor_api.types import UnitOfMeasure

MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_DECIMAL_PLACES)
# Our acknowledgement has not left yet: a change can simply be re-planned.
NOT_YET_ACKNOWLEDGED = frozenset({AckStatus.PENDING, AckStatus.BLOCKED, AckStatus.REVIEW})
# The subject of a line's unmapped-line exception (mappings.py resolves it).
UNMAPPED_SUBJECT = "po:{po}/line:{seq}"
# The stored texts, looked up once (an enum's ``.value`` is a descriptor
# call, and the decision runs per line of every new or changed PO).
_CASES, _EACHES = OrderUnit.CASES.value, OrderUnit.EACHES.value
_PENDING, _BLOCKED, _NOT_NEEDED = (AckStatus.PENDING.value, AckStatus.BLOCKED.value,
                                   AckStatus.NOT_NEEDED.value)
_NEW, _CLOSED = PurchaseOrderState.NEW.value, PurchaseOrderState.CLOSED.value
_CREATED, _CHANGED, _STATE_CHANGED, _CANCELLED, _LINE_UNMAPPED = (
    PurchaseOrderEventKind.CREATED.value, PurchaseOrderEventKind.CHANGED.value,
    PurchaseOrderEventKind.STATE_CHANGED.value, PurchaseOrderEventKind.CANCELLED.value,
    PurchaseOrderEventKind.LINE_UNMAPPED.value,
)
_NOT_YET_ACKNOWLEDGED = frozenset(status.value for status in NOT_YET_ACKNOWLEDGED)


@dataclass
class MappingIndex:
    """An account's active mappings by ASIN and by vendor product id."""

    by_asin: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_vendor_product: dict[str, tuple[int, int]] = field(default_factory=dict)

    def resolve(self, *, asin: str, vendor_product_id: str) -> tuple[int, int] | None:
        """(product id, units per order unit), or None when unmapped."""
        if asin and asin in self.by_asin:
            return self.by_asin[asin]
        if vendor_product_id and vendor_product_id in self.by_vendor_product:
            return self.by_vendor_product[vendor_product_id]
        return None


@dataclass(frozen=True, slots=True)
class StoredPurchaseOrder:
    """What is stored of a PO the page lists again."""

    id: int
    content_hash: str
    state: str
    ack_status: str
    amazon_changed_at: datetime.datetime | None


@dataclass
class PageChanges:
    """Rows to write, keyed like the writer's SQL recordsets.

    ``lines``, ``events`` and ``exceptions`` carry the PO ``number``;
    ``to_plan`` and ``cleared`` are PO numbers.
    """

    purchase_orders: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    exceptions: list[dict] = field(default_factory=list)
    to_plan: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


def _iso(value: datetime.datetime | None) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _text(value) -> str:
    """An enum member or Amazon's unknown text as stored ("" for none)."""
    return "" if value is None else str(value)


def _event(*, number: str, kind: str, key: str, at, detail: dict) -> dict:
    return {"number": number, "kind": kind, "key": key[:200], "at": at, "detail": detail}


def _line_row(item, mappings: MappingIndex) -> dict:
    quantity = item.ordered_quantity
    if quantity is not None:
        ordered = quantity.amount
        order_unit = _CASES if quantity.unit_of_measure == UnitOfMeasure.CASES else _EACHES
        unit_size = quantity.unit_size or 1
    else:
        ordered, order_unit, unit_size = 0, _EACHES, 1
    asin = (item.amazon_product_identifier or "")[:10]
    vendor_product_id = (item.vendor_product_identifier or "")[:64]
    mapped = mappings.resolve(asin=asin, vendor_product_id=vendor_product_id)
    net_cost, list_price = item.net_cost, item.list_price
    return {
        "seq": item.item_sequence_number[:10],
        "asin": asin,
        "vendor_product_id": vendor_product_id,
        "ordered": ordered,
        "order_unit": order_unit,
        "unit_size": unit_size,
        "backorder": item.is_back_order_allowed,
        "net_cost": None if net_cost is None else net_cost.amount,
        "list_price": None if list_price is None else list_price.amount,
        "currency": ((net_cost.currency_code or "") if net_cost is not None else "")[:3],
        "product": mapped[0] if mapped else None,
        "units": mapped[1] if mapped else 1,
    }


def _unmapped(line: dict) -> bool:
    return line["product"] is None and line["ordered"] > 0


def _party_raw(details: dict, key: str) -> dict:
    return details.get(key) or {}


def purchase_order_row(order: ApiPurchaseOrder, *, digest: str, lines: list[dict],
                       now: datetime.datetime) -> dict:
    """The PO row of one typed order (its line rows decided)."""
    currency, total = "", Decimal("0")
    for item, line in zip(order.items, lines, strict=True):
        if item.net_cost is not None:
            currency = currency or (item.net_cost.currency_code or "")
            if item.net_cost.amount is not None:
                total += item.net_cost.amount * line["ordered"]
    state = _text(order.state) or _NEW
    has_unmapped = any(_unmapped(line) for line in lines)
    all_cancelled = bool(lines) and all(line["ordered"] == 0 for line in lines)
    if has_unmapped:
        ack_status = _BLOCKED
    elif all_cancelled or state == _CLOSED:
        ack_status = _NOT_NEEDED
    else:
        ack_status = _PENDING
    # Parties and import details are stored as Amazon sent them.
    details = order.raw.get("orderDetails") or {}
    ship_window, delivery_window = order.ship_window, order.delivery_window
    return {
        "number": order.purchase_order_number,
        "state": state,
        "order_type": _text(order.order_type)[:40],
        "ordered_at": order.purchase_order_date or now,
        "amazon_changed_at": order.changed_date,
        "state_changed_at": order.state_changed_date,
        "ship_window_start": ship_window.start if ship_window else None,
        "ship_window_end": ship_window.end if ship_window else None,
        "delivery_window_start": delivery_window.start if delivery_window else None,
        "delivery_window_end": delivery_window.end if delivery_window else None,
        "selling_party_id": ((order.selling_party.party_id or "")
                             if order.selling_party else "")[:20],
        "ship_to_party_id": ((order.ship_to_party.party_id or "")
                             if order.ship_to_party else "")[:20],
        "ship_to": _party_raw(details, "shipToParty"),
        "bill_to": _party_raw(details, "billToParty"),
        "buying_party": _party_raw(details, "buyingParty"),
        "payment_method": _text(order.payment_method)[:20],
        "deal_code": (order.deal_code or "")[:60],
        "import_details": details.get("importDetails") or {},
        "currency": currency[:3],
        "total_cost": total.quantize(MONEY_QUANTUM),
        "content_hash": digest,
        "has_unmapped_lines": has_unmapped,
        "ack_status": ack_status,
    }


def purchase_order_changes_decide(
    *, orders: Iterable[tuple[ApiPurchaseOrder, str]],
    stored: dict[str, StoredPurchaseOrder],
    previous_lines: dict[tuple[int, str], tuple[int, int]],
    mappings: MappingIndex, now: datetime.datetime,
) -> PageChanges:
    """Every row the page's new and changed ``orders`` (typed, with their
    content hash) write.

    ``stored``: the stored POs among them by number; ``previous_lines``:
    their stored lines, (ordered, cancelled) by (PO id, sequence number).
    A new PO gets a created event and is planned when pending; a changed
    PO gets changed/state events (deduplicated by key at insert) and is
    re-planned while nothing was sent, or its holds brought in line after
    sending; a line Amazon set to 0 records what was cancelled, once; an
    unmapped line blocks its PO with one exception per line.
    """
    changes = PageChanges()
    counts = changes.counts
    for order, digest in orders:
        number = order.purchase_order_number
        lines = [_line_row(item, mappings) for item in order.items]
        po = purchase_order_row(order, digest=digest, lines=lines, now=now)
        changes.purchase_orders.append(po)
        row = stored.get(number)
        changed_at = order.changed_date
        event_at = changed_at or po["ordered_at"]
        for line in lines:
            seq = line["seq"]
            line["number"] = number
            cancelled = 0
            before = previous_lines.get((row.id, seq)) if row is not None else None
            if before is not None:
                cancelled = before[1]
                if before[0] > 0 and line["ordered"] == 0:
                    cancelled = before[0]
            line["cancelled"] = cancelled
            if line["ordered"] == 0 and (before is None or before[0] > 0):
                changes.events.append(_event(
                    number=number, kind=_CANCELLED,
                    key=f"cancelled:{seq}", at=event_at,
                    detail={"line": seq, "cancelled_quantity": cancelled},
                ))
            if _unmapped(line):
                changes.events.append(_event(
                    number=number, kind=_LINE_UNMAPPED,
                    key=f"unmapped:{seq}", at=now, detail={"line": seq, "asin": line["asin"]},
                ))
                code, params, english = message_store(
                    messages.UNMAPPED_LINE, po=number, line=seq, asin=line["asin"] or "-",
                    vendor_product=line["vendor_product_id"] or "-")
                changes.exceptions.append({
                    "number": number, "seq": seq, "message": english[:500],
                    "code": code, "params": params,
                    "detail": {"asin": line["asin"],
                               "vendor_product_id": line["vendor_product_id"], "line": seq},
                })
                counts["unmapped_lines"] += 1
            changes.lines.append(line)
        if row is None:
            counts["created"] += 1
            changes.events.append(_event(
                number=number, kind=_CREATED, key="created",
                at=po["ordered_at"], detail={"state": po["state"], "lines": len(lines)},
            ))
            if po["ack_status"] == _PENDING:
                changes.to_plan.append(number)
            continue
        counts["changed"] += 1
        amazon_changed = bool(changed_at) and changed_at != row.amazon_changed_at
        if amazon_changed:
            changes.events.append(_event(
                number=number, kind=_CHANGED,
                key=f"changed:{_iso(changed_at)}", at=changed_at,
                detail={"acknowledged": row.ack_status not in _NOT_YET_ACKNOWLEDGED},
            ))
        state = po["state"]
        if state != row.state:
            at = order.state_changed_date or now
            changes.events.append(_event(
                number=number, kind=_STATE_CHANGED,
                key=f"state:{state}:{_iso(at)}", at=at,
                detail={"from": row.state, "to": state},
            ))
        # Re-plan a changed PO while nothing was sent (the upsert keeps our
        # ack_status otherwise and flags changed_after_ack); after sending,
        # planning brings the holds in line with Amazon's new quantities.
        acknowledged = row.ack_status not in _NOT_YET_ACKNOWLEDGED
        if not acknowledged and po["ack_status"] == _PENDING:
            changes.to_plan.append(number)
        elif acknowledged and (amazon_changed or state != row.state):
            changes.to_plan.append(number)
        # A change that mapped every line (or cancelled the unmapped ones)
        # closes the PO's unmapped-line exceptions.
        if not po["has_unmapped_lines"]:
            changes.cleared.append(number)
    counts["lines_written"] += len(changes.lines)
    return changes
