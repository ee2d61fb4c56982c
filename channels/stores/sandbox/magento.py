"""A Magento 2 / Adobe Commerce store simulator: REST with MSI (store-channels.md §2, §5).

Mounted on vendor_api's sandbox server (settings.ACORN_SANDBOX_MOUNTS).
Several stores live side by side under a path prefix; a connection's base
URL is ``http://<sandbox>/magento/<store>`` and below it are Magento's own
paths, with or without a store code::

    /magento/{store}/rest/V1/...           /magento/{store}/rest/{store_code}/V1/...

What it reproduces:
- auth: OAuth 1.0a integration signatures (HMAC-SHA256 or -SHA1, checked
  with oauthlib's reference signature code; bad signatures and replayed
  nonces refused), the admin token (``POST /V1/integration/admin/token``,
  4 h, Bearer), and the integration access token as Bearer only when the
  store enables ``enable_integration_as_bearer`` (off since 2.4.4);
- searchCriteria: OR within a filter group, AND across groups, every
  condition type, sort orders, ``total_count``, and the trap: a page past
  the end answers the last page again (magento/magento2#3787);
- input limits (2.4.3+, togglable): <= 20 entities per list input, page
  size <= 300, default page size 20;
- MSI: source items per (sku, source), stocks linked to sources by
  priority, reservations per (sku, stock): an order adds a negative one,
  shipment deducts the source (the stock's highest-priority source) and adds
  the compensating one, cancel compensates; salable quantity =
  sum(in-stock source quantity linked to the stock) - threshold + sum(reservations);
- orders with configurable parent/child rows (two rows, one SKU);
- error bodies ``{"message": "...%1/%name...", "parameters": ...}``;
- faults (5xx, 401, slow, timeout after the write commits), an injectable
  clock and a request log.

The control API is under ``/_sandbox/magento/`` (see ``register``).
"""

from __future__ import annotations

import datetime
import hmac
import itertools
import re
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlencode

from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header, unescape

from vendor_api.sandbox.server import Router, SandboxRequest, SandboxResponse

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
ADMIN_TOKEN_SECONDS = 4 * 3600
OAUTH_TIMESTAMP_SKEW = 600  # seconds either side of real time
LIST_INPUT_LIMIT = 20
PAGE_SIZE_LIMIT = 300
DEFAULT_PAGE_SIZE = 20
OPEN_STATES = {"new", "pending_payment", "processing", "holded", "payment_review"}
CONDITIONS = {"eq", "neq", "gt", "gteq", "lt", "lteq", "like", "in", "nin", "from", "to",
              "null", "notnull", "finset", "nlike"}


def fmt(value: datetime.datetime | None) -> str | None:
    return value.astimezone(datetime.UTC).strftime(DATE_FORMAT) if value else None


class Clock:
    """Real time plus an offset tests move forward."""

    def __init__(self):
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.time(), tz=datetime.UTC).replace(microsecond=0)


class MagentoError(Exception):
    def __init__(self, status: int, message: str, parameters: Any = None, **extra):
        super().__init__(message)
        self.status = status
        self.body: dict = {"message": message}
        if parameters is not None:
            self.body["parameters"] = parameters
        self.body.update(extra)


