"""The store adapter contract (shared/docs/store-channels.md §6).

The sync engine deals only in ``ats`` (available to sell, an integer >= 0)
and an opaque ``cas_token``; each adapter translates to its platform's own
quantity (Shopify ``available``; Magento source quantity plus its own
unshipped reservations; BigCommerce on-hand plus its safety stock) and
declares what the platform can do in ``Capabilities``.

Failures beneath the adapter are normalised to the errors below; the
engine retries only ``Transient``, ``RateLimited`` and ``OutcomeUnknown``,
always with the same idempotency key, and re-reads before writing again
after an ``OutcomeUnknown``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar


class Platform(enum.StrEnum):
    SHOPIFY = "shopify"
    MAGENTO = "magento"
    BIGCOMMERCE = "bigcommerce"


class CompareAndSet(enum.StrEnum):
    NATIVE = "native"  # the platform refuses a write whose expected value is stale
    NONE = "none"  # last write wins: deltas for events, absolutes only in reconciliation


class QuantitySemantics(enum.StrEnum):
    AVAILABLE = "available"  # Shopify: write ATS as `available`
    SOURCE_ONHAND_MINUS_RESERVATIONS = "source_onhand_minus_reservations"  # Magento MSI
    ONHAND_MINUS_SAFETY = "onhand_minus_safety"  # BigCommerce


@dataclass(frozen=True, slots=True)
class Capabilities:
    cas: CompareAndSet
    idempotency_key: bool
    delta_writes: bool
    max_write_batch: int
    quantity_semantics: QuantitySemantics
    webhooks: bool = True
    bulk_reads: bool = False


@dataclass(frozen=True, slots=True)
class StoreEndpoint:
    """Where a store answers: its base URL (the real host or the sandbox)."""

    platform: Platform
    base_url: str
    api_version: str = ""


# --- What adapters return --------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemRef:
    """The platform's own ids of one sellable item, never the SKU alone
    (SKUs are not unique on Shopify): e.g. Shopify variant + inventory
    item gids, Magento SKU (unique there), BigCommerce product + variant."""

    item_id: str
    variant_id: str = ""


@dataclass(frozen=True, slots=True)
class ChannelLocation:
    location_id: str
    name: str
    is_active: bool = True


@dataclass(frozen=True, slots=True)
class ChannelSku:
    ref: ItemRef
    sku: str
    gtin: str = ""
    title: str = ""
    updated_at: datetime | None = None


T = TypeVar("T")


@dataclass(frozen=True)  # no slots: typing sets __orig_class__ on Page[X](...)
class Page(Generic[T]):  # noqa: UP046 (Python 3.11: no PEP 695 syntax)
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class LevelSnapshot:
    ref: ItemRef
    location_id: str
    ats: int
    raw: Mapping[str, int]
    observed_at: datetime
    cas_token: int | None = None


@dataclass(frozen=True, slots=True)
class LevelWrite:
    ref: ItemRef
    location_id: str
    target_ats: int
    expected: int | None = None  # the cas_token last observed; None skips the check


@dataclass(frozen=True, slots=True)
class LevelDelta:
    ref: ItemRef
    location_id: str
    delta: int


class WriteOutcome(enum.StrEnum):
    APPLIED = "applied"
    STALE = "stale"  # compare-and-set refused: `current` says what is there
    REJECTED = "rejected"  # the platform refused the row: `code` says why
    UNKNOWN = "unknown"  # the call may or may not have been applied: re-read


@dataclass(frozen=True, slots=True)
class RowResult:
    ref: ItemRef
    location_id: str
    outcome: WriteOutcome
    current: int | None = None
    code: str = ""


@dataclass(frozen=True, slots=True)
class WriteResult:
    rows: list[RowResult]


@dataclass(frozen=True, slots=True)
class Watermark:
    """Where an order poll resumes: the last ``updated_at`` seen and an
    opaque platform cursor; polls overlap it so nothing is missed."""

    updated_at: datetime | None = None
    cursor: str = ""


@dataclass(frozen=True, slots=True)
class OrderLine:
    line_id: str
    sku: str
    ref: ItemRef | None
    quantity: int
    quantity_cancelled: int = 0
    quantity_shipped: int = 0


@dataclass(frozen=True, slots=True)
class ChannelOrder:
    order_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    cancelled: bool
    lines: list[OrderLine]
    is_test: bool = False
    raw_status: str = ""


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: list[ChannelOrder]
    next_watermark: Watermark
    next_page_token: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookEnvelope:
    dedupe_key: str  # the platform's event id (Shopify X-Shopify-Event-Id, ...)
    topic: str
    triggered_at: datetime | None
    payload: Mapping
    refs: list[ItemRef] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)


# --- Errors ------------------------------------------------------------------


class StoreError(Exception):
    """Base of every normalised store failure; ``retryable`` says whether
    the engine may try again (with the same idempotency key)."""

    retryable = False

    def __init__(self, message: str, *, code: str = "", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class AuthError(StoreError):
    pass


class NotFound(StoreError):
    pass


class Validation(StoreError):
    def __init__(self, message: str, *, code: str = "", field: str = "", status=None):
        super().__init__(message, code=code, status=status)
        self.field = field


class Stale(StoreError):
    pass


class Transient(StoreError):
    retryable = True


class RateLimited(StoreError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float, code: str = "", status=None):
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class OutcomeUnknown(StoreError):
    """The write may have been applied (timeout after send, 5xx on a
    write): re-read before writing again; never a blind absolute retry."""

    retryable = True


class InvalidSignature(StoreError):
    pass


# --- The contract ------------------------------------------------------------


class ChannelAdapter(Protocol):
    """One instance per store connection (credentials bound at build)."""

    capabilities: Capabilities

    def list_locations(self) -> list[ChannelLocation]: ...

    def list_skus(
        self, *, updated_since: datetime | None = None, cursor: str | None = None
    ) -> Page[ChannelSku]: ...

    def get_levels(
        self, refs: Sequence[ItemRef], locations: Sequence[str] | None = None
    ) -> list[LevelSnapshot]: ...

    def set_levels(
        self, writes: Sequence[LevelWrite], *, idempotency_key: str, reason: str, ref_uri: str
    ) -> WriteResult: ...

    def adjust_levels(
        self, deltas: Sequence[LevelDelta], *, idempotency_key: str, reason: str, ref_uri: str
    ) -> WriteResult: ...

    def list_orders_since(
        self, watermark: Watermark, *, page_token: str | None = None
    ) -> OrderPage: ...

    def get_order(self, order_id: str) -> ChannelOrder: ...

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes
    ) -> WebhookEnvelope: ...
