"""The BigCommerce adapter: REST v3 catalog/inventory, v2 orders (store-channels.md §3, §6).

Auth: ``X-Auth-Token`` of a store-level API account (tokens do not expire)
on ``{base}/stores/{store_hash}/v3|v2/...``.

Identity: an item is (product id, variant id); the adapter writes by
``variant_id`` (a SKU may be empty or repeated).

Quantities: BigCommerce's ``available_to_sell = total_inventory_onhand -
safety_stock``. The engine's ATS is what BigCommerce should sell, so the
adapter writes ``on-hand = ats + safety_stock``. ACORN keeps BigCommerce's
safety stock at 0 and holds its buffers in the ERP (channel buffer rules):
a safety stock set in BigCommerce is honoured (read before an absolute
write) but never changed by ACORN.

Writes: no compare-and-set, no idempotency key. ``adjust_levels`` sends
relative adjustments (event-driven deltas); ``set_levels`` absolute ones
(reconciliation, after a read for the safety stock). Both answer a
``transaction_id``, kept in the idempotency record. An item never set
absolutely at a location answers 422 "requires absolute adjustment before
relative": the adapter re-reads those items and sends them as absolutes
(``on-hand + delta``), the rest stays relative. Idempotency is ours: the
call's key is recorded in the cache before sending; a retry of an applied
call answers the first result, a retry of a relative call whose outcome was
unknown is refused with ``OutcomeUnknown`` again without sending (the engine
re-reads and computes a fresh delta under a new key: a delta must never be
applied twice), and an absolute is simply re-sent (the same absolute twice is
harmless).

Rate limit: one quota per store and 30 s window shared by every app on the
store. Every answer carries ``X-Rate-Limit-Requests-Left``,
``-Time-Reset-Ms``, ``-Time-Window-Ms`` and ``-Requests-Quota``; they feed a
governor in the cache (Redis in production) shared by every worker process:
each call takes one request from the shared count first; when the count is
spent the caller waits for the window's reset (up to ``max_wait``, else
``RateLimited``) instead of hitting 429. A 429 with the reset header raises
``RateLimited(reset)``; a 429 without the headers (platform overload) backs
off exponentially inside the call.

Orders: v2 ``/orders?min_date_modified=&sort=date_modified:asc`` (a bare
array, ``204 No Content`` when nothing matches, RFC-2822 dates) with the
lines from ``include=consignments.line_items`` (falling back to
``/orders/{id}/products``). Status 0 (incomplete), 5 (cancelled) and 6
(declined) hold no stock: cancelled.

Webhooks: light payloads (``scope``, ``data``, ``hash``) signed with the
Standard Webhooks headers, verified with the standardwebhooks library
(key = the app's client secret; 5 minutes of timestamp tolerance either
way). The dedupe key is the payload's ``hash``, which a retry and a
duplicate fire both repeat (a duplicate fire may carry a new
``webhook-id``), falling back to ``webhook-id``. Deliveries without the
Standard Webhooks headers are accepted only with the shared secret header
ACORN registers on its hooks (``X-Acorn-Webhook-Secret``).
"""

from __future__ import annotations

import base64
import email.utils
import hmac
import json
import logging
import random
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

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

PAGE_LIMIT = 250
ORDER_LIMIT = 250
ITEMS_CHUNK = 100  # variant ids per inventory read (URL length)
WRITE_BATCH = 2000  # items per adjustment call
IDEMPOTENCY_SECONDS = 24 * 3600
OVERLOAD_RETRIES = 3
RESET_MARGIN = 0.1  # seconds waited past the window's announced reset
NO_STOCK_STATUSES = {0, 5, 6}
SECRET_HEADER = "X-Acorn-Webhook-Secret"  # noqa: S105 (a header name)
ABSOLUTE_FIRST = "requires absolute adjustment before relative"

CAPABILITIES = Capabilities(
    cas=CompareAndSet.NONE,
    idempotency_key=False,
    delta_writes=True,
    max_write_batch=WRITE_BATCH,
    quantity_semantics=QuantitySemantics.ONHAND_MINUS_SAFETY,
    webhooks=True,
    bulk_reads=False,
)