@dataclass
class Store:
    name: str
    clock: Clock
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    admin_username: str = "admin"
    admin_password: str = "admin123"  # noqa: S105 (a sandbox's seeded login)
    integration_as_bearer: bool = False
    input_limits: bool = False
    threshold: int = 0  # the out-of-stock threshold (min_qty)
    admin_tokens: dict[str, float] = field(default_factory=dict)
    nonces: set[tuple[str, str, str]] = field(default_factory=set)
    sources: dict[str, dict] = field(default_factory=dict)
    # stock id -> {name, sources: [source codes by priority]}
    stocks: dict[int, dict] = field(default_factory=dict)
    products: dict[str, dict] = field(default_factory=dict)  # sku -> product
    source_items: dict[tuple[str, str], dict] = field(default_factory=dict)
    reservations: list[dict] = field(default_factory=list)
    orders: dict[int, dict] = field(default_factory=dict)
    faults: list[dict] = field(default_factory=list)
    log: deque = field(default_factory=lambda: deque(maxlen=20000))
    stats: Counter = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    ids: Any = field(default_factory=lambda: itertools.count(1))
    item_ids: Any = field(default_factory=lambda: itertools.count(100))

    def default_stock(self) -> int:
        return min(self.stocks)

    def stock_of_source(self, source_code: str) -> int | None:
        for stock_id, stock in self.stocks.items():
            if source_code in stock["sources"]:
                return stock_id
        return None

    def reservation_sum(self, sku: str, stock_id: int) -> int:
        return sum(r["quantity"] for r in self.reservations
                   if r["sku"] == sku and r["stock_id"] == stock_id)

    def salable(self, sku: str, stock_id: int) -> int:
        physical = sum(
            item["quantity"] for (item_sku, code), item in self.source_items.items()
            if item_sku == sku and item["status"] == 1 and code in self.stocks[stock_id]["sources"]
            and self.sources[code]["enabled"]
        )
        return int(physical - self.threshold + self.reservation_sum(sku, stock_id))

    def add_product(self, spec: dict) -> dict:
        sku = spec["sku"]
        product = {"id": next(self.ids), "sku": sku, "name": spec.get("name", sku),
                   "type_id": spec.get("type_id", "simple"), "status": 1,
                   "updated_at": self.clock.now(), "parent_sku": spec.get("parent_sku"),
                   "custom_attributes": [{"attribute_code": "gtin", "value": spec["gtin"]}]
                   if spec.get("gtin") else []}
        self.products[sku] = product
        for code, quantity in (spec.get("sources") or {}).items():
            if code not in self.sources:
                raise ValueError(f"Unknown source {code}.")
            self.source_items[(sku, code)] = {"quantity": int(quantity),
                                              "status": 1 if int(quantity) > 0 else 0}
        return product


class MagentoSandbox:
    def __init__(self):
        self.clock = Clock()
        self.stores: dict[str, Store] = {}
        self.lock = threading.Lock()

    def create_store(self, spec: dict) -> Store:
        name = spec["name"]
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,60}", name):
            raise ValueError("Store names are lower-case letters, digits and hyphens.")
        store = Store(
            name=name, clock=self.clock,
            consumer_key=spec.get("consumer_key") or f"ck-{name}",
            consumer_secret=spec.get("consumer_secret") or f"cs-{name}",
            access_token=spec.get("access_token") or f"at-{name}",
            access_token_secret=spec.get("access_token_secret") or f"ats-{name}",
            integration_as_bearer=bool(spec.get("integration_as_bearer", False)),
            input_limits=bool(spec.get("input_limits", False)),
            threshold=int(spec.get("threshold", 0)),
        )
        sources = spec.get("sources") or [{"code": "default", "name": "Default Source"}]
        for source in sources:
            if isinstance(source, str):
                source = {"code": source, "name": source}
            store.sources[source["code"]] = {"name": source.get("name", source["code"]),
                                             "enabled": bool(source.get("enabled", True))}
        for stock in spec.get("stocks") or [{"id": 1, "name": "Default Stock",
                                            "sources": list(store.sources)}]:
            store.stocks[int(stock["id"])] = {"name": stock.get("name", "Stock"),
                                              "sources": list(stock["sources"])}
        for product in spec.get("products") or []:
            store.add_product(product)
        with self.lock:
            self.stores[name] = store
        return store


def _sandbox(request: SandboxRequest) -> MagentoSandbox:
    return request.router.context["magento"]


def _json(status: int, body: Any) -> SandboxResponse:
    return SandboxResponse(status=status, body=body)


# --- searchCriteria -----------------------------------------------------------------


def _by_index(pair: tuple[str, Any]) -> int:
    try:
        return int(pair[0])
    except ValueError:
        raise MagentoError(400, "The search criteria are invalid.") from None


