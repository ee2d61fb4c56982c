"""Everything the sandbox remembers, behind one lock.

POs are kept in a dict plus two sorted indexes, by creation date and by last
update, so a 7-day window over 20,000 POs is two bisects and a slice.
"""

from __future__ import annotations

import bisect
import datetime
import random
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vendor_api.limits import DEFAULT_USAGE_PLANS, UsagePlan
from vendor_api.sandbox.generator import (
    SandboxPurchaseOrder,
    Vendor,
    demo_catalog,
    generate_purchase_orders,
)

DEMO_CLIENT_ID = "amzn1.application-oa2-client.sandbox-demo"
DEMO_CLIENT_SECRET = "sandbox-demo-secret"  # noqa: S105 (public demo value)
DEMO_REFRESH_TOKEN = "Atzr|sandbox-demo"  # noqa: S105 (public demo value)
DEMO_VENDOR_CODE = "DEMO1"
DEMO_PURCHASE_ORDERS = 60
# One seeded PO in this many is created within the last DEMO_FRESH_HOURS
# (6 of the demo's 60), its acknowledgement deadline still ahead.
DEMO_FRESH_SHARE = 10
DEMO_FRESH_HOURS = 12
DEFAULT_SEED = 20240601


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


def format_time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Scenario:
    """Knobs the control API sets; defaults behave like Amazon on a good day."""

    token_lifetime_seconds: int = 3600
    transaction_processing_seconds: float = 0.0
    transactions_stuck: bool = False  # stay Processing forever
    report_processing_seconds: float = 0.0
    rate_limits: dict[str, UsagePlan] = field(default_factory=dict)
    rate_limit_header: dict[str, float] = field(default_factory=dict)
    faults: list[dict] = field(default_factory=list)
    auto_receive: bool = False
    shortage_rate: float = 0.0


@dataclass
class Grant:
    refresh_token: str
    client_id: str
    vendor_codes: tuple[str, ...]
    revoked: bool = False


@dataclass
class Transaction:
    transaction_id: str
    kind: str
    ready_at: float
    errors: list[dict]
    apply: Any = None  # callable run once when it succeeds
    status: str = "Processing"


@dataclass
class Bucket:
    tokens: float
    stamp: float