def parse_rfc2822(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _problem_message(body) -> str:
    if isinstance(body, list):  # v2: [{"status", "message"}]
        return "; ".join(str(e.get("message", "")) for e in body if isinstance(e, dict))
    if isinstance(body, dict):  # v3: problem+json
        title = str(body.get("title") or body.get("message") or "")
        errors = body.get("errors")
        if isinstance(errors, dict) and errors:
            title += " (" + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ")"
        return title
    return str(body or "")[:500]


class RateGovernor:
    """The store's shared request quota, as the platform's headers tell it.

    Kept in the cache (Redis in production), so every worker process of every
    host shares it:
    - ``left``: requests left in the window; callers take one atomically
      (``decr``) before sending and wait for the reset when none is left;
    - ``reset``: when the window resets (epoch seconds); ``quota``: the
      window's size, which starts the next window when it resets;
    - ``inflight``: our requests sent and not answered yet. A header's
      ``Requests-Left`` was counted before those reached the store, so the
      count kept is ``left - (inflight - 1)``; and an older answer (more
      left) never raises what a newer one lowered in the same window.
    Keys expire with the window, so a stale record never blocks. Another
    app's use of the quota shows in the next answer; a 429 meanwhile is
    waited out (``_request``), never hammered.
    """

    def __init__(self, cache, store_key: str, *, max_wait: float = 30.0, reserve: int = 0):
        self.cache = cache
        prefix = f"bigcommerce:rl:{store_key}"
        self.left_key, self.reset_key = f"{prefix}:left", f"{prefix}:reset"
        self.quota_key, self.inflight_key = f"{prefix}:quota", f"{prefix}:inflight"
        self.roll_key = f"{prefix}:roll"
        self.max_wait = max_wait
        self.reserve = reserve  # requests left for other apps on the store

    def _inflight(self, delta: int) -> int:
        self.cache.add(self.inflight_key, 0, timeout=300)
        try:
            return self.cache.incr(self.inflight_key, delta)
        except ValueError:
            return 0

    def acquire(self) -> None:
        deadline = time.time() + self.max_wait
        while True:
            try:
                left = self.cache.decr(self.left_key)
            except ValueError:  # no record yet (first call or an expired window)
                break
            if left >= self.reserve:
                break
            reset_at = self.cache.get(self.reset_key) or 0
            wait = reset_at - time.time()
            if wait <= 0:
                self._roll(reset_at)
                continue
            if time.time() + wait > deadline:
                raise RateLimited("The store's shared API quota is spent for this window.",
                                  retry_after=wait, code="QUOTA_SPENT")
            time.sleep(min(wait, 1.0) + random.uniform(0, 0.05))  # noqa: S311 (jitter)
        self._inflight(+1)

    def _roll(self, reset_at: float) -> None:
        """The window is over: one caller starts the next from the known quota."""
        if not self.cache.add(f"{self.roll_key}:{reset_at}", 1, timeout=60):
            time.sleep(0.01)
            return
        quota = self.cache.get(self.quota_key)
        window = self.cache.get(f"{self.quota_key}:window") or 30.0
        if quota is None:
            self.cache.delete(self.left_key)
            return
        self.cache.set(self.reset_key, reset_at + window, timeout=int(window) + 2)
        self.cache.set(self.left_key, int(quota), timeout=int(window) + 2)

    def done(self) -> None:
        self._inflight(-1)

    def reset_in(self) -> float:
        return max((self.cache.get(self.reset_key) or 0) - time.time(), 0.0)

    def observe(self, headers: Mapping[str, str]) -> None:
        try:
            left = int(headers["X-Rate-Limit-Requests-Left"])
            reset_ms = int(headers["X-Rate-Limit-Time-Reset-Ms"])
            window_ms = int(headers.get("X-Rate-Limit-Time-Window-Ms") or 30000)
            quota = int(headers.get("X-Rate-Limit-Requests-Quota") or 0)
        except (KeyError, ValueError):
            return
        others = max((self.cache.get(self.inflight_key) or 1) - 1, 0)
        left = max(left - others, 0)
        # A little past the announced reset: the header is rounded down to whole
        # milliseconds and the request is on the wire a while.
        seconds = max(reset_ms / 1000, 0.001) + RESET_MARGIN
        reset_at = time.time() + seconds
        timeout = max(int(seconds) + 1, 1)
        if quota:
            self.cache.set(self.quota_key, quota, timeout=3600)
            self.cache.set(f"{self.quota_key}:window", window_ms / 1000, timeout=3600)
        stored_reset = self.cache.get(self.reset_key) or 0
        if stored_reset and abs(reset_at - stored_reset) < window_ms / 2000:
            # The same window: never raise what a newer answer lowered.
            stored_left = self.cache.get(self.left_key)
            if stored_left is not None and stored_left <= left:
                return
        self.cache.set(self.reset_key, reset_at, timeout=timeout)
        self.cache.set(self.left_key, left, timeout=timeout)


class BigCommerceAdapter:
    capabilities = CAPABILITIES

    def __init__(self, *, endpoint: StoreEndpoint, credentials: Mapping[str, str], cache,
                 timeout: tuple[float, float] = (5.0, 30.0), max_wait: float = 30.0,
                 session: requests.Session | None = None):
        if not credentials.get("store_hash") or not credentials.get("access_token"):
            raise AuthError("The BigCommerce connection needs the store hash and an API "
                            "account's access token.")
        self.store_hash = credentials["store_hash"]
        self.root = endpoint.base_url.rstrip("/") + f"/stores/{self.store_hash}"
        self.token = credentials["access_token"]
        self.client_secret = credentials.get("client_secret") or ""
        self.webhook_secret = credentials.get("webhook_secret") or ""
        self.cache = cache
        self.timeout = timeout
        self.session = session or requests.Session()
        self.store_key = f"{endpoint.base_url.rstrip('/')}/{self.store_hash}"
        self.governor = RateGovernor(cache, self.store_key, max_wait=max_wait)

    # --- Transport -------------------------------------------------------------------

    def _request(self, method: str, path: str, *, params=None, body=None, write: bool = False):
        headers = {"X-Auth-Token": self.token, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(OVERLOAD_RETRIES + 1):
            self.governor.acquire()
            try:
                response = self.session.request(method, self.root + path, params=params,
                                                data=data, headers=headers, timeout=self.timeout)
                self.governor.observe(response.headers)
            except requests.ConnectTimeout as error:
                raise Transient(f"BigCommerce did not accept the connection: {error}") from error
            except (requests.Timeout, requests.ConnectionError) as error:
                if write:
                    raise OutcomeUnknown(f"BigCommerce did not answer the write in time: "
                                         f"{error}") from error
                raise Transient(f"BigCommerce did not answer: {error}") from error
            finally:
                self.governor.done()
            if response.status_code == 429 and attempt < OVERLOAD_RETRIES:
                if "X-Rate-Limit-Time-Reset-Ms" not in response.headers:
                    # Platform overload, not our quota: exponential backoff.
                    time.sleep(min(2 ** attempt, 8) * random.uniform(0.5, 1.0))  # noqa: S311
                    continue
                if self.governor.reset_in() <= self.governor.max_wait:
                    continue  # the governor (told the quota is spent) waits for the reset
            return self._answer(response, write=write)
        raise AssertionError("unreachable")

    @staticmethod
    def _answer(response: requests.Response, *, write: bool):
        status = response.status_code
        if status == 204 or not response.content:
            return None if status < 300 else _raise(status, f"HTTP {status}", write, response)
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500]
        if status < 300:
            return body
        return _raise(status, _problem_message(body) or f"HTTP {status}", write, response)

    # --- Reads -----------------------------------------------------------------------

    def _v3_all(self, path: str, params: dict) -> list[dict]:
        rows, page = [], 1
        while True:
            body = self._request("GET", path, params={**params, "limit": PAGE_LIMIT, "page": page})
            rows.extend(body.get("data") or [])
            pagination = (body.get("meta") or {}).get("pagination") or {}
            if page >= int(pagination.get("total_pages") or 0):
                return rows
            page += 1

    def list_locations(self) -> list[ChannelLocation]:
        return [ChannelLocation(location_id=str(row["id"]), name=row.get("label") or row.get(
            "code") or "", is_active=bool(row.get("enabled", True)))
                for row in self._v3_all("/v3/inventory/locations", {})]

    def list_skus(self, *, updated_since: datetime | None = None,
                  cursor: str | None = None) -> Page[ChannelSku]:
        page = int(cursor or 1)
        params: dict = {"include": "variants", "limit": PAGE_LIMIT, "page": page}
        if updated_since:
            params["date_modified:min"] = updated_since.astimezone(UTC).isoformat()
        body = self._request("GET", "/v3/catalog/products", params=params)
        items = []
        for product in body.get("data") or []:
            updated = product.get("date_modified")
            for variant in product.get("variants") or []:
                items.append(ChannelSku(
                    ref=ItemRef(item_id=str(variant["product_id"]), variant_id=str(variant["id"])),
                    sku=variant.get("sku") or "",
                    gtin=variant.get("gtin") or variant.get("upc") or "",
                    title=product.get("name") or "",
                    updated_at=datetime.fromisoformat(updated.replace("Z", "+00:00"))
                    if updated else None))
        pagination = (body.get("meta") or {}).get("pagination") or {}
        next_cursor = str(page + 1) if page < int(pagination.get("total_pages") or 0) else None
        return Page(items=items, next_cursor=next_cursor)

    def get_levels(self, refs: Sequence[ItemRef],
                   locations: Sequence[str] | None = None) -> list[LevelSnapshot]:
        variant_ids = sorted({int(ref.variant_id) for ref in refs if ref.variant_id})
        observed = datetime.now(UTC)
        snapshots = []
        for start in range(0, len(variant_ids), ITEMS_CHUNK):
            params = {"variant_id:in": ",".join(map(str, variant_ids[start:start + ITEMS_CHUNK]))}
            if locations:
                params["location_id:in"] = ",".join(locations)
            for row in self._v3_all("/v3/inventory/items", params):
                identity = row.get("identity") or {}
                ref = ItemRef(item_id=str(identity.get("product_id")),
                              variant_id=str(identity.get("variant_id")))
                for level in row.get("locations") or []:
                    onhand = int(level.get("total_inventory_onhand") or 0)
                    safety = int((level.get("settings") or {}).get("safety_stock") or 0)
                    snapshots.append(LevelSnapshot(
                        ref=ref, location_id=str(level["location_id"]),
                        ats=max(onhand - safety, 0),
                        raw={"onhand": onhand, "safety_stock": safety,
                             "available_to_sell": int(level.get("available_to_sell") or 0)},
                        observed_at=observed, cas_token=None))
        return snapshots

    # --- Writes ----------------------------------------------------------------------

    def _record_key(self, idempotency_key: str) -> str:
        return f"bigcommerce:idem:{self.store_key}:{idempotency_key}"

    def _applied(self, rows: list[RowResult], transactions: list[str], key: str) -> WriteResult:
        self.cache.set(self._record_key(key), {"state": "applied", "transactions": transactions,
                                               "rows": [(r.ref.item_id, r.ref.variant_id,
                                                         r.location_id, r.current) for r in rows]},
                       timeout=IDEMPOTENCY_SECONDS)
        return WriteResult(rows=rows)

    def _replayed(self, key: str, *, relative: bool) -> WriteResult | None:
        record = self.cache.get(self._record_key(key))
        if not record:
            return None
        if record["state"] == "applied":
            return WriteResult(rows=[RowResult(ref=ItemRef(item_id=i, variant_id=v),
                                               location_id=loc, outcome=WriteOutcome.APPLIED,
                                               current=current)
                                     for i, v, loc, current in record["rows"]])
        if relative:
            raise OutcomeUnknown("A relative adjustment with this key may have been applied: "
                                 "re-read the levels and send a new delta.", code="UNKNOWN_DELTA")
        return None  # an absolute: sending it again is harmless

    def _send(self, path: str, method: str, items: list[dict], reason: str, key: str) -> list[str]:
        self.cache.set(self._record_key(key), {"state": "sent"}, timeout=IDEMPOTENCY_SECONDS)
        transactions = []
        try:
            for start in range(0, len(items), WRITE_BATCH):
                body = self._request(method, path, write=True,
                                     body={"reason": reason[:255],
                                           "items": items[start:start + WRITE_BATCH]})
                transactions.append(str((body or {}).get("transaction_id") or ""))
        except StoreError as error:
            if not isinstance(error, OutcomeUnknown):
                self.cache.delete(self._record_key(key))
            raise
        return transactions

    def set_levels(self, writes: Sequence[LevelWrite], *, idempotency_key: str, reason: str,
                   ref_uri: str) -> WriteResult:
        replayed = self._replayed(idempotency_key, relative=False)
        if replayed is not None:
            return replayed
        current = {(s.ref.variant_id, s.location_id): s
                   for s in self.get_levels([w.ref for w in writes],
                                            sorted({w.location_id for w in writes}))}
        items, rows = [], []
        for write in writes:
            snapshot = current.get((write.ref.variant_id, write.location_id))
            safety = snapshot.raw["safety_stock"] if snapshot else 0
            target = max(int(write.target_ats), 0)
            items.append({"location_id": int(write.location_id),
                          "variant_id": int(write.ref.variant_id), "quantity": target + safety})
            rows.append(RowResult(ref=write.ref, location_id=write.location_id,
                                  outcome=WriteOutcome.APPLIED, current=target))
        transactions = self._send("/v3/inventory/adjustments/absolute", "PUT", items,
                                  f"{reason} {ref_uri}".strip(), idempotency_key)
        return self._applied(rows, transactions, idempotency_key)

    def adjust_levels(self, deltas: Sequence[LevelDelta], *, idempotency_key: str, reason: str,
                      ref_uri: str) -> WriteResult:
        replayed = self._replayed(idempotency_key, relative=True)
        if replayed is not None:
            return replayed
        note = f"{reason} {ref_uri}".strip()
        items = [{"location_id": int(d.location_id), "variant_id": int(d.ref.variant_id),
                  "quantity": int(d.delta)} for d in deltas if d.delta]
        transactions: list[str] = []
        if items:
            try:
                transactions = self._send("/v3/inventory/adjustments/relative", "POST", items,
                                          note, idempotency_key)
            except Validation as error:
                if ABSOLUTE_FIRST not in error.message:
                    raise
                transactions = self._absolute_first(deltas, note, idempotency_key)
        # Applied: recorded before the read-back, so a failed read never makes a retry
        # send the delta again.
        self._applied([RowResult(ref=d.ref, location_id=d.location_id,
                                 outcome=WriteOutcome.APPLIED) for d in deltas],
                      transactions, idempotency_key)
        after = {(s.ref.variant_id, s.location_id): s.ats for s in self.get_levels(
            [d.ref for d in deltas], sorted({d.location_id for d in deltas}))}
        rows = [RowResult(ref=d.ref, location_id=d.location_id, outcome=WriteOutcome.APPLIED,
                          current=after.get((d.ref.variant_id, d.location_id))) for d in deltas]
        return self._applied(rows, transactions, idempotency_key)

    def _absolute_first(self, deltas: Sequence[LevelDelta], note: str, key: str) -> list[str]:
        """The 422: the items never set absolutely get ``on-hand + delta`` as an absolute."""
        current = {(s.ref.variant_id, s.location_id): s for s in self.get_levels(
            [d.ref for d in deltas], sorted({d.location_id for d in deltas}))}
        items = []
        for delta in deltas:
            snapshot = current.get((delta.ref.variant_id, delta.location_id))
            onhand = snapshot.raw["onhand"] if snapshot else 0
            items.append({"location_id": int(delta.location_id),
                          "variant_id": int(delta.ref.variant_id),
                          "quantity": max(onhand + int(delta.delta), 0)})
        # One absolute call for the whole batch: nothing of the relative call was applied
        # (BigCommerce refuses it as a whole), and the read and this write are back to back.
        return self._send("/v3/inventory/adjustments/absolute", "PUT", items, note, key)

    # --- Orders ------------------------------------------------------------------------

    def _lines(self, order: dict) -> list[dict]:
        found: dict = {}
        for consignment in order.get("consignments") or []:
            for kind in ("shipping", "pickups", "downloads"):
                for group in consignment.get(kind) or []:
                    for line in group.get("line_items") or []:
                        found.setdefault(line["id"], line)
        if "consignments" not in order:
            for line in self._request("GET", f"/v2/orders/{order['id']}/products") or []:
                found.setdefault(line["id"], line)
        return list(found.values())

    def order_from(self, order: dict) -> ChannelOrder:
        lines = []
        for line in self._lines(order):
            quantity = int(line.get("quantity") or 0)
            shipped = int(line.get("quantity_shipped") or 0)
            refunded = int(line.get("quantity_refunded") or 0)
            lines.append(OrderLine(
                line_id=str(line["id"]), sku=line.get("sku") or "",
                ref=ItemRef(item_id=str(line["product_id"]), variant_id=str(line["variant_id"]))
                if line.get("variant_id") else None,
                quantity=quantity, quantity_shipped=shipped,
                quantity_cancelled=min(max(quantity - shipped, 0), refunded)))
        status_id = int(order.get("status_id") or 0)
        return ChannelOrder(
            order_id=str(order["id"]), name=f"#{order['id']}",
            created_at=parse_rfc2822(order.get("date_created")),
            updated_at=parse_rfc2822(order.get("date_modified") or order.get("date_created")),
            cancelled=status_id in NO_STOCK_STATUSES, lines=lines,
            raw_status=str(order.get("status") or status_id))

    def list_orders_since(self, watermark: Watermark, *,
                          page_token: str | None = None) -> OrderPage:
        page = int(page_token or 1)
        params = {"sort": "date_modified:asc", "limit": ORDER_LIMIT, "page": page,
                  "include": "consignments.line_items"}
        if watermark.updated_at:
            params["min_date_modified"] = watermark.updated_at.astimezone(UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
        body = self._request("GET", "/v2/orders", params=params)  # None on 204
        rows = body or []
        orders = [self.order_from(row) for row in rows]
        high = max([o.updated_at for o in orders if o.updated_at] +
                   ([watermark.updated_at] if watermark.updated_at else []), default=None)
        next_token = str(page + 1) if len(rows) >= ORDER_LIMIT else None
        return OrderPage(orders=orders, next_watermark=Watermark(updated_at=high),
                         next_page_token=next_token)

    def get_order(self, order_id: str) -> ChannelOrder:
        order = self._request("GET", f"/v2/orders/{int(order_id)}")
        if not order:
            raise NotFound(f"BigCommerce order {order_id} does not exist.")
        return self.order_from(order)

    # --- Webhooks ----------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> WebhookEnvelope:
        lowered = {str(k).lower(): v for k, v in headers.items()}
        webhook_id = lowered.get("webhook-id") or ""
        if lowered.get("webhook-signature"):
            if not self.client_secret:
                raise InvalidSignature("No client secret is set to verify BigCommerce webhooks.")
            key = base64.b64encode(self.client_secret.encode()).decode()
            try:
                Webhook(key).verify(raw_body, lowered, json_parse=False)
            except (WebhookVerificationError, ValueError) as error:
                raise InvalidSignature(f"The webhook signature is not valid: {error}",
                                       code="BAD_SIGNATURE") from error
        elif self.webhook_secret and hmac.compare_digest(
                str(lowered.get(SECRET_HEADER.lower()) or ""), self.webhook_secret):
            pass
        else:
            raise InvalidSignature("The webhook carries no valid signature.", code="UNSIGNED")
        try:
            payload = json.loads(raw_body)
        except ValueError as error:
            raise InvalidSignature("The webhook body is not JSON.", code="BAD_BODY") from error
        if not isinstance(payload, dict):
            raise InvalidSignature("The webhook body is not an object.", code="BAD_BODY")
        data = payload.get("data") or {}
        scope = str(payload.get("scope") or "")
        refs, order_ids = [], []
        if data.get("type") == "order" or scope.startswith("store/order/"):
            if data.get("id") is not None:
                order_ids.append(str(data["id"]))
        elif data.get("variant_id") or data.get("product_id"):
            refs.append(ItemRef(item_id=str(data.get("product_id") or ""),
                                variant_id=str(data.get("variant_id") or "")))
        created = payload.get("created_at")
        triggered = datetime.fromtimestamp(int(created), tz=UTC) if isinstance(
            created, int | float) else None
        dedupe = str(payload.get("hash") or webhook_id)
        if not dedupe:
            raise InvalidSignature("The webhook has neither a hash nor an id.", code="BAD_BODY")
        return WebhookEnvelope(dedupe_key=f"bigcommerce:{dedupe}", topic=scope,
                               triggered_at=triggered, payload=payload, refs=refs,
                               order_ids=order_ids)


def _raise(status: int, message: str, write: bool, response: requests.Response):
    if status in (401, 403):
        raise AuthError(message, status=status)
    if status == 404:
        raise NotFound(message, status=status)
    if status == 429:
        reset = response.headers.get("X-Rate-Limit-Time-Reset-Ms")
        retry_after = int(reset) / 1000 if reset and reset.isdigit() else 5.0
        raise RateLimited(message, retry_after=retry_after, status=status)
    if status >= 500:
        if write:
            raise OutcomeUnknown(message, status=status)
        raise Transient(message, status=status)
    raise Validation(message, status=status, code=str(status))


@adapter_register(Platform.BIGCOMMERCE)
def bigcommerce_adapter(*, endpoint, credentials, cache):
    return BigCommerceAdapter(endpoint=endpoint, credentials=credentials, cache=cache)