def search_criteria(query: dict[str, list[str]]) -> dict:
    """``searchCriteria[filter_groups][0][filters][0][field]=...`` -> a nested dict."""
    root: dict = {}
    for key, values in query.items():
        if not key.startswith("searchCriteria"):
            continue
        parts = re.findall(r"\[([^\]]*)\]", key[len("searchCriteria"):])
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if parts:
            node[parts[-1]] = values[-1]
    groups = []
    for _index, group in sorted((root.get("filter_groups") or {}).items(), key=_by_index):
        filters = []
        for _f, spec in sorted((group.get("filters") or {}).items(), key=_by_index):
            condition = spec.get("condition_type", "eq") or "eq"
            if condition not in CONDITIONS:
                raise MagentoError(400, 'Invalid value of "%value" provided for the %fieldName '
                                   "field.", {"value": condition, "fieldName": "condition_type"})
            if not spec.get("field"):
                raise MagentoError(400, '"%fieldName" is required. Enter and try again.',
                                   {"fieldName": "field"})
            filters.append((spec["field"], condition, spec.get("value", "")))
        groups.append(filters)
    sort_orders = [(spec.get("field"), (spec.get("direction") or "ASC").upper())
                   for _i, spec in sorted((root.get("sortOrders") or {}).items(),
                                          key=_by_index)]
    try:
        page_size = int(root["pageSize"]) if root.get("pageSize") not in (None, "") else None
        current = int(root["currentPage"]) if root.get("currentPage") not in (None, "") else 1
    except ValueError:
        raise MagentoError(400, "The search criteria are invalid.") from None
    return {"groups": groups, "sort": sort_orders, "page_size": page_size,
            "current_page": max(current, 1), "raw": root}


def _comparable(value: Any):
    if isinstance(value, datetime.datetime):
        return fmt(value)
    return value


def _coerce(actual: Any, expected: str):
    if isinstance(actual, bool):
        return int(actual), int(expected) if expected.lstrip("-").isdigit() else expected
    if isinstance(actual, int | float):
        try:
            return actual, float(expected)
        except ValueError:
            return str(actual), expected
    return ("" if actual is None else str(actual)), expected


def matches(row: dict, field_name: str, condition: str, value: str) -> bool:
    actual = _comparable(row.get(field_name))
    if condition == "null":
        return actual in (None, "")
    if condition == "notnull":
        return actual not in (None, "")
    if condition in ("in", "nin"):
        options = [v.strip() for v in value.split(",")]
        hit = str(actual) in options
        return hit if condition == "in" else not hit
    if condition == "finset":
        return value in str(actual or "").split(",")
    if condition in ("like", "nlike"):
        pattern = "^" + re.escape(value).replace("%", ".*").replace("_", ".") + "$"
        hit = re.match(pattern, str(actual or ""), re.IGNORECASE) is not None
        return hit if condition == "like" else not hit
    left, right = _coerce(actual, value)
    try:
        return {
            "eq": left == right, "neq": left != right, "gt": left > right,
            "gteq": left >= right, "from": left >= right, "lt": left < right,
            "lteq": left <= right, "to": left <= right,
        }[condition]
    except TypeError:
        return False


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (1, 0, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value, "")
    return (0, 0, str(_comparable(value)))


