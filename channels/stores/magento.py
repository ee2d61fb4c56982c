"""The Magento 2 / Adobe Commerce adapter: REST with MSI (store-channels.md §2, §6).

Auth. An integration's consumer key/secret + access token/secret sign every
request with OAuth 1.0a HMAC-SHA256 (requests-oauthlib over oauthlib: the
maintained reference implementation of RFC 5849; since 2.4.4 Magento no
longer accepts the integration token alone as Bearer). When only
``access_token`` is set (a store with ``enable_integration_as_bearer``, or an
admin token) it is sent as ``Authorization: Bearer``.

Quantities. The engine deals in ATS; Magento subtracts its own unshipped
order reservations from the source quantity to get the salable quantity,
so pushing ATS as the source quantity would subtract pending orders twice
(magento/inventory#2269). There is no REST endpoint for reservations, so the
adapter derives them per (SKU, stock) from the salable quantity:

    reservations = salable - (sum of in-stock source quantity linked to the stock - threshold)

(``GET /V1/inventory/get-product-salable-quantity/{sku}/{stock}`` and the
threshold ``min_qty`` of ``GET /V1/stockItems/{sku}``) and writes
``source quantity = ats + unshipped`` with ``unshipped = -reservations``.
Reservations belong to a stock, not a source: the adapter charges them to
the stock's highest-priority source (priority 1 in stock-source-links), the
source Magento's default source selection ships from; other sources carry
``quantity = ats``. Three calls per SKU (plus the paged source items) is the
price of the exact number; Magento has no request-rate limit of its own
(a small fixed governor below spaces our calls).

Writes. No compare-and-set and no idempotency key (last write wins):
``set_levels`` writes absolutes (reconciliation); ``adjust_levels`` is a
read-modify-write of the source quantity inside a short critical section (a
cache lock per SKU and source, shared by every worker), at most 20 source
items per call (the 2.4.3+ input limit). The absolutes a delta turned into
are remembered under the call's idempotency key before sending, so a retry
after an unknown outcome re-sends the same absolutes instead of adding the
delta twice.

Paging. searchCriteria pages stop on ``total_count``: a page past the end
answers the last page again (magento/magento2#3787), so the loop never asks
for it. Orders: ``/V1/orders`` filtered ``updated_at >= watermark`` (the
engine subtracts the overlap), sorted by ``updated_at`` then ``entity_id``.
A configurable product yields a parent row and a child row with one SKU:
the parent (which carries the quantities) is counted, its child skipped; a
bundle's children carry the stock, its parent row is skipped.

Webhooks. Magento Open Source has none for orders or stock (Adobe
Commerce's webhooks and I/O events are a paid add-on), so
``capabilities.webhooks`` is False and the engine's order poll (every few
minutes with an ``updated_at`` overlap) is the only order feed;
``verify_webhook`` refuses every delivery.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1

from channels.stores.adapter import (
    AuthError,
    Capabilities,
    ChannelLocation,
    ChannelOrder,
    ChannelSku,
    CompareAndSet,
    InvalidSignature,
    ItemRef,
    LevelDelta,
    LevelSnapshot,
    LevelWrite,
    NotFound,
    OrderLine,
    OrderPage,
    OutcomeUnknown,
    Page,
    Platform,
    QuantitySemantics,
    RateLimited,
    RowResult,
    StoreEndpoint,
    StoreError,
    Transient,
    Validation,
    Watermark,
    WebhookEnvelope,
    WriteOutcome,
    WriteResult,
)
from channels.stores.registry import adapter_register

logger = logging.getLogger(__name__)

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
PAGE_SIZE = 100  # under the 300 input limit
WRITE_BATCH = 20  # the 2.4.3+ list input limit (sync)
FILTER_CHUNK = 100  # SKUs per "in" filter (URL length)
LOCK_SECONDS = 30
THRESHOLD_SECONDS = 300
IDEMPOTENCY_SECONDS = 24 * 3600
OPEN_STATES = ("new", "pending_payment", "processing", "holded", "payment_review")
MIN_INTERVAL = 0.02  # the fixed budget: at most ~50 calls/s per store from one process

CAPABILITIES = Capabilities(
    cas=CompareAndSet.NONE,
    idempotency_key=False,
    delta_writes=True,
    max_write_batch=WRITE_BATCH,
    quantity_semantics=QuantitySemantics.SOURCE_ONHAND_MINUS_RESERVATIONS,
    webhooks=False,
    bulk_reads=False,
)


def magento_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime(DATE_FORMAT)


def parse_magento_date(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value[:19], DATE_FORMAT).replace(tzinfo=UTC)


def error_message(body) -> str:
    """Magento's ``{"message": "... %1 / %name ...", "parameters": [...] | {...}}``."""
    if not isinstance(body, dict):
        return str(body)[:500]
    message = str(body.get("message", ""))
    parameters = body.get("parameters")
    if isinstance(parameters, list):
        for index, value in reversed(list(enumerate(parameters, 1))):
            message = message.replace(f"%{index}", str(value))
    elif isinstance(parameters, dict):
        for name in sorted(parameters, key=len, reverse=True):
            message = message.replace(f"%{name}", str(parameters[name]))
    details = []
    for error in body.get("errors") or []:
        details.append(error_message(error))
    if details:
        message = f"{message} ({'; '.join(details)})"
    return message


