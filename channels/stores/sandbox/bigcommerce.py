"""A BigCommerce store simulator: REST v2/v3 (store-channels.md §3, §5).

Mounted on vendor_api's sandbox server (settings.ACORN_SANDBOX_MOUNTS). A
connection's base URL is ``http://<sandbox>/bigcommerce`` (the real one is
``https://api.bigcommerce.com``); below it are BigCommerce's own paths::

    /bigcommerce/stores/{store_hash}/v3/...      X-Auth-Token
    /bigcommerce/stores/{store_hash}/v2/...

What it reproduces:
- v3 ``{"data": [...], "meta": {"pagination": {...}}}``, problem+json errors;
  v2 bare arrays, ``204 No Content`` when nothing matches, RFC-2822 dates,
  error arrays ``[{"status", "message"}]``;
- catalog variants and products, inventory locations and items
  (``available_to_sell = total_inventory_onhand - safety_stock``), absolute
  and relative adjustments answering a ``transaction_id``, and the 422
  "requires absolute adjustment before relative" for an item never set;
- ``update_stock_behavior`` (``order_placed`` or
  ``order_completed_or_shipped``) applied by the store-side order actions;
- the store-wide quota per window (default 150 per 30 s) shared by every app:
  ``X-Rate-Limit-Time-Window-Ms``, ``-Time-Reset-Ms``, ``-Requests-Quota``,
  ``-Requests-Left`` on every answer, 429 when spent; the control API can
  spend quota as "another app";
- light webhooks (``scope``, ``data``, ``hash``, ``created_at``) signed with
  Standard Webhooks headers (``webhook-id``, ``webhook-timestamp``,
  ``webhook-signature: v1,base64(HMAC-SHA256(client_secret, id.ts.body))``),
  delivered with duplicates (the same delivery again, or a second fire with a
  new id and the same hash), reordering and a timestamp skew;
- faults (5xx, 401, slow, timeout after the write commits), an injectable
  clock and a request log.

The control API is under ``/_sandbox/bigcommerce/`` (see ``register``).
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import requests

from vendor_api.sandbox.server import Router, SandboxRequest, SandboxResponse

STATUS_NAMES = {0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped",
                4: "Refunded", 5: "Cancelled", 6: "Declined", 7: "Awaiting Payment",
                8: "Awaiting Pickup", 9: "Awaiting Shipment", 10: "Completed",
                11: "Awaiting Fulfillment", 12: "Manual Verification Required", 13: "Disputed",
                14: "Partially Refunded"}
MAX_ADJUSTMENT_ITEMS = 2000
PROBLEM = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


class Clock:
    def __init__(self):
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.time(), tz=datetime.UTC).replace(microsecond=0)


def rfc2822(value: datetime.datetime | None) -> str:
    return email.utils.format_datetime(value) if value else ""


def parse_date(value: str) -> datetime.datetime:
    """RFC-2822 or ISO-8601 (both accepted by the v2 filters), or a Unix time."""
    value = value.strip()
    if value.isdigit():
        return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


class BcError(Exception):
    def __init__(self, status: int, title: str, *, v2: bool = False, errors: dict | None = None):
        super().__init__(title)
        self.status, self.title, self.v2, self.errors = status, title, v2, errors or {}

    def response(self) -> SandboxResponse:
        if self.v2:
            return SandboxResponse(status=self.status,
                                   body=[{"status": self.status, "message": self.title}])
        return SandboxResponse(status=self.status, content_type="application/problem+json",
                               body={"status": self.status, "title": self.title,
                                     "type": PROBLEM, "errors": self.errors})


@dataclass
class Delivery:
    webhook_id: str
    scope: str
    url: str
    body: bytes
    hash: str
    status: str = "pending"
    attempts: int = 0
    responses: list = field(default_factory=list)


@dataclass
class Store:
    hash: str
    clock: Clock
    access_token: str
    client_secret: str
    quota: int = 150
    window_ms: int = 30000
    window_start: float = 0.0
    used: int = 0
    update_stock_behavior: str = "order_placed"
    locations: dict[int, dict] = field(default_factory=dict)
    products: dict[int, dict] = field(default_factory=dict)
    variants: dict[int, dict] = field(default_factory=dict)
    levels: dict[tuple[int, int], dict] = field(default_factory=dict)  # (variant, location)
    orders: dict[int, dict] = field(default_factory=dict)
    transactions: list[dict] = field(default_factory=list)
    hooks: list[dict] = field(default_factory=list)
    outbox: list[Delivery] = field(default_factory=list)
    faults: list[dict] = field(default_factory=list)
    log: deque = field(default_factory=lambda: deque(maxlen=20000))
    stats: Counter = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    ids: Any = field(default_factory=lambda: itertools.count(100))

    # Quota ---------------------------------------------------------------
    def _roll(self) -> None:
        now = self.clock.time()
        if not self.window_start or now - self.window_start >= self.window_ms / 1000:
            self.window_start, self.used = now, 0

    def spend(self, count: int = 1) -> bool:
        with self.lock:
            self._roll()
            if self.used + count > self.quota:
                return False
            self.used += count
            return True

    def quota_headers(self) -> dict[str, str]:
        with self.lock:
            self._roll()
            reset = max(int(self.window_ms - (self.clock.time() - self.window_start) * 1000), 0)
            return {"X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
                    "X-Rate-Limit-Time-Reset-Ms": str(reset),
                    "X-Rate-Limit-Requests-Quota": str(self.quota),
                    "X-Rate-Limit-Requests-Left": str(max(self.quota - self.used, 0))}

    # Data ------------------------------------------------------------------
    def add_product(self, spec: dict) -> dict:
        now = self.clock.now()
        product_id = next(self.ids)
        product = {"id": product_id, "name": spec.get("name", f"Product {product_id}"),
                   "date_modified": now, "variant_ids": []}
        self.products[product_id] = product
        for variant in spec.get("variants") or [{}]:
            variant_id = next(self.ids)
            self.variants[variant_id] = {"id": variant_id, "product_id": product_id,
                                         "sku": variant.get("sku", ""),
                                         "upc": variant.get("upc", ""),
                                         "gtin": variant.get("gtin", "")}
            product["variant_ids"].append(variant_id)
            for location, onhand in (variant.get("levels") or {}).items():
                location_id = int(location)
                if location_id not in self.locations:
                    raise ValueError(f"Unknown location {location_id}.")
                self.levels[(variant_id, location_id)] = {
                    "onhand": int(onhand), "safety_stock": int(variant.get("safety_stock", 0)),
                    "warning_level": 0, "absolute_set": bool(variant.get("absolute_set", True))}
        return product

    def level(self, variant_id: int, location_id: int) -> dict:
        return self.levels.setdefault((variant_id, location_id), {
            "onhand": 0, "safety_stock": 0, "warning_level": 0, "absolute_set": False})

    def touch(self, variant_id: int, location_id: int) -> None:
        variant = self.variants[variant_id]
        self.products[variant["product_id"]]["date_modified"] = self.clock.now()
        self.emit("store/channel/1/inventory/product/stock_changed",
                  {"variant_id": variant_id, "product_id": variant["product_id"],
                   "location_id": location_id})

    # Webhooks ---------------------------------------------------------------
    def emit(self, scope: str, data: dict) -> None:
        created = int(self.clock.time())
        digest = hashlib.sha1(  # noqa: S324 (an id, as BigCommerce's own hash is)
            json.dumps([scope, data, created], sort_keys=True).encode()).hexdigest()
        store_id = int(hashlib.sha256(self.hash.encode()).hexdigest(), 16) % 10**7
        payload = {"scope": scope, "store_id": str(store_id),
                   "data": data, "hash": digest, "created_at": created,
                   "producer": f"stores/{self.hash}"}
        body = json.dumps(payload, separators=(",", ":")).encode()
        for hook in self.hooks:
            if hook["is_active"] and (hook["scope"] == scope or (
                    hook["scope"].endswith("/*") and scope.startswith(hook["scope"][:-1]))):
                self.outbox.append(Delivery(webhook_id=f"msg_{uuid.uuid4().hex}", scope=scope,
                                            url=hook["destination"], body=body, hash=digest))

    def signature_headers(self, delivery: Delivery, *, skew: float = 0.0) -> dict[str, str]:
        stamp = str(int(self.clock.time() + skew))
        signed = f"{delivery.webhook_id}.{stamp}.".encode() + delivery.body
        digest = hmac.new(self.client_secret.encode(), signed, hashlib.sha256).digest()
        return {"Content-Type": "application/json", "webhook-id": delivery.webhook_id,
                "webhook-timestamp": stamp,
                "webhook-signature": "v1," + base64.b64encode(digest).decode()}

    # Orders -------------------------------------------------------------------
    def order_view(self, order: dict) -> dict:
        return {"id": order["id"], "status_id": order["status_id"],
                "status": STATUS_NAMES[order["status_id"]],
                "date_created": rfc2822(order["date_created"]),
                "date_modified": rfc2822(order["date_modified"]),
                "date_shipped": rfc2822(order.get("date_shipped")),
                "items_total": sum(line["quantity"] for line in order["lines"]),
                "items_shipped": sum(line["quantity_shipped"] for line in order["lines"]),
                "is_deleted": False,
                "products": {"url": f"/v2/orders/{order['id']}/products", "resource":
                             f"/orders/{order['id']}/products"}}

    def line_view(self, order: dict, line: dict) -> dict:
        return {"id": line["id"], "order_id": order["id"], "product_id": line["product_id"],
                "variant_id": line["variant_id"], "sku": line["sku"],
                "quantity": line["quantity"], "quantity_shipped": line["quantity_shipped"],
                "quantity_refunded": line["quantity_refunded"]}


class BigCommerceSandbox:
    def __init__(self):
        self.clock = Clock()
        self.stores: dict[str, Store] = {}
        self.lock = threading.Lock()

    def create_store(self, spec: dict) -> Store:
        store_hash = spec["hash"]
        if not re.fullmatch(r"[a-z0-9]{1,20}", store_hash):
            raise ValueError("Store hashes are lower-case letters and digits.")
        store = Store(hash=store_hash, clock=self.clock,
                      access_token=spec.get("access_token") or f"token-{store_hash}",
                      client_secret=spec.get("client_secret") or f"secret-{store_hash}",
                      quota=int(spec.get("quota", 150)),
                      window_ms=int(spec.get("window_ms", 30000)),
                      update_stock_behavior=spec.get("update_stock_behavior", "order_placed"))
        for index, location in enumerate(spec.get("locations") or [{"label": "Default location"}],
                                         1):
            if isinstance(location, str):
                location = {"label": location}
            store.locations[index] = {"id": index, "code": f"BC-LOCATION-{index}",
                                      "label": location["label"],
                                      "enabled": bool(location.get("enabled", True))}
        for product in spec.get("products") or []:
            store.add_product(product)
        with self.lock:
            self.stores[store_hash] = store
        return store


def _sandbox(request: SandboxRequest) -> BigCommerceSandbox:
    return request.router.context["bigcommerce"]


def _ints(value: str | None) -> list[int]:
    if not value:
        return []
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise BcError(400, "The filter must be a comma-separated list of integers.") from None


def _paged(request: SandboxRequest, rows: list, *, default_limit: int = 50,
           max_limit: int = 250) -> dict:
    try:
        limit = int(request.query_value("limit") or default_limit)
        page = int(request.query_value("page") or 1)
    except ValueError:
        raise BcError(422, "The limit and page filters must be integers.") from None
    if limit < 1 or limit > max_limit or page < 1:
        raise BcError(422, f"Limit must be between 1 and {max_limit}.")
    total = len(rows)
    total_pages = max((total + limit - 1) // limit, 1) if total else 0
    data = rows[(page - 1) * limit: page * limit]
    links = {"current": f"?page={page}&limit={limit}"}
    if page < total_pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    if page > 1:
        links["previous"] = f"?page={page - 1}&limit={limit}"
    return {"data": data, "meta": {"pagination": {
        "total": total, "count": len(data), "per_page": limit, "current_page": page,
        "total_pages": total_pages, "links": links}}}


# --- v3 -------------------------------------------------------------------------------


def _variant_row(store: Store, variant: dict) -> dict:
    levels = [lv for (vid, _lid), lv in store.levels.items() if vid == variant["id"]]
    return {"id": variant["id"], "product_id": variant["product_id"], "sku": variant["sku"],
            "upc": variant["upc"], "gtin": variant["gtin"],
            "inventory_level": sum(lv["onhand"] for lv in levels)}


def v3_variants(request, store):
    rows = [_variant_row(store, v) for v in store.variants.values()]
    if request.query_value("sku"):
        rows = [r for r in rows if r["sku"] == request.query_value("sku")]
    ids = _ints(request.query_value("product_id:in"))
    if ids:
        rows = [r for r in rows if r["product_id"] in ids]
    return SandboxResponse(status=200, body=_paged(request, rows))


def v3_products(request, store):
    since = request.query_value("date_modified:min")
    rows = []
    for product in store.products.values():
        if since and product["date_modified"] < parse_date(since):
            continue
        row = {"id": product["id"], "name": product["name"],
               "date_modified": product["date_modified"].isoformat()}
        if "variants" in (request.query_value("include") or "").split(","):
            row["variants"] = [_variant_row(store, store.variants[v])
                               for v in product["variant_ids"]]
        rows.append(row)
    return SandboxResponse(status=200, body=_paged(request, rows))


def v3_locations(request, store):
    return SandboxResponse(status=200, body=_paged(request, list(store.locations.values())))


def v3_inventory_items(request, store):
    skus = set((request.query_value("sku:in") or "").split(",")) - {""}
    variant_ids = set(_ints(request.query_value("variant_id:in")))
    product_ids = set(_ints(request.query_value("product_id:in")))
    location_ids = set(_ints(request.query_value("location_id:in")))
    rows = []
    for variant in store.variants.values():
        if skus and variant["sku"] not in skus:
            continue
        if variant_ids and variant["id"] not in variant_ids:
            continue
        if product_ids and variant["product_id"] not in product_ids:
            continue
        locations = []
        for location_id, location in store.locations.items():
            if location_ids and location_id not in location_ids:
                continue
            level = store.levels.get((variant["id"], location_id))
            if level is None:
                continue
            locations.append({
                "location_id": location_id, "location_code": location["code"],
                "location_name": location["label"],
                "available_to_sell": level["onhand"] - level["safety_stock"],
                "total_inventory_onhand": level["onhand"],
                "location_enabled": location["enabled"],
                "settings": {"safety_stock": level["safety_stock"], "is_in_stock":
                             level["onhand"] - level["safety_stock"] > 0,
                             "warning_level": level["warning_level"], "bin_picking_number": ""}})
        rows.append({"identity": {"sku": variant["sku"], "variant_id": variant["id"],
                                  "product_id": variant["product_id"], "sku_id": None},
                     "locations": locations})
    return SandboxResponse(status=200, body=_paged(request, rows, default_limit=50,
                                                   max_limit=1000))


def _resolve(store: Store, item: dict) -> tuple[int, int, str]:
    """(variant id, location id, identity text) of one adjustment item."""
    keys = [k for k in ("sku", "variant_id", "product_id") if k in item]
    if len(keys) != 1:
        raise BcError(422, "Each item must be identified by exactly one of sku, variant_id or "
                      "product_id.")
    key = keys[0]
    if key == "sku":
        matches = [v for v in store.variants.values() if v["sku"] == item["sku"]]
    elif key == "variant_id":
        matches = [store.variants[item["variant_id"]]] if item["variant_id"] in store.variants \
            else []
    else:
        product = store.products.get(item["product_id"])
        matches = [store.variants[v] for v in product["variant_ids"]] if product else []
        if len(matches) > 1:
            raise BcError(422, f"[Item with product_id {item['product_id']} has variants, please "
                          "update stock by variant id]")
    if not matches:
        raise BcError(422, f"Items with identity: [{key} {item[key]}] were not found")
    location_id = item.get("location_id")
    if location_id not in store.locations:
        raise BcError(422, f"Location with id {location_id} was not found")
    if not isinstance(item.get("quantity"), int) or isinstance(item.get("quantity"), bool):
        raise BcError(422, "The quantity must be an integer.")
    return matches[0]["id"], location_id, f"{key} {item[key]}"


def _adjustment(request: SandboxRequest, store: Store, *, relative: bool) -> SandboxResponse:
    body = request.json() or {}
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise BcError(422, "The items field is required.")
    if len(items) > MAX_ADJUSTMENT_ITEMS:
        raise BcError(413, f"At most {MAX_ADJUSTMENT_ITEMS} items per adjustment.")
    resolved = [(_resolve(store, item), item["quantity"]) for item in items]
    if relative:
        missing = [identity for (vid, lid, identity), _q in resolved
                   if not store.level(vid, lid)["absolute_set"]]
        if missing:
            raise BcError(422, f"Items with identity: [{', '.join(missing)}] requires absolute "
                          "adjustment before relative")
    for (vid, lid, _identity), quantity in resolved:
        level = store.level(vid, lid)
        if relative:
            level["onhand"] += quantity
        else:
            level["onhand"] = quantity
            level["absolute_set"] = True
        store.touch(vid, lid)
    transaction_id = str(uuid.uuid4())
    store.transactions.append({"transaction_id": transaction_id, "relative": relative,
                               "reason": body.get("reason", ""), "items": items})
    store.stats["adjustments"] += 1
    return SandboxResponse(status=200, body={"transaction_id": transaction_id})


def v3_absolute(request, store):
    return _adjustment(request, store, relative=False)


def v3_relative(request, store):
    return _adjustment(request, store, relative=True)


def v3_location_settings(request, store):
    location_id = int(request.path_params["location"])
    if location_id not in store.locations:
        raise BcError(404, "Location not found.")
    for setting in (request.json() or {}).get("settings") or []:
        identity = setting.get("identity") or {}
        vid, _lid, _ = _resolve(store, {**identity, "location_id": location_id, "quantity": 0})
        level = store.level(vid, location_id)
        for key in ("safety_stock", "warning_level"):
            if key in setting:
                level[key] = int(setting[key])
    return SandboxResponse(status=200, body={"transaction_id": str(uuid.uuid4())})


def v3_inventory_settings(request, store):
    return SandboxResponse(status=200, body={"data": {
        "update_stock_behavior": store.update_stock_behavior,
        "refund_order_stock_adjustment": True, "edit_order_stock_adjustment": True}})


# --- v2 -------------------------------------------------------------------------------


def v2_orders(request, store):
    rows = sorted(store.orders.values(), key=lambda o: (o["date_modified"], o["id"]))
    for name, compare in (("min_date_modified", lambda a, b: a >= b),
                          ("max_date_modified", lambda a, b: a <= b)):
        value = request.query_value(name)
        if value:
            try:
                bound = parse_date(value)
            except ValueError:
                raise BcError(400, f"The field '{name}' is invalid.", v2=True) from None
            rows = [o for o in rows if compare(o["date_modified"], bound)]
    if (request.query_value("sort") or "").endswith(":desc"):
        rows.reverse()
    try:
        limit = int(request.query_value("limit") or 50)
        page = int(request.query_value("page") or 1)
    except ValueError:
        raise BcError(400, "The limit and page must be integers.", v2=True) from None
    if limit > 250:
        raise BcError(413, "The limit may not exceed 250.", v2=True)
    page_rows = rows[(page - 1) * limit: page * limit]
    if not page_rows:
        return SandboxResponse(status=204, body=None)
    include = (request.query_value("include") or "").split(",")
    out = []
    for order in page_rows:
        view = store.order_view(order)
        if "consignments.line_items" in include:
            view["consignments"] = [{"shipping": [{"id": 1, "line_items": [
                store.line_view(order, line) for line in order["lines"]]}],
                "pickups": [], "downloads": [], "email": {"gift_certificates": []}}]
        out.append(view)
    return SandboxResponse(status=200, body=out)


def _order(store: Store, request: SandboxRequest) -> dict:
    try:
        return store.orders[int(request.path_params["order"])]
    except (KeyError, ValueError):
        raise BcError(404, "The requested resource was not found.", v2=True) from None


def v2_order(request, store):
    return SandboxResponse(status=200, body=store.order_view(_order(store, request)))


def v2_order_products(request, store):
    order = _order(store, request)
    return SandboxResponse(status=200, body=[store.line_view(order, line)
                                             for line in order["lines"]])


WRITES = {v3_absolute, v3_relative, v3_location_settings}


def _take_fault(store: Store, request: SandboxRequest) -> dict | None:
    with store.lock:
        for fault in store.faults:
            if fault.get("path_contains") and fault["path_contains"] not in request.path:
                continue
            if fault.get("method") and fault["method"] != request.method:
                continue
            if fault.get("count", 1) <= 0:
                continue
            fault["count"] = fault.get("count", 1) - 1
            store.stats[f"fault:{fault['kind']}"] += 1
            return dict(fault)
    return None


def _api(handler, *, v2: bool):
    def wrapped(request: SandboxRequest) -> SandboxResponse:
        store = _sandbox(request).stores.get(request.path_params["hash"])
        if store is None:
            return BcError(404, "Store not found.", v2=v2).response()
        entry = {"at": store.clock.time(), "method": request.method, "path": request.path,
                 "query": request.flat_query}
        hang = None
        try:
            if not hmac.compare_digest(request.headers.get("X-Auth-Token") or "",
                                       store.access_token):
                store.stats["unauthorised"] += 1
                raise BcError(401, "Unauthorized", v2=v2)
            if not store.spend():
                store.stats["rate_limited"] += 1
                raise BcError(429, "Too many requests", v2=v2)
            fault = _take_fault(store, request)
            if fault is not None:
                kind = fault["kind"]
                if kind == "status":
                    raise BcError(int(fault.get("status", 503)), "Service Unavailable", v2=v2)
                if kind == "unauthorized":
                    raise BcError(401, "Unauthorized", v2=v2)
                if kind == "overload":  # the platform's own 429: no quota headers
                    overload = BcError(429, "Too many requests", v2=v2).response()
                    overload.fault = None
                    entry["status"] = 429
                    with store.lock:
                        store.log.append(entry)
                    return overload
                if kind == "slow":
                    time.sleep(float(fault.get("seconds", 6)))
                if kind == "timeout_after_commit":
                    hang = ("hang", float(fault.get("seconds", 10)))
            with store.lock:
                store.stats["calls"] += 1
                response = handler(request, store)
        except BcError as error:
            error.v2 = v2
            response = error.response()
        except (ValueError, TypeError):
            response = BcError(400, "The request body is not valid JSON.", v2=v2).response()
        response.headers.update(store.quota_headers())
        response.fault = hang
        entry["status"] = response.status
        with store.lock:
            store.log.append(entry)
        return response
    return wrapped


# --- Store-side actions ---------------------------------------------------------------


def _stock(store: Store, order: dict, sign: int) -> None:
    for line in order["lines"]:
        level = store.level(line["variant_id"], order["location_id"])
        level["onhand"] += sign * (line["quantity"] - line["quantity_refunded"])
        store.touch(line["variant_id"], order["location_id"])


def place_order(store: Store, spec: dict) -> dict:
    """{lines: [{sku | variant_id, quantity}], location_id?, status_id?}"""
    with store.lock:
        now = store.clock.now()
        order_id = next(store.ids)
        lines = []
        for line in spec["lines"]:
            if "variant_id" in line:
                variant = store.variants[int(line["variant_id"])]
            else:
                variant = next(v for v in store.variants.values() if v["sku"] == line["sku"])
            lines.append({"id": next(store.ids), "product_id": variant["product_id"],
                          "variant_id": variant["id"], "sku": variant["sku"],
                          "quantity": int(line["quantity"]), "quantity_shipped": 0,
                          "quantity_refunded": 0})
        order = {"id": order_id, "status_id": int(spec.get("status_id", 11)),
                 "date_created": now, "date_modified": now, "lines": lines,
                 "location_id": int(spec.get("location_id", min(store.locations))),
                 "stock_taken": False}
        store.orders[order_id] = order
        if store.update_stock_behavior == "order_placed":
            _stock(store, order, -1)
            order["stock_taken"] = True
        store.emit("store/order/created", {"type": "order", "id": order_id})
        return order


def _status(store: Store, order: dict, status_id: int) -> None:
    previous = order["status_id"]
    order["status_id"] = status_id
    order["date_modified"] = store.clock.now()
    store.emit("store/order/statusUpdated", {"type": "order", "id": order["id"], "status": {
        "previous_status_id": previous, "new_status_id": status_id}})


def cancel_order(store: Store, order_id: int) -> dict:
    with store.lock:
        order = store.orders[order_id]
        if order["stock_taken"]:
            _stock(store, order, +1)  # refund_order_stock_adjustment
            order["stock_taken"] = False
        _status(store, order, 5)
        return order


def ship_order(store: Store, order_id: int) -> dict:
    with store.lock:
        order = store.orders[order_id]
        if not order["stock_taken"]:
            _stock(store, order, -1)
            order["stock_taken"] = True
        for line in order["lines"]:
            line["quantity_shipped"] = line["quantity"]
        order["date_shipped"] = store.clock.now()
        _status(store, order, 2)
        return order


def deliver_webhooks(store: Store, *, duplicate: bool = False, duplicate_fire: bool = False,
                     reverse: bool = False, skew: float = 0.0, timeout: float = 5.0) -> dict:
    with store.lock:
        pending = [d for d in store.outbox if d.status == "pending"]
    if reverse:
        pending.reverse()
    sent = failed = 0
    for delivery in pending:
        copies = [delivery]
        if duplicate:
            copies.append(delivery)  # a retry: the same id, the same bytes
        if duplicate_fire:  # a second fire: a new id, the same hash
            copies.append(Delivery(webhook_id=f"msg_{uuid.uuid4().hex}", scope=delivery.scope,
                                   url=delivery.url, body=delivery.body, hash=delivery.hash))
        for copy in copies:
            try:
                response = requests.post(copy.url, data=copy.body, timeout=(1.0, timeout),
                                         headers=store.signature_headers(copy, skew=skew))
                ok = 200 <= response.status_code < 300
                delivery.responses.append(response.status_code)
            except requests.RequestException as error:
                ok = False
                delivery.responses.append(type(error).__name__)
            sent += 1
            with store.lock:
                delivery.attempts += 1
                if ok:
                    delivery.status = "delivered"
                else:
                    failed += 1
    return {"sent": sent, "failed": failed}


# --- Control API -----------------------------------------------------------------------


def _store_view(store: Store) -> dict:
    return {"hash": store.hash, "quota": store.quota, "window_ms": store.window_ms,
            "update_stock_behavior": store.update_stock_behavior,
            "locations": list(store.locations.values()),
            "variants": [_variant_row(store, v) for v in store.variants.values()]}


def _levels_view(store: Store) -> list[dict]:
    return [{"variant_id": vid, "location_id": lid, "sku": store.variants[vid]["sku"],
             "onhand": lv["onhand"], "safety_stock": lv["safety_stock"],
             "available_to_sell": lv["onhand"] - lv["safety_stock"],
             "absolute_set": lv["absolute_set"]} for (vid, lid), lv in sorted(store.levels.items())]


def _control(handler):
    def wrapped(request: SandboxRequest) -> SandboxResponse:
        sandbox = _sandbox(request)
        store = None
        if "hash" in request.path_params:
            store = sandbox.stores.get(request.path_params["hash"])
            if store is None:
                return SandboxResponse(status=404, body={"error": "No such store."})
        try:
            return SandboxResponse(status=200, body=handler(request, sandbox, store,
                                                            request.json() or {}))
        except (ValueError, KeyError, StopIteration) as error:
            return SandboxResponse(status=422, body={"error": str(error) or "Not found."})
    return wrapped


def _order_out(store: Store, order: dict) -> dict:
    return store.order_view(order) | {"lines": [store.line_view(order, line)
                                                for line in order["lines"]]}


@_control
def c_create_store(request, sandbox, _store, body):
    if body.get("hash") in sandbox.stores and not body.get("replace"):
        raise ValueError("A store with this hash exists (pass replace: true).")
    return _store_view(sandbox.create_store(body))


@_control
def c_store(request, sandbox, store, body):
    return _store_view(store)


@_control
def c_settings(request, sandbox, store, body):
    """{quota, window_ms, update_stock_behavior, access_token, client_secret}"""
    with store.lock:
        for key in ("quota", "window_ms"):
            if key in body:
                setattr(store, key, int(body[key]))
        for key in ("update_stock_behavior", "access_token", "client_secret"):
            if key in body:
                setattr(store, key, str(body[key]))
    return {"ok": True}


@_control
def c_spend(request, sandbox, store, body):
    """Another app on the store spends ``count`` requests of the shared quota."""
    spent = 0
    for _ in range(int(body.get("count", 1))):
        if not store.spend():
            break
        spent += 1
    return {"spent": spent, **store.quota_headers()}


@_control
def c_products(request, sandbox, store, body):
    with store.lock:
        products = [store.add_product(p) for p in body["products"]]
        return {"variants": [_variant_row(store, store.variants[v])
                             for p in products for v in p["variant_ids"]]}


@_control
def c_place_order(request, sandbox, store, body):
    return _order_out(store, place_order(store, body))


@_control
def c_cancel_order(request, sandbox, store, body):
    return _order_out(store, cancel_order(store, int(request.path_params["order"])))


@_control
def c_ship_order(request, sandbox, store, body):
    return _order_out(store, ship_order(store, int(request.path_params["order"])))


@_control
def c_stock(request, sandbox, store, body):
    """A merchant edits stock in the control panel: {variant_id, location_id, onhand | delta,
    safety_stock?}."""
    with store.lock:
        variant_id, location_id = int(body["variant_id"]), int(body["location_id"])
        if variant_id not in store.variants or location_id not in store.locations:
            raise ValueError("Unknown variant or location.")
        level = store.level(variant_id, location_id)
        if "delta" in body:
            level["onhand"] += int(body["delta"])
        if "onhand" in body:
            level["onhand"] = int(body["onhand"])
            level["absolute_set"] = True
        if "safety_stock" in body:
            level["safety_stock"] = int(body["safety_stock"])
        store.touch(variant_id, location_id)
    return {"levels": _levels_view(store)}


@_control
def c_levels(request, sandbox, store, body):
    with store.lock:
        return {"levels": _levels_view(store), "transactions": len(store.transactions)}


@_control
def c_hooks(request, sandbox, store, body):
    """{scope, destination}: what POST /v3/hooks would create."""
    with store.lock:
        store.hooks.append({"id": next(store.ids), "scope": body["scope"],
                            "destination": body["destination"], "is_active": True})
        return {"hooks": store.hooks}


@_control
def c_emit(request, sandbox, store, body):
    """{scope, data}: fire one webhook by hand."""
    with store.lock:
        store.emit(body["scope"], body.get("data") or {})
    return {"pending": sum(1 for d in store.outbox if d.status == "pending")}


@_control
def c_deliver(request, sandbox, store, body):
    return deliver_webhooks(store, duplicate=bool(body.get("duplicate")),
                            duplicate_fire=bool(body.get("duplicate_fire")),
                            reverse=bool(body.get("reverse")),
                            skew=float(body.get("skew_seconds", 0)),
                            timeout=float(body.get("timeout", 5.0)))


@_control
def c_outbox(request, sandbox, store, body):
    return {"deliveries": [{"webhook_id": d.webhook_id, "scope": d.scope, "url": d.url,
                            "hash": d.hash, "status": d.status, "attempts": d.attempts,
                            "responses": d.responses, "body": d.body.decode(),
                            "headers": store.signature_headers(d)} for d in store.outbox]}


@_control
def c_faults(request, sandbox, store, body):
    """{faults: [{kind, count?, path_contains?, method?, status?, seconds?}]}; kinds: status
    (5xx), unauthorized (401), slow, timeout_after_commit, overload (429 without the quota
    headers: the platform, not the store's quota)."""
    kinds = {"status", "unauthorized", "slow", "timeout_after_commit", "overload"}
    faults = list(body.get("faults") or [])
    for fault in faults:
        if fault.get("kind") not in kinds:
            raise ValueError(f"Unknown fault kind {fault.get('kind')}.")
        fault.setdefault("count", 1)
    with store.lock:
        store.faults = faults
    return {"ok": True}


@_control
def c_clock(request, sandbox, store, body):
    sandbox.clock.offset += float(body.get("advance_seconds", 0))
    return {"now": rfc2822(sandbox.clock.now())}


@_control
def c_log(request, sandbox, store, body):
    return {"log": list(store.log)[-int(request.query_value("last") or 1000):]}


@_control
def c_stats(request, sandbox, store, body):
    return {"stats": dict(store.stats), **store.quota_headers()}


V3_ROUTES = [
    ("GET", "/catalog/variants", v3_variants),
    ("GET", "/catalog/products", v3_products),
    ("GET", "/inventory/locations", v3_locations),
    ("GET", "/inventory/items", v3_inventory_items),
    ("PUT", "/inventory/adjustments/absolute", v3_absolute),
    ("POST", "/inventory/adjustments/relative", v3_relative),
    ("PUT", "/inventory/locations/{location}/items", v3_location_settings),
    ("GET", "/settings/inventory", v3_inventory_settings),
]
V2_ROUTES = [
    ("GET", "/orders", v2_orders),
    ("GET", "/orders/{order}", v2_order),
    ("GET", "/orders/{order}/products", v2_order_products),
]


def register(router: Router) -> None:
    router.context.setdefault("bigcommerce", BigCommerceSandbox())
    prefix = "/bigcommerce/stores/{hash}"
    for method, path, handler in V3_ROUTES:
        router.add(method, prefix + "/v3" + path, _api(handler, v2=False))
    for method, path, handler in V2_ROUTES:
        router.add(method, prefix + "/v2" + path, _api(handler, v2=True))
    control = "/_sandbox/bigcommerce"
    router.add("POST", control + "/stores", c_create_store)
    router.add("GET", control + "/{hash}", c_store)
    router.add("POST", control + "/{hash}/settings", c_settings)
    router.add("POST", control + "/{hash}/quota/spend", c_spend)
    router.add("POST", control + "/{hash}/products", c_products)
    router.add("POST", control + "/{hash}/orders", c_place_order)
    router.add("POST", control + "/{hash}/orders/{order}/cancel", c_cancel_order)
    router.add("POST", control + "/{hash}/orders/{order}/ship", c_ship_order)
    router.add("POST", control + "/{hash}/stock", c_stock)
    router.add("GET", control + "/{hash}/levels", c_levels)
    router.add("POST", control + "/{hash}/hooks", c_hooks)
    router.add("POST", control + "/{hash}/webhooks/emit", c_emit)
    router.add("POST", control + "/{hash}/webhooks/deliver", c_deliver)
    router.add("GET", control + "/{hash}/webhooks", c_outbox)
    router.add("POST", control + "/{hash}/faults", c_faults)
    router.add("POST", control + "/{hash}/clock", c_clock)
    router.add("GET", control + "/{hash}/log", c_log)
    router.add("GET", control + "/{hash}/stats", c_stats)