def search(store: Store, rows: list[dict], criteria: dict) -> dict:
    """Filter, sort and page ``rows`` as Magento's collection processor does."""
    selected = [row for row in rows if all(any(matches(row, *f) for f in group)
                                           for group in criteria["groups"] if group)]
    for field_name, direction in reversed(criteria["sort"]):  # stable: the last key first
        selected.sort(key=lambda row, f=field_name: _sort_key(row.get(f)),
                      reverse=direction == "DESC")
    page_size = criteria["page_size"]
    if store.input_limits:
        if page_size is not None and page_size > PAGE_SIZE_LIMIT:
            raise MagentoError(400, "Maximum SearchCriteria pageSize is %max",
                               {"max": PAGE_SIZE_LIMIT})
        page_size = page_size or DEFAULT_PAGE_SIZE
    total = len(selected)
    current = criteria["current_page"]
    if page_size:
        last_page = max((total + page_size - 1) // page_size, 1)
        # The trap: a page past the end answers the last page again.
        shown_page = min(current, last_page)
        page = selected[(shown_page - 1) * page_size: shown_page * page_size]
    else:
        page = selected
    echo: dict = {"filter_groups": [
        {"filters": [{"field": f, "value": v, "condition_type": c} for f, c, v in group]}
        for group in criteria["groups"]]}
    if criteria["sort"]:
        echo["sort_orders"] = [{"field": f, "direction": d} for f, d in criteria["sort"]]
    if page_size:
        echo["page_size"] = page_size
    echo["current_page"] = current
    return {"items": page, "search_criteria": echo, "total_count": total}


# --- Auth -----------------------------------------------------------------------------


def _oauth_check(store: Store, request: SandboxRequest, header: str) -> None:
    params = {name: unescape(value) for name, value in parse_authorization_header(header)}
    required = ("oauth_consumer_key", "oauth_token", "oauth_signature_method",
                "oauth_timestamp", "oauth_nonce", "oauth_signature")
    missing = [name for name in required if not params.get(name)]
    if missing:
        raise MagentoError(401, "%1 is required for OAuth.", [missing[0]])
    if params["oauth_consumer_key"] != store.consumer_key:
        raise MagentoError(401, "A consumer having the specified key does not exist.")
    if params["oauth_token"] != store.access_token:
        raise MagentoError(401, "The token length is invalid. Check the length and try again.")
    method = params["oauth_signature_method"]
    if method not in ("HMAC-SHA256", "HMAC-SHA1"):
        raise MagentoError(401, "Signature method %1 is not supported", [method])
    try:
        stamp = int(params["oauth_timestamp"])
    except ValueError:
        raise MagentoError(401, "An invalid timestamp was provided.") from None
    if abs(time.time() - stamp) > OAUTH_TIMESTAMP_SKEW:
        raise MagentoError(401, "The timestamp is too old or too new.")
    query = urlencode([(k, v) for k, values in request.query.items() for v in values])
    collected = oauth_signature.collect_parameters(
        uri_query=query, headers={"Authorization": header}, exclude_oauth_signature=True)
    normalized = oauth_signature.normalize_parameters(collected)
    base_uri = oauth_signature.base_string_uri(request.base_url + request.path)
    base = oauth_signature.signature_base_string(request.method, base_uri, normalized)
    sign = (oauth_signature.sign_hmac_sha256_with_client if method == "HMAC-SHA256"
            else oauth_signature.sign_hmac_sha1_with_client)
    secrets_of = SimpleNamespace(client_secret=store.consumer_secret,
                                 resource_owner_secret=store.access_token_secret)
    expected = sign(base, secrets_of)
    if not hmac.compare_digest(expected, params["oauth_signature"]):
        store.stats["bad_signature"] += 1
        raise MagentoError(401, "The signature is invalid. Verify and try again.")
    nonce = (params["oauth_consumer_key"], params["oauth_nonce"], params["oauth_timestamp"])
    if nonce in store.nonces:
        store.stats["replayed_nonce"] += 1
        raise MagentoError(401, "The nonce is already being used by the consumer with ID %1.",
                           [store.consumer_key])
    store.nonces.add(nonce)


def authorise(store: Store, request: SandboxRequest) -> None:
    header = request.headers.get("Authorization") or ""
    if header.startswith("OAuth "):
        with store.lock:
            _oauth_check(store, request, header)
        return
    if header.startswith("Bearer "):
        token = header[len("Bearer "):].strip()
        expiry = store.admin_tokens.get(token)
        if expiry is not None and expiry > store.clock.time():
            return
        if token == store.access_token and store.integration_as_bearer:
            return
    store.stats["unauthorised"] += 1
    raise MagentoError(401, "The consumer isn't authorized to access %resources.",
                       {"resources": "Magento_InventoryApi::source"})


def admin_token(request: SandboxRequest, store: Store) -> SandboxResponse:
    body = request.json() or {}
    if body.get("username") != store.admin_username or body.get("password") != store.admin_password:
        raise MagentoError(401, "The account sign-in was incorrect or your account is disabled "
                           "temporarily. Please wait and try again later.")
    token = secrets.token_hex(16)
    store.admin_tokens[token] = store.clock.time() + ADMIN_TOKEN_SECONDS
    return _json(200, token)


# --- Views ----------------------------------------------------------------------------


def _product_row(product: dict) -> dict:
    return {"id": product["id"], "sku": product["sku"], "name": product["name"],
            "type_id": product["type_id"], "status": product["status"],
            "updated_at": fmt(product["updated_at"]),
            "custom_attributes": product["custom_attributes"]}


def _source_item_row(sku: str, code: str, item: dict) -> dict:
    return {"sku": sku, "source_code": code, "quantity": item["quantity"], "status": item["status"]}


def _order_row(order: dict) -> dict:
    return {key: (fmt(value) if isinstance(value, datetime.datetime) else value)
            for key, value in order.items() if key != "stock_id"} | {
        "items": [dict(item) for item in order["items"]]}


def products_list(request, store):
    rows = [_product_row(p) for p in store.products.values()]
    return _json(200, search(store, rows, search_criteria(request.query)))


def product_get(request, store):
    sku = unquote(request.path_params["sku"])
    product = store.products.get(sku)
    if product is None:
        raise MagentoError(404, "The product that was requested doesn't exist. Verify the "
                           "product and try again.")
    return _json(200, _product_row(product))


def sources_list(request, store):
    rows = [{"source_code": code, "name": s["name"], "enabled": s["enabled"]}
            for code, s in store.sources.items()]
    return _json(200, search(store, rows, search_criteria(request.query)))


def stocks_list(request, store):
    rows = [{"stock_id": sid, "name": s["name"]} for sid, s in store.stocks.items()]
    return _json(200, search(store, rows, search_criteria(request.query)))


def links_list(request, store):
    rows = [{"stock_id": sid, "source_code": code, "priority": priority}
            for sid, s in store.stocks.items() for priority, code in enumerate(s["sources"], 1)]
    return _json(200, search(store, rows, search_criteria(request.query)))


def source_items_list(request, store):
    rows = [_source_item_row(sku, code, item)
            for (sku, code), item in sorted(store.source_items.items())]
    return _json(200, search(store, rows, search_criteria(request.query)))


def _validated_source_items(store: Store, body: Any) -> list[dict]:
    if not body:
        raise MagentoError(400, "Input data is empty")
    items = body.get("sourceItems") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise MagentoError(400, '"%fieldName" is required. Enter and try again.',
                           {"fieldName": "sourceItems"})
    if store.input_limits and len(items) > LIST_INPUT_LIMIT:
        raise MagentoError(400, 'Maximum items of type "%type" is %max', {
            "type": "\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface",
            "max": LIST_INPUT_LIMIT})
    clean = []
    for item in items:
        sku = str(item.get("sku") or "")
        if not sku:
            raise MagentoError(400, 'Validation Failed: "sku" can not be empty.', errors=[
                {"message": '"%field" can not be empty.', "parameters": {"field": "sku"}}])
        quantity = item.get("quantity", 0)
        if isinstance(quantity, bool) or not isinstance(quantity, int | float | str):
            quantity = "invalid"
        try:
            quantity = float(quantity)
        except ValueError:
            raise MagentoError(400, f'Error occurred during "quantity" processing. The '
                               f'"{item.get("quantity")}" value\'s type is invalid. The "float" '
                               "type was expected. Verify and try again.") from None
        code = str(item.get("source_code") or "")
        if code not in store.sources or sku not in store.products:
            raise MagentoError(400, "Could not save Source Item")
        status = int(item.get("status", 1 if quantity > 0 else 0))
        clean.append({"sku": sku, "source_code": code, "quantity": quantity, "status": status})
    return clean


def source_items_save(request, store):
    items = _validated_source_items(store, request.json())
    for item in items:
        quantity = item["quantity"]
        store.source_items[(item["sku"], item["source_code"])] = {
            "quantity": int(quantity) if float(quantity).is_integer() else quantity,
            "status": item["status"]}
        store.products[item["sku"]]["updated_at"] = store.clock.now()
    store.stats["source_items_saved"] += len(items)
    return _json(200, [])


def source_items_delete(request, store):
    items = _validated_source_items(store, request.json())
    for item in items:
        store.source_items.pop((item["sku"], item["source_code"]), None)
    return _json(200, [])


def salable_quantity(request, store):
    sku = unquote(request.path_params["sku"])
    stock_id = int(request.path_params["stock"])
    if stock_id not in store.stocks:
        raise MagentoError(404, 'The stock with "%value" ID wasn\'t found. Verify the ID and try '
                           "again.", {"value": stock_id})
    if sku not in store.products:
        raise MagentoError(404, "The product that was requested doesn't exist. Verify the "
                           "product and try again.")
    if store.products[sku]["type_id"] != "simple":
        raise MagentoError(400, "Can't check requested quantity for products without Source "
                           "Items support.")
    return _json(200, store.salable(sku, stock_id))


def stock_item(request, store):
    sku = unquote(request.path_params["sku"])
    product = store.products.get(sku)
    if product is None:
        raise MagentoError(404, "The Product with the \"%1\" SKU doesn't exist.", [sku])
    return _json(200, {"item_id": product["id"], "product_id": product["id"], "stock_id": 1,
                       "min_qty": store.threshold, "use_config_min_qty": True,
                       "is_in_stock": True})


def orders_list(request, store):
    rows = [_order_row(order) for order in store.orders.values()]
    return _json(200, search(store, rows, search_criteria(request.query)))


def order_get(request, store):
    try:
        order = store.orders[int(request.path_params["order"])]
    except (KeyError, ValueError):
        raise MagentoError(404, "The entity that was requested doesn't exist. Verify the entity "
                           "and try again.") from None
    return _json(200, _order_row(order))


WRITE_HANDLERS = {source_items_save, source_items_delete}


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


def _api(handler, *, auth: bool = True):
    def wrapped(request: SandboxRequest) -> SandboxResponse:
        store = _sandbox(request).stores.get(request.path_params["store"])
        if store is None:
            return _json(404, {"message": "Request does not match any route."})
        entry = {"at": fmt(store.clock.now()), "method": request.method, "path": request.path,
                 "query": request.flat_query, "status": None}
        fault = _take_fault(store, request)
        hang = None
        try:
            if fault is not None:
                kind = fault["kind"]
                if kind == "status":
                    raise MagentoError(int(fault.get("status", 503)),
                                       "Internal Error. Details are available in Magento log file. "
                                       "Report ID: webapi-%1", [secrets.token_hex(6)])
                if kind == "unauthorized":
                    raise MagentoError(401, "The consumer isn't authorized to access %resources.",
                                       {"resources": "Magento_InventoryApi::source"})
                if kind == "slow":
                    time.sleep(float(fault.get("seconds", 6)))
                if kind == "timeout_after_commit":
                    hang = ("hang", float(fault.get("seconds", 10)))
            if auth:
                authorise(store, request)
            with store.lock:
                store.stats["calls"] += 1
                response = handler(request, store)
        except MagentoError as error:
            response = _json(error.status, error.body)
        except ValueError:
            response = _json(400, {"message": "Decoding error: The request body is invalid."})
        entry["status"] = response.status
        with store.lock:
            store.log.append(entry)
        response.fault = hang
        return response
    return wrapped


# --- Store-side actions -------------------------------------------------------------


def place_order(store: Store, spec: dict) -> dict:
    """``{lines: [{sku, qty, parent_sku?}], state?}``; a line with ``parent_sku``
    is a configurable product: a parent row and a child row with the same SKU."""
    now = store.clock.now()
    with store.lock:
        order_id = next(store.ids)
        stock_id = int(spec.get("stock_id", store.default_stock()))
        items = []
        for line in spec["lines"]:
            sku, qty = line["sku"], int(line["qty"])
            if sku not in store.products:
                raise ValueError(f"Unknown SKU {sku}.")
            parent_id = None
            if line.get("parent_sku"):
                parent_id = next(store.item_ids)
                items.append({"item_id": parent_id, "sku": sku, "name": line["parent_sku"],
                              "product_type": "configurable", "parent_item_id": None,
                              "qty_ordered": qty, "qty_shipped": 0, "qty_canceled": 0,
                              "qty_refunded": 0})
            items.append({"item_id": next(store.item_ids), "sku": sku, "name": sku,
                          "product_type": "simple", "parent_item_id": parent_id,
                          "qty_ordered": qty, "qty_shipped": 0, "qty_canceled": 0,
                          "qty_refunded": 0})
            store.reservations.append({"sku": sku, "stock_id": stock_id, "quantity": -qty,
                                       "metadata": f"order_placed:{order_id}"})
        order = {"entity_id": order_id, "increment_id": f"{order_id:09d}",
                 "state": spec.get("state", "processing"),
                 "status": spec.get("state", "processing"), "created_at": now, "updated_at": now,
                 "stock_id": stock_id, "items": items}
        store.orders[order_id] = order
        return order


def _stock_rows(order: dict) -> list[dict]:
    """The rows that carry stock: the child of a configurable, a simple alone."""
    parents = {item["item_id"]: item for item in order["items"]}
    rows = []
    for item in order["items"]:
        if item["product_type"] == "configurable":
            continue
        parent = parents.get(item["parent_item_id"]) if item["parent_item_id"] else None
        rows.append((item, parent))
    return rows


def cancel_order(store: Store, order_id: int) -> dict:
    with store.lock:
        order = store.orders[order_id]
        if order["state"] not in OPEN_STATES:
            raise ValueError("Only open orders can be cancelled.")
        for item, parent in _stock_rows(order):
            holder = parent or item
            open_qty = holder["qty_ordered"] - holder["qty_shipped"] - holder["qty_canceled"]
            for row in filter(None, (item, parent)):
                row["qty_canceled"] = row.get("qty_canceled", 0) + open_qty
            store.reservations.append({"sku": item["sku"], "stock_id": order["stock_id"],
                                       "quantity": open_qty,
                                       "metadata": f"order_canceled:{order_id}"})
        order["state"] = order["status"] = "canceled"
        order["updated_at"] = store.clock.now()
        return order


def ship_order(store: Store, order_id: int) -> dict:
    """Ship everything open: deduct the stock's first source, compensate the reservation."""
    with store.lock:
        order = store.orders[order_id]
        source = store.stocks[order["stock_id"]]["sources"][0]
        for item, parent in _stock_rows(order):
            holder = parent or item
            open_qty = holder["qty_ordered"] - holder["qty_shipped"] - holder["qty_canceled"]
            if open_qty <= 0:
                continue
            for row in filter(None, (item, parent)):
                row["qty_shipped"] = row.get("qty_shipped", 0) + open_qty
            source_item = store.source_items.setdefault((item["sku"], source),
                                                        {"quantity": 0, "status": 0})
            source_item["quantity"] -= open_qty
            store.reservations.append({"sku": item["sku"], "stock_id": order["stock_id"],
                                       "quantity": open_qty,
                                       "metadata": f"shipment_created:{order_id}"})
        order["state"] = order["status"] = "complete"
        order["updated_at"] = store.clock.now()
        return order


# --- Control API ---------------------------------------------------------------------


def _store_view(store: Store) -> dict:
    return {"name": store.name, "consumer_key": store.consumer_key,
            "sources": [{"source_code": c, **s} for c, s in store.sources.items()],
            "stocks": [{"stock_id": i, **s} for i, s in store.stocks.items()],
            "products": [_product_row(p) for p in store.products.values()],
            "input_limits": store.input_limits, "threshold": store.threshold}


def _levels_view(store: Store) -> dict:
    return {
        "source_items": [_source_item_row(sku, code, item)
                         for (sku, code), item in sorted(store.source_items.items())],
        "salable": {f"{sku}/{stock_id}": store.salable(sku, stock_id)
                    for sku, p in store.products.items() if p["type_id"] == "simple"
                    for stock_id in store.stocks},
        "reservations": list(store.reservations),
    }


def _control(handler):
    def wrapped(request: SandboxRequest) -> SandboxResponse:
        sandbox = _sandbox(request)
        store = None
        if "store" in request.path_params:
            store = sandbox.stores.get(request.path_params["store"])
            if store is None:
                return _json(404, {"error": "No such store."})
        try:
            return _json(200, handler(request, sandbox, store, request.json() or {}))
        except (ValueError, KeyError) as error:
            return _json(422, {"error": str(error)})
    return wrapped


@_control
def c_create_store(request, sandbox, _store, body):
    if body.get("name") in sandbox.stores and not body.get("replace"):
        raise ValueError("A store with this name exists (pass replace: true).")
    return _store_view(sandbox.create_store(body))


@_control
def c_store(request, sandbox, store, body):
    return _store_view(store)


@_control
def c_settings(request, sandbox, store, body):
    """{input_limits, integration_as_bearer, threshold}"""
    with store.lock:
        for key in ("input_limits", "integration_as_bearer"):
            if key in body:
                setattr(store, key, bool(body[key]))
        if "threshold" in body:
            store.threshold = int(body["threshold"])
    return {"ok": True}


@_control
def c_products(request, sandbox, store, body):
    """{products: [{sku, name?, type_id?, gtin?, sources: {code: qty}}]}"""
    with store.lock:
        return {"products": [_product_row(store.add_product(p)) for p in body["products"]]}


@_control
def c_place_order(request, sandbox, store, body):
    return _order_row(place_order(store, body))


@_control
def c_cancel_order(request, sandbox, store, body):
    return _order_row(cancel_order(store, int(request.path_params["order"])))


@_control
def c_ship_order(request, sandbox, store, body):
    return _order_row(ship_order(store, int(request.path_params["order"])))


@_control
def c_stock(request, sandbox, store, body):
    """A merchant edits a source item: {sku, source_code, quantity | delta, status?}."""
    with store.lock:
        key = (body["sku"], body["source_code"])
        if body["sku"] not in store.products or body["source_code"] not in store.sources:
            raise ValueError("Unknown SKU or source.")
        item = store.source_items.setdefault(key, {"quantity": 0, "status": 1})
        if "delta" in body:
            item["quantity"] += int(body["delta"])
        else:
            item["quantity"] = int(body["quantity"])
        item["status"] = int(body.get("status", 1 if item["quantity"] > 0 else 0))
        store.products[body["sku"]]["updated_at"] = store.clock.now()
        return _source_item_row(*key, item)


@_control
def c_levels(request, sandbox, store, body):
    with store.lock:
        return _levels_view(store)


@_control
def c_faults(request, sandbox, store, body):
    """{faults: [{kind, count?, path_contains?, method?, status?, seconds?}]}; kinds: status
    (5xx), unauthorized (401), slow (sleep, then answer), timeout_after_commit (apply, then
    answer only after ``seconds``)."""
    kinds = {"status", "unauthorized", "slow", "timeout_after_commit"}
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
    return {"now": fmt(sandbox.clock.now())}


@_control
def c_log(request, sandbox, store, body):
    return {"log": list(store.log)[-int(request.query_value("last") or 1000):]}


@_control
def c_stats(request, sandbox, store, body):
    return {"stats": dict(store.stats)}


API_ROUTES = [
    ("GET", "/products", products_list),
    ("GET", "/products/{sku}", product_get),
    ("GET", "/inventory/sources", sources_list),
    ("GET", "/inventory/stocks", stocks_list),
    ("GET", "/inventory/stock-source-links", links_list),
    ("GET", "/inventory/source-items", source_items_list),
    ("POST", "/inventory/source-items", source_items_save),
    ("POST", "/inventory/source-items-delete", source_items_delete),
    ("GET", "/inventory/get-product-salable-quantity/{sku}/{stock}", salable_quantity),
    ("GET", "/stockItems/{sku}", stock_item),
    ("GET", "/orders", orders_list),
    ("GET", "/orders/{order}", order_get),
]


def register(router: Router) -> None:
    router.context.setdefault("magento", MagentoSandbox())
    for prefix in ("/magento/{store}/rest/V1", "/magento/{store}/rest/{store_code}/V1"):
        router.add("POST", prefix + "/integration/admin/token", _api(admin_token, auth=False))
        for method, path, handler in API_ROUTES:
            router.add(method, prefix + path, _api(handler))
    control = "/_sandbox/magento"
    router.add("POST", control + "/stores", c_create_store)
    router.add("GET", control + "/{store}", c_store)
    router.add("POST", control + "/{store}/settings", c_settings)
    router.add("POST", control + "/{store}/products", c_products)
    router.add("POST", control + "/{store}/orders", c_place_order)
    router.add("POST", control + "/{store}/orders/{order}/cancel", c_cancel_order)
    router.add("POST", control + "/{store}/orders/{order}/ship", c_ship_order)
    router.add("POST", control + "/{store}/stock", c_stock)
    router.add("GET", control + "/{store}/levels", c_levels)
    router.add("POST", control + "/{store}/faults", c_faults)
    router.add("POST", control + "/{store}/clock", c_clock)
    router.add("GET", control + "/{store}/log", c_log)
    router.add("GET", control + "/{store}/stats", c_stats)
