"""An in-process store with compare-and-set, idempotency keys, orders and
signed webhooks, and its adapter: the engine's tests run on it until the
platform sandboxes (HTTP) are merged; then they run on those.

It follows the contract's semantics (store-channels.md §1.2/§6): a write
with ``expected`` that differs from the level is STALE (all rows of the
call refused); the same idempotency key returns the first result; an
injected "timeout after apply" applies the write and raises
``OutcomeUnknown``; an order moves units out of ``available``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from channels.stores.adapter import (
    Capabilities,
    ChannelLocation,
    ChannelOrder,
    ChannelSku,
    CompareAndSet,
    InvalidSignature,
    ItemRef,
    LevelSnapshot,
    NotFound,
    OrderLine,
    OrderPage,
    OutcomeUnknown,
    Page,
    QuantitySemantics,
    RowResult,
    Watermark,
    WebhookEnvelope,
    WriteOutcome,
    WriteResult,
)

LOCATION = "loc-1"


@dataclass
class StoreState:
    cas: bool = True
    skus: dict[str, dict] = field(default_factory=dict)  # item_id -> {sku, gtin}
    available: dict[str, int] = field(default_factory=dict)  # item_id -> available
    orders: dict[str, ChannelOrder] = field(default_factory=dict)
    idempotency: dict[str, WriteResult] = field(default_factory=dict)
    writes_applied: int = 0
    timeout_after_apply: int = 0  # the next N write calls apply, then time out
    clock: datetime = field(default_factory=lambda: datetime(2026, 5, 1, tzinfo=UTC))
    lock: threading.Lock = field(default_factory=threading.Lock)
    secret: str = "whsec"

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def place_order(self, order_id: str, lines: list[tuple[str, int]]) -> ChannelOrder:
        with self.lock:
            now = self.tick()
            order = ChannelOrder(
                order_id=order_id, name=f"#{order_id}", created_at=now, updated_at=now,
                cancelled=False, lines=[
                    OrderLine(line_id=f"{order_id}-{n}", sku=self.skus[item]["sku"],
                              ref=ItemRef(item_id=item, variant_id=f"v{item}"), quantity=qty)
                    for n, (item, qty) in enumerate(lines)
                ],
            )
            for item, qty in lines:
                self.available[item] -= qty
            self.orders[order_id] = order
            return order

    def cancel_order(self, order_id: str) -> ChannelOrder:
        with self.lock:
            order = replace(self.orders[order_id], cancelled=True, updated_at=self.tick())
            for line in order.lines:
                self.available[line.ref.item_id] += line.quantity
            self.orders[order_id] = order
            return order

    def ship_order(self, order_id: str) -> ChannelOrder:
        with self.lock:
            old = self.orders[order_id]
            order = replace(old, updated_at=self.tick(), lines=[
                replace(line, quantity_shipped=line.quantity) for line in old.lines])
            self.orders[order_id] = order
            return order

    def webhook(self, event_id: str, order_id: str) -> tuple[dict, bytes]:
        body = json.dumps({"id": order_id}).encode()
        digest = base64.b64encode(hmac.new(self.secret.encode(), body, hashlib.sha256).digest())
        return {"X-Test-Hmac": digest.decode(), "X-Test-Event-Id": event_id,
                "X-Test-Topic": "orders/updated",
                "X-Test-Triggered-At": self.tick().isoformat()}, body


class DoubleAdapter:
    def __init__(self, state: StoreState):
        self.state = state
        self.capabilities = Capabilities(
            cas=CompareAndSet.NATIVE if state.cas else CompareAndSet.NONE,
            idempotency_key=state.cas, delta_writes=True, max_write_batch=250,
            quantity_semantics=QuantitySemantics.AVAILABLE,
        )

    def list_locations(self):
        return [ChannelLocation(location_id=LOCATION, name="Main")]

    def list_skus(self, *, updated_since=None, cursor=None):
        items = [ChannelSku(ref=ItemRef(item_id=item, variant_id=f"v{item}"), sku=data["sku"],
                            gtin=data.get("gtin", ""))
                 for item, data in sorted(self.state.skus.items())]
        start = int(cursor or 0)
        return Page(items=items[start:start + 2],
                    next_cursor=str(start + 2) if start + 2 < len(items) else None)

    def get_levels(self, refs, locations=None):
        now = datetime.now(UTC)
        with self.state.lock:
            return [LevelSnapshot(ref=ref, location_id=LOCATION,
                                  ats=self.state.available.get(ref.item_id, 0),
                                  raw={"available": self.state.available.get(ref.item_id, 0)},
                                  observed_at=now,
                                  cas_token=self.state.available.get(ref.item_id, 0)
                                  if self.state.cas else None)
                    for ref in refs]

    def _write(self, rows, key, apply_row):
        state = self.state
        with state.lock:
            if key in state.idempotency:
                return state.idempotency[key]
            stale = [row for row in rows if getattr(row, "expected", None) is not None
                     and state.available.get(row.ref.item_id, 0) != row.expected]
            if stale:
                result = WriteResult(rows=[RowResult(
                    ref=row.ref, location_id=row.location_id,
                    outcome=WriteOutcome.STALE if row in stale else WriteOutcome.REJECTED,
                    current=state.available.get(row.ref.item_id, 0)) for row in rows])
                return result  # not cached: a refused call applied nothing
            for row in rows:
                apply_row(row)
            state.writes_applied += 1
            result = WriteResult(rows=[RowResult(
                ref=row.ref, location_id=row.location_id, outcome=WriteOutcome.APPLIED,
                current=state.available[row.ref.item_id]) for row in rows])
            state.idempotency[key] = result
            if state.timeout_after_apply:
                state.timeout_after_apply -= 1
                raise OutcomeUnknown("read timed out after the write was sent")
            return result

    def set_levels(self, writes, *, idempotency_key, reason, ref_uri):
        def apply_row(row):
            self.state.available[row.ref.item_id] = row.target_ats
        return self._write(writes, idempotency_key, apply_row)

    def adjust_levels(self, deltas, *, idempotency_key, reason, ref_uri):
        def apply_row(row):
            self.state.available[row.ref.item_id] = (
                self.state.available.get(row.ref.item_id, 0) + row.delta)
        return self._write(deltas, idempotency_key, apply_row)

    def list_orders_since(self, watermark: Watermark, *, page_token=None):
        with self.state.lock:
            orders = sorted((o for o in self.state.orders.values()
                             if watermark.updated_at is None
                             or o.updated_at >= watermark.updated_at),
                            key=lambda o: o.updated_at)
        last = orders[-1].updated_at if orders else watermark.updated_at
        return OrderPage(orders=orders, next_watermark=Watermark(updated_at=last))

    def get_order(self, order_id):
        try:
            return self.state.orders[order_id]
        except KeyError:
            raise NotFound(order_id) from None

    def verify_webhook(self, headers, raw_body):
        lowered = {k.lower(): v for k, v in headers.items()}
        wanted = base64.b64encode(
            hmac.new(self.state.secret.encode(), raw_body, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(wanted, lowered.get("x-test-hmac", "")):
            raise InvalidSignature("bad signature")
        payload = json.loads(raw_body)
        return WebhookEnvelope(
            dedupe_key=lowered["x-test-event-id"], topic=lowered["x-test-topic"],
            triggered_at=datetime.fromisoformat(lowered["x-test-triggered-at"]),
            payload=payload, order_ids=[str(payload["id"])])