def criteria(groups: Sequence[Sequence[tuple[str, str, str]]], *, page: int | None = None,
             page_size: int | None = None, sort: Sequence[tuple[str, str]] = ()) -> dict:
    """searchCriteria query parameters: filters OR'd within a group, groups AND'd."""
    params: dict[str, str | int] = {}
    for g, group in enumerate(groups):
        for f, (field_name, condition, value) in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            params[f"{prefix}[field]"] = field_name
            params[f"{prefix}[value]"] = value
            params[f"{prefix}[condition_type]"] = condition
    for s, (field_name, direction) in enumerate(sort):
        params[f"searchCriteria[sortOrders][{s}][field]"] = field_name
        params[f"searchCriteria[sortOrders][{s}][direction]"] = direction
    if page_size:
        params["searchCriteria[pageSize]"] = page_size
        params["searchCriteria[currentPage]"] = page or 1
    return params


def last_page(body: dict, page: int, page_size: int) -> bool:
    """Stop on total_count: Magento repeats the last page past the end."""
    total = int(body.get("total_count") or 0)
    return page * page_size >= total or not body.get("items")


class MagentoAdapter:
    capabilities = CAPABILITIES

    def __init__(self, *, endpoint: StoreEndpoint, credentials: Mapping[str, str], cache,
                 store_code: str = "default", timeout: tuple[float, float] = (5.0, 30.0),
                 session: requests.Session | None = None):
        self.endpoint = endpoint
        self.base = endpoint.base_url.rstrip("/") + f"/rest/{store_code}/V1"
        self.cache = cache
        self.timeout = timeout
        self.session = session or requests.Session()
        if all(credentials.get(k) for k in ("consumer_key", "consumer_secret", "access_token",
                                             "access_token_secret")):
            self.auth = OAuth1(
                credentials["consumer_key"], client_secret=credentials["consumer_secret"],
                resource_owner_key=credentials["access_token"],
                resource_owner_secret=credentials["access_token_secret"],
                signature_method=SIGNATURE_HMAC_SHA256, signature_type="AUTH_HEADER",
            )
            self.bearer = ""
        elif credentials.get("access_token"):
            self.auth = None
            self.bearer = credentials["access_token"]
        else:
            raise AuthError("The Magento connection needs an integration's consumer key/secret "
                            "and access token/secret (or a Bearer token).")
        self.store_key = endpoint.base_url.rstrip("/")
        self._stock_links: list[dict] | None = None
        self._last_call = 0.0

    # --- Transport -----------------------------------------------------------------

    def _request(self, method: str, path: str, *, params=None, body=None, write: bool = False):
        wait = self._last_call + MIN_INTERVAL - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_call = time.monotonic()
        headers = {"Accept": "application/json"}
        if self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            response = self.session.request(method, self.base + path, params=params, data=data,
                                            headers=headers, auth=self.auth, timeout=self.timeout)
        except requests.ConnectTimeout as error:
            raise Transient(f"Magento did not accept the connection: {error}") from error
        except (requests.Timeout, requests.ConnectionError) as error:
            if write:
                raise OutcomeUnknown(
                    f"Magento did not answer the write in time: {error}") from error
            raise Transient(f"Magento did not answer: {error}") from error
        return self._answer(response, write=write)

    @staticmethod
    def _answer(response: requests.Response, *, write: bool):
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text[:500]
        status = response.status_code
        if status < 300:
            return body
        message = error_message(body) or f"HTTP {status}"
        if status == 401 or status == 403:
            raise AuthError(message, status=status)
        if status == 404:
            raise NotFound(message, status=status)
        if status == 429:
            retry_after = float(response.headers.get("Retry-After") or 2)
            raise RateLimited(message, retry_after=retry_after, status=status)
        if status >= 500:
            if write:
                raise OutcomeUnknown(message, status=status)
            raise Transient(message, status=status)
        field_name = ""
        if isinstance(body, dict):
            for error in body.get("errors") or []:
                parameters = error.get("parameters")
                if isinstance(parameters, dict) and parameters.get("field"):
                    field_name = str(parameters["field"])
                    break
        raise Validation(message, status=status, field=field_name)

    def _search(self, path: str, groups, *, sort=()):
        """Every item of a searchCriteria list, page by page until total_count."""
        items: list[dict] = []
        page = 1
        while True:
            body = self._request("GET", path, params=criteria(groups, page=page,
                                                              page_size=PAGE_SIZE, sort=sort))
            items.extend(body.get("items") or [])
            if last_page(body, page, PAGE_SIZE):
                return items
            page += 1

    # --- Topology --------------------------------------------------------------------

    def list_locations(self) -> list[ChannelLocation]:
        sources = self._search("/inventory/sources", [])
        return [ChannelLocation(location_id=s["source_code"], name=s.get("name") or "",
                                is_active=bool(s.get("enabled", True))) for s in sources]

    def _links(self) -> list[dict]:
        if self._stock_links is None:
            self._stock_links = self._search("/inventory/stock-source-links", [],
                                             sort=[("stock_id", "ASC"), ("priority", "ASC")])
        return self._stock_links

    def _stock_of(self, source_code: str) -> tuple[int | None, bool]:
        """(stock id, whether this is the stock's highest-priority source)."""
        links = self._links()
        for link in links:
            if link["source_code"] == source_code:
                stock_id = int(link["stock_id"])
                first = min((lk for lk in links if int(lk["stock_id"]) == stock_id),
                            key=lambda lk: int(lk.get("priority") or 0))
                return stock_id, first["source_code"] == source_code
        return None, False

    # --- Catalog -----------------------------------------------------------------------

    def list_skus(self, *, updated_since: datetime | None = None,
                  cursor: str | None = None) -> Page[ChannelSku]:
        page = int(cursor or 1)
        groups = [[("type_id", "eq", "simple")]]
        if updated_since:
            groups.append([("updated_at", "gteq", magento_date(updated_since))])
        body = self._request("GET", "/products", params=criteria(
            groups, page=page, page_size=PAGE_SIZE, sort=[("entity_id", "ASC")]))
        items = []
        for product in body.get("items") or []:
            attributes = {a.get("attribute_code"): a.get("value")
                          for a in product.get("custom_attributes") or []}
            gtin = next((str(attributes[k]) for k in ("gtin", "ean", "upc", "barcode")
                         if attributes.get(k)), "")
            items.append(ChannelSku(ref=ItemRef(item_id=product["sku"]), sku=product["sku"],
                                    gtin=gtin, title=product.get("name") or "",
                                    updated_at=parse_magento_date(product.get("updated_at"))))
        next_cursor = None if last_page(body, page, PAGE_SIZE) else str(page + 1)
        return Page(items=items, next_cursor=next_cursor)

    # --- Levels --------------------------------------------------------------------------

    def _source_items(self, skus: Sequence[str], locations: Sequence[str] | None) -> list[dict]:
        found: list[dict] = []
        for start in range(0, len(skus), FILTER_CHUNK):
            chunk = skus[start:start + FILTER_CHUNK]
            groups = [[("sku", "in", ",".join(chunk))]]
            if locations:
                groups.append([("source_code", "in", ",".join(locations))])
            found.extend(self._search("/inventory/source-items", groups,
                                      sort=[("sku", "ASC"), ("source_code", "ASC")]))
        return found

    def _unshipped(self, sku: str, stock_id: int, source_items: Sequence[dict]) -> int:
        """Magento's unshipped order quantity for (sku, stock), from its salable quantity."""
        linked = {link["source_code"] for link in self._links()
                  if int(link["stock_id"]) == stock_id}
        enabled = {location.location_id for location in self._locations_cached()
                   if location.is_active}
        physical = sum(float(item.get("quantity") or 0) for item in source_items
                       if item["sku"] == sku and int(item.get("status") or 0) == 1
                       and item["source_code"] in linked and item["source_code"] in enabled)
        salable = float(self._request(
            "GET", f"/inventory/get-product-salable-quantity/{quote(sku, safe='')}/{stock_id}"))
        threshold = self._threshold(sku)
        reservations = salable - (physical - threshold)
        return max(int(round(-reservations)), 0)

    def _threshold(self, sku: str) -> float:
        """The out-of-stock threshold (min_qty), cached a few minutes: it is configuration
        and almost always the store-wide default, so one call per SKU is saved."""
        key = f"magento:min-qty:{self.store_key}:{sku}"
        cached = self.cache.get(key)
        if cached is None:
            cached = float((self._request("GET", f"/stockItems/{quote(sku, safe='')}") or {})
                           .get("min_qty") or 0)
            self.cache.set(key, cached, timeout=THRESHOLD_SECONDS)
        return cached

    def _locations_cached(self) -> list[ChannelLocation]:
        if not hasattr(self, "_locations"):
            self._locations = self.list_locations()
        return self._locations

    def get_levels(self, refs: Sequence[ItemRef],
                   locations: Sequence[str] | None = None) -> list[LevelSnapshot]:
        skus = sorted({ref.item_id for ref in refs})
        if not skus:
            return []
        source_items = self._source_items(skus, None)  # all sources: salable sums them
        observed = datetime.now(UTC)
        wanted = set(locations) if locations else None
        snapshots = []
        unshipped_cache: dict[tuple[str, int], int] = {}
        for item in source_items:
            code = item["source_code"]
            if wanted is not None and code not in wanted:
                continue
            sku = item["sku"]
            quantity = int(float(item.get("quantity") or 0))
            stock_id, first = self._stock_of(code)
            unshipped = 0
            if stock_id is not None and first:
                key = (sku, stock_id)
                if key not in unshipped_cache:
                    unshipped_cache[key] = self._unshipped(sku, stock_id, source_items)
                unshipped = unshipped_cache[key]
            status = int(item.get("status") or 0)
            ats = max(quantity - unshipped, 0) if status == 1 else 0
            snapshots.append(LevelSnapshot(
                ref=ItemRef(item_id=sku), location_id=code, ats=ats,
                raw={"quantity": quantity, "status": status, "unshipped": unshipped},
                observed_at=observed, cas_token=None))
        return snapshots

    # --- Writes ----------------------------------------------------------------------------

    def _save(self, rows: list[dict]) -> None:
        for start in range(0, len(rows), WRITE_BATCH):
            self._request("POST", "/inventory/source-items",
                          body={"sourceItems": rows[start:start + WRITE_BATCH]}, write=True)

    def _remembered(self, idempotency_key: str):
        return self.cache.get(f"magento:idem:{self.store_key}:{idempotency_key}")

    def _remember(self, idempotency_key: str, value) -> None:
        self.cache.set(f"magento:idem:{self.store_key}:{idempotency_key}", value,
                       timeout=IDEMPOTENCY_SECONDS)

    def _write_absolutes(self, targets: list[dict], idempotency_key: str) -> WriteResult:
        """Send source quantities; remember them first so a retry re-sends the same."""
        self._remember(idempotency_key, {"state": "sent", "targets": targets})
        rows = [{"sku": t["sku"], "source_code": t["source_code"], "quantity": t["quantity"],
                 "status": 1 if t["quantity"] > 0 else 0} for t in targets]
        try:
            self._save(rows)
        except StoreError as error:
            if not isinstance(error, OutcomeUnknown):
                self.cache.delete(f"magento:idem:{self.store_key}:{idempotency_key}")
            raise
        self._remember(idempotency_key, {"state": "applied", "targets": targets})
        return WriteResult(rows=[RowResult(ref=ItemRef(item_id=t["sku"]),
                                           location_id=t["source_code"],
                                           outcome=WriteOutcome.APPLIED, current=t["ats"])
                                 for t in targets])

    def _replay(self, idempotency_key: str) -> WriteResult | None:
        remembered = self._remembered(idempotency_key)
        if not remembered:
            return None
        if remembered["state"] == "sent":  # outcome unknown: the same absolutes again
            return self._write_absolutes(remembered["targets"], idempotency_key)
        return WriteResult(rows=[RowResult(ref=ItemRef(item_id=t["sku"]),
                                           location_id=t["source_code"],
                                           outcome=WriteOutcome.APPLIED, current=t["ats"])
                                 for t in remembered["targets"]])

    def _lock(self, keys: list[str]):
        adapter = self

        class _Locks:
            def __enter__(self):
                self.held = []
                deadline = time.monotonic() + LOCK_SECONDS
                for key in sorted(set(keys)):  # one order: no deadlock between workers
                    while not adapter.cache.add(key, 1, timeout=LOCK_SECONDS):
                        if time.monotonic() > deadline:
                            self.__exit__(None, None, None)
                            raise Transient("Another worker is writing these Magento source items.")
                        time.sleep(0.05)
                    self.held.append(key)
                return self

            def __exit__(self, *exc):
                for key in self.held:
                    adapter.cache.delete(key)
                self.held = []

        return _Locks()

    def _lock_keys(self, pairs) -> list[str]:
        return [f"magento:rmw:{self.store_key}:{sku}:{code}" for sku, code in pairs]

    def set_levels(self, writes: Sequence[LevelWrite], *, idempotency_key: str, reason: str,
                   ref_uri: str) -> WriteResult:
        replayed = self._replay(idempotency_key)
        if replayed is not None:
            return replayed
        with self._lock(self._lock_keys((w.ref.item_id, w.location_id) for w in writes)):
            current = {(s.ref.item_id, s.location_id): s
                       for s in self.get_levels([w.ref for w in writes],
                                                sorted({w.location_id for w in writes}))}
            targets = []
            for write in writes:
                snapshot = current.get((write.ref.item_id, write.location_id))
                unshipped = snapshot.raw["unshipped"] if snapshot else self._unshipped_new(
                    write.ref.item_id, write.location_id)
                target = max(int(write.target_ats), 0)
                targets.append({"sku": write.ref.item_id, "source_code": write.location_id,
                                "quantity": target + unshipped, "ats": target})
            return self._write_absolutes(targets, idempotency_key)

    def _unshipped_new(self, sku: str, source_code: str) -> int:
        """Unshipped quantity for a SKU with no source item yet at this source."""
        stock_id, first = self._stock_of(source_code)
        if stock_id is None or not first:
            return 0
        return self._unshipped(sku, stock_id, self._source_items([sku], None))

    def adjust_levels(self, deltas: Sequence[LevelDelta], *, idempotency_key: str, reason: str,
                      ref_uri: str) -> WriteResult:
        replayed = self._replay(idempotency_key)
        if replayed is not None:
            return replayed
        with self._lock(self._lock_keys((d.ref.item_id, d.location_id) for d in deltas)):
            refs = [d.ref for d in deltas]
            current = {(s.ref.item_id, s.location_id): s
                       for s in self.get_levels(refs, sorted({d.location_id for d in deltas}))}
            targets, rejected = [], []
            for delta in deltas:
                snapshot = current.get((delta.ref.item_id, delta.location_id))
                if snapshot is None:
                    rejected.append(RowResult(ref=delta.ref, location_id=delta.location_id,
                                              outcome=WriteOutcome.REJECTED,
                                              code="NOT_STOCKED_AT_SOURCE"))
                    continue
                ats = max(snapshot.ats + int(delta.delta), 0)
                targets.append({"sku": delta.ref.item_id, "source_code": delta.location_id,
                                "quantity": ats + int(snapshot.raw["unshipped"]), "ats": ats})
            if not targets:
                return WriteResult(rows=rejected)
            result = self._write_absolutes(targets, idempotency_key)
            return WriteResult(rows=result.rows + rejected)

    # --- Orders ------------------------------------------------------------------------

    @staticmethod
    def order_from(body: dict) -> ChannelOrder:
        items = body.get("items") or []
        by_id = {item.get("item_id"): item for item in items}
        lines = []
        for item in items:
            parent = by_id.get(item.get("parent_item_id")) if item.get("parent_item_id") else None
            if parent is not None and parent.get("product_type") == "configurable":
                continue  # the parent row carries the quantities: count it once
            if item.get("product_type") == "bundle":
                continue  # a bundle's children carry the stock
            quantity = int(float(item.get("qty_ordered") or 0))
            shipped = int(float(item.get("qty_shipped") or 0))
            cancelled = int(float(item.get("qty_canceled") or 0))
            refunded = int(float(item.get("qty_refunded") or 0))
            cancelled = min(quantity - shipped, cancelled + refunded) if quantity > shipped else 0
            sku = str(item.get("sku") or "")
            lines.append(OrderLine(line_id=str(item.get("item_id")), sku=sku,
                                   ref=ItemRef(item_id=sku) if sku else None, quantity=quantity,
                                   quantity_cancelled=max(cancelled, 0),
                                   quantity_shipped=shipped))
        state = str(body.get("state") or "")
        return ChannelOrder(
            order_id=str(body["entity_id"]),
            name=str(body.get("increment_id") or body["entity_id"]),
            created_at=parse_magento_date(body.get("created_at")),
            updated_at=parse_magento_date(body.get("updated_at") or body.get("created_at")),
            cancelled=state == "canceled", lines=lines, raw_status=state,
        )

    def list_orders_since(self, watermark: Watermark, *,
                          page_token: str | None = None) -> OrderPage:
        page = int(page_token or 1)
        groups = []
        if watermark.updated_at:
            groups.append([("updated_at", "gteq", magento_date(watermark.updated_at))])
        body = self._request("GET", "/orders", params=criteria(
            groups, page=page, page_size=PAGE_SIZE,
            sort=[("updated_at", "ASC"), ("entity_id", "ASC")]))
        orders = [self.order_from(order) for order in body.get("items") or []]
        high = max([o.updated_at for o in orders if o.updated_at] +
                   ([watermark.updated_at] if watermark.updated_at else []), default=None)
        next_token = None if last_page(body, page, PAGE_SIZE) else str(page + 1)
        return OrderPage(orders=orders, next_watermark=Watermark(updated_at=high),
                         next_page_token=next_token)

    def get_order(self, order_id: str) -> ChannelOrder:
        return self.order_from(self._request("GET", f"/orders/{quote(str(order_id), safe='')}"))

    # --- Webhooks --------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> WebhookEnvelope:
        raise InvalidSignature("Magento sends no order or stock webhooks; ACORN polls its orders.",
                               code="NO_WEBHOOKS")


@adapter_register(Platform.MAGENTO)
def magento_adapter(*, endpoint, credentials, cache):
    return MagentoAdapter(endpoint=endpoint, credentials=credentials, cache=cache)