class SandboxState:
    def __init__(self, *, seed: int = DEFAULT_SEED, purchase_orders: int = DEMO_PURCHASE_ORDERS,
                 now: datetime.datetime | None = None, validate_responses: bool = False):
        self.lock = threading.RLock()
        # Check each served body against Amazon's official models (which
        # only the tests have, in ../shared): on in tests through
        # running_sandbox(), off for `manage.py sandbox` and the benchmarks
        # (~2.5 ms per PO).
        self.validate_responses = validate_responses
        self.reset(seed=seed, purchase_orders=purchase_orders, now=now)

    # --- setup ------------------------------------------------------------
    def reset(self, *, seed: int = DEFAULT_SEED, purchase_orders: int = DEMO_PURCHASE_ORDERS,
              now: datetime.datetime | None = None) -> None:
        with self.lock:
            self.seed = seed
            self.rng = random.Random(seed)
            self.fault_rng = random.Random(seed + 1)
            self.scenario = Scenario()
            self.apps: dict[str, str] = {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET}
            self.grants: dict[str, Grant] = {
                DEMO_REFRESH_TOKEN: Grant(DEMO_REFRESH_TOKEN, DEMO_CLIENT_ID, (DEMO_VENDOR_CODE,))
            }
            self.access_tokens: dict[str, dict] = {}
            self.vendors: dict[str, Vendor] = {}
            self.orders: dict[str, SandboxPurchaseOrder] = {}
            self.created_index: list[tuple[datetime.datetime, str]] = []
            self.updated_index: list[tuple[datetime.datetime, str]] = []
            self.transactions: dict[str, Transaction] = {}
            self.pending: list[Transaction] = []
            self.submissions: list[dict] = []
            self.shipment_confirmations: dict[str, dict] = {}
            self.transport_requests: dict[str, dict] = {}
            self.invoices: dict[str, dict] = {}
            self.reports: dict[str, dict] = {}
            self.documents: dict[str, bytes] = {}
            self.buckets: dict[tuple[str, str], Bucket] = {}
            self.stats: dict[str, int] = {}
            self.conformance_problems: list[str] = []
            demo_vendor = Vendor(code=DEMO_VENDOR_CODE, catalog=demo_catalog(rng=self.rng))
            self.add_vendor(vendor=demo_vendor)
            if purchase_orders:
                # A share of the seeded POs is only hours old, so a fresh
                # demo shows running 24-hour acknowledgement clocks, not
                # only missed deadlines. Generated after the 30-day batch,
                # so that batch stays what the seed always drew.
                fresh = purchase_orders // DEMO_FRESH_SHARE
                self.generate(vendor_code=DEMO_VENDOR_CODE, count=purchase_orders - fresh,
                              days=30, now=now)
                if fresh:
                    self.generate(vendor_code=DEMO_VENDOR_CODE, count=fresh,
                                  days=DEMO_FRESH_HOURS / 24, now=now)

    def count(self, name: str, amount: int = 1) -> None:
        with self.lock:
            self.stats[name] = self.stats.get(name, 0) + amount

    def add_vendor(self, *, vendor: Vendor) -> None:
        with self.lock:
            if not vendor.catalog:
                vendor.catalog = demo_catalog(rng=self.rng)
            self.vendors[vendor.code] = vendor

    def add_app(self, *, client_id: str, client_secret: str, refresh_token: str,
                vendor_codes: tuple[str, ...]) -> None:
        with self.lock:
            self.apps[client_id] = client_secret
            self.grants[refresh_token] = Grant(refresh_token, client_id, tuple(vendor_codes))

    def generate(self, *, vendor_code: str, count: int, days: float,
                 now: datetime.datetime | None = None) -> list[SandboxPurchaseOrder]:
        """``count`` POs created over the last ``days`` days (up to ``now``)."""
        with self.lock:
            end = now or utc_now()
            start = end - datetime.timedelta(days=days)
            orders = generate_purchase_orders(
                vendor=self.vendors[vendor_code], rng=self.rng, count=count, start=start,
                end=end, existing_numbers=set(self.orders),
            )
            for order in orders:
                self.orders[order.number] = order
                self.created_index.append((order.created, order.number))
                self.updated_index.append((order.updated, order.number))
            self.created_index.sort()
            self.updated_index.sort()
            return orders

    def new_orders_start(self, *, vendor_code: str, every_seconds: float) -> threading.Event:
        """Place one new PO (created just now) every ``every_seconds``, as
        Amazon's buyers do through the day, until the returned event is set.

        The demo runs this so a new user sees POs keep arriving, each with
        a fresh 24-hour acknowledgement clock.
        """
        stop = threading.Event()

        def place_orders() -> None:
            while not stop.wait(every_seconds):
                self.generate(vendor_code=vendor_code, count=1, days=1 / (24 * 60))

        threading.Thread(target=place_orders, name="sandbox-new-orders", daemon=True).start()
        return stop

    def touch(self, order: SandboxPurchaseOrder, change) -> None:
        """Apply ``change`` to a PO and keep the update index in order."""
        with self.lock:
            old = (order.updated, order.number)
            index = bisect.bisect_left(self.updated_index, old)
            if index < len(self.updated_index) and self.updated_index[index] == old:
                del self.updated_index[index]
            change(order)
            bisect.insort(self.updated_index, (order.updated, order.number))

    # --- LWA ------------------------------------------------------------------
    def issue_token(self, *, grant: Grant) -> tuple[str, int]:
        with self.lock:
            token = "Atza|" + secrets.token_urlsafe(24)
            lifetime = self.scenario.token_lifetime_seconds
            self.access_tokens[token] = {
                "expires_at": time.time() + lifetime, "refresh_token": grant.refresh_token,
            }
            return token, lifetime

    def grant_for_token(self, token: str) -> tuple[Grant | None, str]:
        """(grant, problem) for an access token; problem is '' when it is valid."""
        with self.lock:
            record = self.access_tokens.get(token)
            if record is None:
                return None, "invalid"
            if record["expires_at"] <= time.time():
                return None, "expired"
            grant = self.grants.get(record["refresh_token"])
            if grant is None or grant.revoked:
                return None, "invalid"
            return grant, ""

    def expire_tokens(self) -> None:
        with self.lock:
            for record in self.access_tokens.values():
                record["expires_at"] = 0

    # --- rate limits ----------------------------------------------------------
    def plan_for(self, operation: str) -> UsagePlan | None:
        return self.scenario.rate_limits.get(operation) or DEFAULT_USAGE_PLANS.get(operation)

    def take_token(self, *, grant_key: str, operation: str) -> bool:
        plan = self.plan_for(operation)
        if plan is None:
            return True
        with self.lock:
            now = time.monotonic()
            bucket = self.buckets.get((grant_key, operation))
            if bucket is None:
                bucket = self.buckets[(grant_key, operation)] = Bucket(plan.burst, now)
            bucket.tokens = min(plan.burst, bucket.tokens + (now - bucket.stamp) * plan.rate)
            bucket.stamp = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return True
            return False

    # --- faults ---------------------------------------------------------------
    def next_fault(self, *, operation: str) -> dict | None:
        """The first matching fault rule, consuming one use of a counted rule."""
        with self.lock:
            for rule in self.scenario.faults:
                if rule.get("operation", "*") not in ("*", operation):
                    continue
                if "count" in rule:
                    if rule["count"] <= 0:
                        continue
                    rule["count"] -= 1
                    return rule
                if self.fault_rng.random() < float(rule.get("rate", 1.0)):
                    return rule
            return None

    # --- transactions -----------------------------------------------------------
    def new_transaction(self, *, kind: str, errors: list[dict], apply=None) -> Transaction:
        with self.lock:
            stamp = utc_now().strftime("%Y%m%d%H%M%S")
            transaction = Transaction(
                transaction_id=f"{stamp}-{uuid.UUID(int=self.rng.getrandbits(128))}",
                kind=kind,
                ready_at=time.time() + self.scenario.transaction_processing_seconds,
                errors=errors,
                apply=apply,
            )
            if self.scenario.transactions_stuck:
                transaction.ready_at = float("inf")
            self.transactions[transaction.transaction_id] = transaction
            if transaction.ready_at <= time.time():
                self._settle(transaction)
            else:
                self.pending.append(transaction)
            return transaction

    def settle_due(self) -> None:
        """Finish transactions whose processing time is over, polled or not."""
        with self.lock:
            if not self.pending:
                return
            now = time.time()
            due = [t for t in self.pending if t.ready_at <= now]
            self.pending = [t for t in self.pending if t.ready_at > now]
            for transaction in due:
                self._settle(transaction)

    def _settle(self, transaction: Transaction) -> None:
        if transaction.status != "Processing":
            return
        if transaction.errors:
            transaction.status = "Failure"
            return
        transaction.status = "Success"
        if transaction.apply:
            transaction.apply()

    def transaction_status(self, transaction_id: str) -> Transaction | None:
        with self.lock:
            transaction = self.transactions.get(transaction_id)
            if transaction and transaction.ready_at <= time.time():
                self._settle(transaction)
            return transaction

    # --- receiving ----------------------------------------------------------------
    def receive(self, *, order: SandboxPurchaseOrder, received: dict[str, int] | None = None,
                shortage_rate: float = 0.0) -> None:
        """Amazon receives the goods: quantities per line, or accepted minus a shortage."""
        now = utc_now()

        def change(po: SandboxPurchaseOrder) -> None:
            for line in po.lines:
                expected = line.accepted or line.open_quantity
                if received is not None and line.sequence in received:
                    quantity = int(received[line.sequence])
                elif received is not None:
                    quantity = 0
                else:
                    shortage = Decimal(expected) * Decimal(str(shortage_rate))
                    short = int(shortage.to_integral_value())
                    quantity = max(0, expected - short)
                line.received = quantity
                line.last_receive_date = now
            po.state = "Closed"
            po.state_changed = now

        self.touch(order, change)

    # --- paging -------------------------------------------------------------------
    def window(self, *, index_name: str, after: datetime.datetime,
               before: datetime.datetime) -> list[SandboxPurchaseOrder]:
        """POs whose created/updated date is in [after, before)."""
        with self.lock:
            index = self.created_index if index_name == "created" else self.updated_index
            start = bisect.bisect_left(index, (after, ""))
            end = bisect.bisect_left(index, (before, ""))
            return [self.orders[number] for _, number in index[start:end]]
