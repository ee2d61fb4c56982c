"""A Shopify store simulator: GraphQL Admin API (2026-04 semantics).

Mounted on vendor_api's sandbox server (settings.ACORN_SANDBOX_MOUNTS).
Several shops live side by side, told apart by a path prefix, because a
loopback sandbox has no ``{shop}.myshopify.com`` DNS: a connection's base URL
is ``http://<sandbox>/shopify/<shop>`` and everything below it is Shopify's
own path::

    POST /shopify/{shop}/admin/api/2026-04/graphql.json   X-Shopify-Access-Token
    POST /shopify/{shop}/admin/oauth/access_token         client credentials grant
    GET  /shopify/{shop}/_bulk/{operation}.jsonl          a bulk operation's result file

The GraphQL endpoint parses the request with graphql-core (the reference
parser; no schema: the simulator resolves the few root fields ACORN uses and
refuses the rest) and dispatches on the root field. What it reproduces
(shared/docs/store-channels.md §1, §5): the leaky cost bucket per shop
(requested cost admitted, unused part refunded, THROTTLED at HTTP 200,
MAX_COST_EXCEEDED over 1000), opaque cursors, ``first`` and input arrays
capped at 250, quantity states (``on_hand`` = sum of states; orders move
``available`` -> ``committed`` -> fulfilled), all-or-nothing
``inventorySetQuantities`` / ``inventoryAdjustQuantities`` with
``changeFromQuantity`` compare-and-set, the ``@idempotent(key:)`` cache
(replay, KEY_PARAMETER_MISMATCH, BAD_REQUEST when missing), bulk operations
with JSONL results, and REST-shaped HMAC-signed webhooks (duplicates,
reordering, retries with the original payload).

Cost model (Shopify publishes the rules, not every number): a scalar costs
0, an object 1 plus its fields, a connection ``2 + first x (cost of one
node)``, ``nodes(ids:)`` one node per id, a mutation 10. The actual cost
counts what was returned; the difference is refunded to the bucket.

The control API is under ``/_sandbox/shopify/`` (see ``register``).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import requests
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    parse,
)
from graphql.utilities import value_from_ast_untyped

from vendor_api.sandbox.server import Router, SandboxRequest, SandboxResponse

API_VERSION = "2026-04"
# The last version before compare-and-set became mandatory: rows carry
# ``compareQuantity`` (skipped with ``ignoreCompareQuantity``), a mismatch is
# COMPARE_QUANTITY_STALE and @idempotent is optional (§0, §1.2).
LEGACY_VERSION = "2025-10"
VERSIONS = {API_VERSION, LEGACY_VERSION}
MAX_QUERY_COST = 1000
MAX_PAGE = 250
MAX_INPUT = 250
MUTATION_COST = 10
MAX_QUANTITY = 1_000_000_000
# (maximumAvailable, restoreRate) per plan: §1.4 (Advanced/Enterprise buckets assumed 2x/20x).
PLANS = {
    "standard": (2000.0, 100.0),
    "advanced": (4000.0, 200.0),
    "plus": (20000.0, 1000.0),
    "enterprise": (40000.0, 2000.0),
}
QUANTITY_NAMES = ("available", "committed", "reserved", "damaged", "quality_control",
                  "safety_stock", "incoming")
ON_HAND_PARTS = ("available", "committed", "reserved", "damaged", "quality_control",
                 "safety_stock")
REASONS = {"correction", "cycle_count_available", "received", "restock", "damaged",
           "shrinkage", "promotion", "other", "safety_stock", "quality_control",
           "reservation_created", "reservation_deleted", "movement_created",
           "movement_updated"}
WEBHOOK_TOPICS = {"orders/create", "orders/updated", "orders/cancelled",
                  "inventory_levels/update", "bulk_operations/finish"}
WEBHOOK_MAX_ATTEMPTS = 8
# Pagination stops here; past it only a bulk operation reads a connection.
PAGINATION_LIMIT = 25_000
ALL_SCOPES = frozenset({"read_products", "read_inventory", "write_inventory", "read_locations",
                        "read_orders"})
# The access scope each root field needs (ACCESS_DENIED without it).
ROOT_SCOPES = {
    "productVariants": "read_products", "productVariantsCount": "read_products",
    "nodes": "read_inventory", "node": "read_inventory", "locations": "read_locations",
    "orders": "read_orders", "order": "read_orders",
    "inventorySetQuantities": "write_inventory", "inventoryAdjustQuantities": "write_inventory",
    "bulkOperationRunQuery": "read_products",
}
IDEMPOTENT_ROOTS = {"inventorySetQuantities", "inventoryAdjustQuantities"}
# Shopify's error text, not a secret.
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105, E501


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: Any, kind: str) -> int | None:
    match = re.fullmatch(rf"gid://shopify/{kind}/(\d+)", str(value or ""))
    return int(match.group(1)) if match else None


def iso(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def encode_cursor(payload: dict) -> str:
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict | None:
    if not cursor:
        return None
    try:
        payload = json.loads(base64.b64decode(cursor.encode()))
        if not isinstance(payload, dict) or not {"sort", "value", "last_id"} <= set(payload):
            raise ValueError(cursor)
        return payload
    except (ValueError, TypeError):
        raise GraphQLFailure("Invalid cursor for current pagination sort.", "BAD_REQUEST") from None


class GraphQLFailure(Exception):
    """A top-level GraphQL error (HTTP 200, ``errors`` array)."""

    def __init__(self, message: str, code: str, **extensions):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extensions = extensions


# --- State -------------------------------------------------------------------


class Clock:
    """Real time plus an offset tests move forward."""

    def __init__(self):
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.time(), tz=datetime.UTC)


@dataclass
class Delivery:
    event_id: str
    webhook_id: str
    topic: str
    url: str
    body: bytes  # the original payload, replayed byte for byte on retries
    triggered_at: str
    attempts: int = 0
    next_at: float = 0.0
    status: str = "pending"  # pending | delivered | abandoned
    responses: list = field(default_factory=list)


@dataclass
class Shop:
    name: str
    clock: Clock
    client_id: str
    client_secret: str  # client credentials grant and the webhook HMAC key
    access_tokens: set[str] = field(default_factory=set)  # non-expiring (legacy custom app)
    issued_tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry
    token_lifetime: int = 86399
    scopes: frozenset = ALL_SCOPES
    maximum_available: float = 2000.0
    restore_rate: float = 100.0
    bucket: float = 2000.0
    bucket_stamp: float = 0.0
    idempotency_retention: float = 86400.0
    bulk_seconds: float = 0.0
    locations: dict[int, dict] = field(default_factory=dict)
    products: dict[int, dict] = field(default_factory=dict)
    variants: dict[int, dict] = field(default_factory=dict)
    items: dict[int, dict] = field(default_factory=dict)
    levels: dict[tuple[int, int], dict] = field(default_factory=dict)
    orders: dict[int, dict] = field(default_factory=dict)
    idempotency: dict[str, tuple[str, Any, float]] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)
    subscriptions: list[tuple[str, str]] = field(default_factory=list)
    outbox: list[Delivery] = field(default_factory=list)
    faults: list[dict] = field(default_factory=list)
    bulk_operations: dict[int, dict] = field(default_factory=dict)
    log: deque = field(default_factory=lambda: deque(maxlen=20000))
    stats: Counter = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    ids: Any = field(default_factory=lambda: itertools.count(1001))

    @property
    def domain(self) -> str:
        return f"{self.name}.myshopify.com"

    def next_id(self) -> int:
        return next(self.ids)

    # Cost bucket -------------------------------------------------------
    def refill(self) -> None:
        now = self.clock.time()
        if self.bucket_stamp:
            self.bucket = min(self.maximum_available,
                              self.bucket + (now - self.bucket_stamp) * self.restore_rate)
        self.bucket_stamp = now

    def throttle_status(self) -> dict:
        return {"maximumAvailable": float(self.maximum_available),
                "currentlyAvailable": int(self.bucket),
                "restoreRate": float(self.restore_rate)}

    # Quantities --------------------------------------------------------
    def quantity(self, level: dict, name: str) -> int:
        if name == "on_hand":
            return sum(level[part] for part in ON_HAND_PARTS)
        return level[name]

    def add_variant(self, *, product_id: int, sku: str | None, barcode: str = "",
                    title: str = "", tracked: bool = True, levels: dict | None = None) -> int:
        now = self.clock.now()
        variant_id, item_id = self.next_id(), self.next_id()
        self.variants[variant_id] = {"product_id": product_id, "sku": sku, "barcode": barcode,
                                     "title": title or "Default Title", "item_id": item_id,
                                     "updated_at": now}
        self.items[item_id] = {"variant_id": variant_id, "tracked": tracked, "updated_at": now}
        for location_id, available in (levels or {}).items():
            self.levels[(item_id, location_id)] = dict.fromkeys(QUANTITY_NAMES, 0) | {
                "available": int(available), "updated_at": now}
        return variant_id

    def touch_level(self, item_id: int, location_id: int) -> None:
        level = self.levels[(item_id, location_id)]
        level["updated_at"] = self.clock.now()
        self.items[item_id]["updated_at"] = level["updated_at"]
        self.emit("inventory_levels/update", {
            "inventory_item_id": item_id, "location_id": location_id,
            "available": level["available"], "updated_at": iso(level["updated_at"]),
            "admin_graphql_api_id":
                f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}",
        })

    # Webhooks ----------------------------------------------------------
    def emit(self, topic: str, payload: dict) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        event_id = str(uuid.uuid4())
        for subscribed_topic, url in self.subscriptions:
            if subscribed_topic == topic:
                self.outbox.append(Delivery(
                    event_id=event_id, webhook_id=str(uuid.uuid4()), topic=topic, url=url,
                    body=body, triggered_at=iso(self.clock.now()),
                ))

    def sign(self, body: bytes) -> str:
        digest = hmac.new(self.client_secret.encode(), body, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def delivery_headers(self, delivery: Delivery) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Hmac-Sha256": self.sign(delivery.body),
            "X-Shopify-Shop-Domain": self.domain,
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
        }

    # Orders ------------------------------------------------------------
    def order_payload(self, order: dict) -> dict:
        """The REST shape webhooks carry."""
        return {
            "id": order["id"], "admin_graphql_api_id": gid("Order", order["id"]),
            "name": order["name"], "created_at": iso(order["created_at"]),
            "updated_at": iso(order["updated_at"]), "cancelled_at": iso(order["cancelled_at"]),
            "financial_status": order["financial_status"],
            "fulfillment_status": order["fulfillment_status"], "test": order["test"],
            "line_items": [{
                "id": line["id"], "variant_id": line["variant_id"], "sku": line["sku"],
                "quantity": line["quantity"], "current_quantity": line["current_quantity"],
                "fulfillable_quantity": line["unfulfilled_quantity"],
            } for line in order["lines"]],
        }


class ShopifySandbox:
    def __init__(self):
        self.clock = Clock()
        self.shops: dict[str, Shop] = {}
        self.lock = threading.Lock()

    def shop(self, name: str) -> Shop | None:
        return self.shops.get(name)

    def create_shop(self, spec: dict) -> Shop:
        name = spec["name"]
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,60}", name):
            raise ValueError("Shop names are lower-case letters, digits and hyphens.")
        plan = spec.get("plan", "standard")
        maximum, restore = PLANS[plan] if plan in PLANS else PLANS["standard"]
        maximum = float(spec.get("maximum_available", maximum))
        restore = float(spec.get("restore_rate", restore))
        shop = Shop(
            name=name, clock=self.clock,
            client_id=spec.get("client_id") or f"client-{name}",
            client_secret=spec.get("client_secret") or f"secret-{name}",
            maximum_available=maximum, restore_rate=restore, bucket=maximum,
            token_lifetime=int(spec.get("token_lifetime", 86399)),
            idempotency_retention=float(spec.get("idempotency_retention", 86400)),
            bulk_seconds=float(spec.get("bulk_seconds", 0)),
        )
        if spec.get("access_token"):
            shop.access_tokens.add(spec["access_token"])
        for index, location in enumerate(spec.get("locations") or [{"name": "Shop location"}]):
            if isinstance(location, str):
                location = {"name": location}
            shop.locations[shop.next_id()] = {"name": location["name"],
                                              "is_active": location.get("is_active", True),
                                              "index": index}
        location_ids = list(shop.locations)
        for product in spec.get("products") or []:
            product_id = shop.next_id()
            shop.products[product_id] = {"title": product.get("title", ""),
                                         "status": product.get("status", "ACTIVE")}
            for variant in product.get("variants") or []:
                levels = {location_ids[int(index)]: qty
                          for index, qty in (variant.get("levels") or {}).items()}
                shop.add_variant(product_id=product_id, sku=variant.get("sku"),
                                 barcode=variant.get("barcode", ""),
                                 title=variant.get("title", ""),
                                 tracked=variant.get("tracked", True), levels=levels)
        generated = spec.get("generate")
        if generated:
            self._generate(shop, generated, location_ids)
        with self.lock:
            self.shops[name] = shop
        return shop

    @staticmethod
    def _generate(shop: Shop, spec: dict, location_ids: list[int]) -> None:
        """``{"variants": N, "per_product": 4, "available": 10, "locations": k,
        "duplicate_skus": d, "missing_skus": m}``: a large catalog."""
        count = int(spec["variants"])
        per_product = int(spec.get("per_product", 4))
        stocked = location_ids[: int(spec.get("locations", 1))]
        available = int(spec.get("available", 10))
        duplicates, missing = int(spec.get("duplicate_skus", 0)), int(spec.get("missing_skus", 0))
        product_id = None
        for index in range(count):
            if index % per_product == 0:
                product_id = shop.next_id()
                shop.products[product_id] = {"title": f"Product {index // per_product}",
                                             "status": "ACTIVE"}
            if index < missing:
                sku = None if index % 2 else ""
            elif index < missing + duplicates:
                sku = "DUP-SKU"
            else:
                sku = f"SKU-{index:06d}"
            shop.add_variant(product_id=product_id, sku=sku, title=f"Variant {index}",
                             levels=dict.fromkeys(stocked, available))


def _sandbox(request: SandboxRequest) -> ShopifySandbox:
    return request.router.context["shopify"]


def _json(status: int, body: Any, headers: dict | None = None) -> SandboxResponse:
    return SandboxResponse(status=status, body=body, headers=dict(headers or {}))


# --- Auth ----------------------------------------------------------------------


def access_token(request: SandboxRequest) -> SandboxResponse:
    shop = _sandbox(request).shop(request.path_params["shop"])
    if shop is None:
        return _json(404, {"errors": "Not Found"})
    fault = _take_fault(shop, "oauth")
    if fault is not None and fault["kind"] == "status":
        return _json(int(fault.get("status", 503)), {"errors": "Service unavailable"})
    if fault is not None and fault["kind"] == "slow":
        time.sleep(float(fault.get("seconds", 1)))
    content_type = request.headers.get("Content-Type", "")
    if "json" in content_type:
        form = request.json() or {}
    else:
        from urllib.parse import parse_qs

        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
    with shop.lock:
        shop.stats["token_calls"] += 1
        if form.get("grant_type") != "client_credentials":
            return _json(400, {"error": "unsupported_grant_type",
                               "error_description": "grant_type must be client_credentials"})
        if not (hmac.compare_digest(str(form.get("client_id", "")), shop.client_id)
                and hmac.compare_digest(str(form.get("client_secret", "")), shop.client_secret)):
            return _json(400, {"error": "invalid_client",
                               "error_description": "Client authentication failed."})
        token = "shpat_" + secrets.token_hex(16)
        shop.issued_tokens[token] = shop.clock.time() + shop.token_lifetime
    return _json(200, {"access_token": token, "scope": ",".join(sorted(shop.scopes)),
                       "expires_in": shop.token_lifetime})


def _authorised(shop: Shop, request: SandboxRequest) -> bool:
    token = request.headers.get("X-Shopify-Access-Token") or ""
    if token in shop.access_tokens:
        return True
    expiry = shop.issued_tokens.get(token)
    return expiry is not None and expiry > shop.clock.time()


def _take_fault(shop: Shop, root: str) -> dict | None:
    with shop.lock:
        for fault in shop.faults:
            if fault.get("root_field") not in (None, root):
                continue
            if fault.get("count", 1) <= 0:
                continue
            fault["count"] = fault.get("count", 1) - 1
            shop.stats[f"fault:{fault['kind']}"] += 1
            return dict(fault)
    return None


# --- GraphQL ---------------------------------------------------------------------


@dataclass
class Context:
    shop: Shop
    variables: dict
    fragments: dict[str, FragmentDefinitionNode]
    base_url: str
    bulk: bool = False
    version: str = API_VERSION
    # Bulk mode: connections met inside a node are deferred to their own
    # JSONL lines (with ``__parentId``) instead of nesting.
    bulk_parent: str | None = None
    bulk_deferred: list = field(default_factory=list)


class Connection:
    """A page of a connection, with the cursor of each node."""

    def __init__(self, nodes: list[tuple[dict, str]], has_next: bool, has_previous: bool):
        self.nodes = nodes
        self.has_next = has_next
        self.has_previous = has_previous


def _args(node: FieldNode, variables: dict) -> dict:
    return {arg.name.value: value_from_ast_untyped(arg.value, variables)
            for arg in node.arguments or ()}


def _fields(selection_set, ctx: Context, typename: str | None = None):
    """The field nodes of a selection, fragments flattened for ``typename``."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            if typename is None or condition in (None, typename):
                yield from _fields(selection.selection_set, ctx, typename)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = ctx.fragments.get(selection.name.value)
            if fragment is None:
                raise GraphQLFailure(f"Fragment {selection.name.value} was not defined.",
                                     "BAD_REQUEST")
            if typename is None or fragment.type_condition.name.value == typename:
                yield from _fields(fragment.selection_set, ctx, typename)


def _connection_node_selection(node: FieldNode, ctx: Context):
    for child in _fields(node.selection_set, ctx):
        if child.name.value == "nodes":
            return child.selection_set
        if child.name.value == "edges":
            for grandchild in _fields(child.selection_set, ctx):
                if grandchild.name.value == "node":
                    return grandchild.selection_set
    return None


def requested_cost(selection_set, ctx: Context) -> int:
    total = 0
    for node in _fields(selection_set, ctx):
        if node.selection_set is None:
            continue
        args = _args(node, ctx.variables)
        if "first" in args or "last" in args:
            count = int(args.get("first") or args.get("last") or 0)
            node_cost = 1 + requested_cost(_connection_node_selection(node, ctx), ctx)
            total += 2 + count * node_cost
        elif node.name.value == "nodes" and "ids" in args:
            total += len(args["ids"] or []) * (1 + requested_cost(node.selection_set, ctx))
        elif node.name.value in ("pageInfo",):
            continue
        else:
            total += 1 + requested_cost(node.selection_set, ctx)
    return total


def project(value: Any, node: FieldNode, ctx: Context) -> tuple[Any, int]:
    """Shape ``value`` by ``node``'s selection; returns (data, actual cost)."""
    if value is None:
        return None, 0
    if isinstance(value, Connection):
        if ctx.bulk and ctx.bulk_parent is not None:
            ctx.bulk_deferred.append((value, node, ctx.bulk_parent))
            return _DEFERRED, 0
        return _project_connection(value, node, ctx)
    if isinstance(value, list):
        out, cost = [], 0
        for element in value:
            shaped, element_cost = project(element, node, ctx)
            out.append(shaped)
            cost = max(cost, element_cost) if node.name.value != "nodes" else cost + element_cost
        return out, cost
    if not isinstance(value, dict):
        return value, 0
    typename = value.get("__typename")
    out, cost = {}, 1
    for child in _fields(node.selection_set, ctx, typename):
        name = child.name.value
        key = child.alias.value if child.alias else name
        if name == "__typename":
            out[key] = typename
            continue
        if name not in value:
            raise GraphQLFailure(
                f"Field '{name}' doesn't exist on type '{typename or 'Object'}'",
                "undefinedField", typeName=typename, fieldName=name)
        raw = value[name]
        if callable(raw):
            raw = raw(_args(child, ctx.variables))
        if child.selection_set is None:
            out[key] = raw
        else:
            shaped, child_cost = project(raw, child, ctx)
            if shaped is not _DEFERRED:
                out[key] = shaped
            cost += child_cost
    return out, cost


_DEFERRED = object()


def _project_connection(connection: Connection, node: FieldNode, ctx: Context):
    out, cost = {}, 2
    for child in _fields(node.selection_set, ctx):
        name = child.name.value
        key = child.alias.value if child.alias else name
        if name == "pageInfo":
            page_info = {
                "hasNextPage": connection.has_next, "hasPreviousPage": connection.has_previous,
                "startCursor": connection.nodes[0][1] if connection.nodes else None,
                "endCursor": connection.nodes[-1][1] if connection.nodes else None,
            }
            out[key] = {(c.alias.value if c.alias else c.name.value): page_info[c.name.value]
                        for c in _fields(child.selection_set, ctx)}
        elif name == "nodes":
            shaped = []
            for item, _cursor in connection.nodes:
                data, item_cost = project(item, child, ctx)
                shaped.append(data)
                cost += item_cost
            out[key] = shaped
        elif name == "edges":
            edges = []
            for item, cursor in connection.nodes:
                edge = {}
                for edge_field in _fields(child.selection_set, ctx):
                    edge_key = edge_field.alias.value if edge_field.alias else edge_field.name.value
                    if edge_field.name.value == "cursor":
                        edge[edge_key] = cursor
                    elif edge_field.name.value == "node":
                        edge[edge_key], item_cost = project(item, edge_field, ctx)
                        cost += item_cost
                edges.append(edge)
            out[key] = edges
    return out, cost


def paginate(rows: list[tuple[Any, dict]], args: dict, ctx: Context, sort_key: str = "ID"):
    """rows: (sort value, node) in order. Cursors are opaque base64 JSON."""
    first = args.get("first")
    if not ctx.bulk:
        if first is None and args.get("last") is None:
            raise GraphQLFailure("you must provide one of first or last", "BAD_REQUEST")
        count = int(first if first is not None else args["last"])
        if count > MAX_PAGE or count < 0:
            raise GraphQLFailure(f"The first argument must be between 0 and {MAX_PAGE}.",
                                 "BAD_REQUEST")
    else:
        count = len(rows)
    if not ctx.bulk:
        rows = rows[:PAGINATION_LIMIT]
    if args.get("reverse"):
        rows = list(reversed(rows))
    after = decode_cursor(args.get("after"))
    start = 0
    if after is not None:
        if after.get("sort") != sort_key:
            raise GraphQLFailure("Invalid cursor for current pagination sort.", "BAD_REQUEST")
        position = (after["value"], after["last_id"])
        start = next((i for i, (value, row) in enumerate(rows)
                      if _after(value, row, position, bool(args.get("reverse")))), len(rows))
    window = rows[start:start + count]
    nodes = [(row, encode_cursor({"sort": sort_key, "value": value, "last_id": row["_id"]}))
             for value, row in window]
    return Connection(nodes, has_next=start + count < len(rows), has_previous=start > 0)


def _after(value, row, position, reverse: bool) -> bool:
    current = (value, row["_id"])
    return current < tuple(position) if reverse else current > tuple(position)


_SEARCH_TERM = re.compile(r"(\w+):(>=|<=|>|<|)'?\"?([^'\"\s]+)'?\"?")


def search(query: str | None, values: dict[str, Any]) -> bool:
    """Shopify search syntax, the subset ACORN sends: ``field:value`` and
    ``field:>=value`` terms joined by spaces/AND (dates compare as ISO)."""
    if not query:
        return True
    for term_field, operator, raw in _SEARCH_TERM.findall(query):
        if term_field not in values:
            continue  # Shopify ignores unknown search fields too
        actual = values[term_field]
        if isinstance(actual, datetime.datetime):
            try:
                expected = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                return False
            if expected.tzinfo is None:
                expected = expected.replace(tzinfo=datetime.UTC)
        else:
            actual, expected = str(actual if actual is not None else ""), raw
        if operator == ">=" and not actual >= expected:
            return False
        if operator == ">" and not actual > expected:
            return False
        if operator == "<=" and not actual <= expected:
            return False
        if operator == "<" and not actual < expected:
            return False
        if operator == "" and actual != expected:
            return False
    return True


# Nodes -----------------------------------------------------------------------


def location_node(shop: Shop, location_id: int) -> dict:
    location = shop.locations[location_id]
    return {"__typename": "Location", "_id": location_id, "id": gid("Location", location_id),
            "name": location["name"], "isActive": location["is_active"],
            "fulfillsOnlineOrders": location["is_active"]}


def level_node(shop: Shop, item_id: int, location_id: int) -> dict:
    level = shop.levels[(item_id, location_id)]

    def quantities(args):
        names = args.get("names") or []
        unknown = [n for n in names if n not in QUANTITY_NAMES and n != "on_hand"]
        if unknown:
            raise GraphQLFailure(f"Invalid quantity names: {unknown}", "BAD_REQUEST")
        return [{"__typename": "InventoryQuantity", "name": name,
                 "quantity": shop.quantity(level, name), "updatedAt": iso(level["updated_at"])}
                for name in names]

    return {"__typename": "InventoryLevel", "_id": location_id,
            "id": f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}",
            "location": lambda _a: location_node(shop, location_id),
            "item": lambda _a: item_node(shop, item_id),
            "updatedAt": iso(level["updated_at"]), "quantities": quantities}


def item_node(shop: Shop, item_id: int, ctx: Context | None = None) -> dict:
    item = shop.items[item_id]
    variant = shop.variants[item["variant_id"]]
    sku = variant["sku"]

    def levels(args):
        rows = [(location_id, level_node(shop, item_id, location_id))
                for (level_item, location_id) in sorted(shop.levels) if level_item == item_id]
        return paginate(rows, args, ctx or Context(shop, {}, {}, ""))

    def single_level(args):
        location_id = gid_number(args.get("locationId"), "Location")
        if (item_id, location_id) not in shop.levels:
            return None
        return level_node(shop, item_id, location_id)

    return {"__typename": "InventoryItem", "_id": item_id, "id": gid("InventoryItem", item_id),
            "sku": sku, "tracked": item["tracked"], "updatedAt": iso(item["updated_at"]),
            "duplicateSkuCount": lambda _a: (sum(1 for v in shop.variants.values()
                                                 if v["sku"] == sku) - 1) if sku else 0,
            "variant": lambda _a: variant_node(shop, item["variant_id"], ctx),
            "inventoryLevels": levels, "inventoryLevel": single_level}


def variant_node(shop: Shop, variant_id: int, ctx: Context | None = None) -> dict:
    variant = shop.variants[variant_id]
    product_id = variant["product_id"]
    return {"__typename": "ProductVariant", "_id": variant_id,
            "id": gid("ProductVariant", variant_id), "sku": variant["sku"],
            "barcode": variant["barcode"], "title": variant["title"],
            "displayName": f"{shop.products[product_id]['title']} - {variant['title']}",
            "updatedAt": iso(variant["updated_at"]),
            "product": lambda _a: {"__typename": "Product", "_id": product_id,
                                   "id": gid("Product", product_id),
                                   "title": shop.products[product_id]["title"],
                                   "status": shop.products[product_id]["status"]},
            "inventoryItem": lambda _a: item_node(shop, variant["item_id"], ctx)}


def order_node(shop: Shop, order_id: int, ctx: Context | None = None) -> dict:
    order = shop.orders[order_id]

    def line_items(args):
        rows = [(line["id"], {
            "__typename": "LineItem", "_id": line["id"], "id": gid("LineItem", line["id"]),
            "sku": line["sku"], "quantity": line["quantity"],
            "currentQuantity": line["current_quantity"],
            "unfulfilledQuantity": line["unfulfilled_quantity"],
            "variant": (lambda _a, v=line["variant_id"]: variant_node(shop, v, ctx)
                        if v in shop.variants else None),
        }) for line in order["lines"]]
        return paginate(rows, args, ctx or Context(shop, {}, {}, ""))

    return {"__typename": "Order", "_id": order_id, "id": gid("Order", order_id),
            "name": order["name"], "createdAt": iso(order["created_at"]),
            "updatedAt": iso(order["updated_at"]), "cancelledAt": iso(order["cancelled_at"]),
            "cancelReason": order.get("cancel_reason"),
            "displayFinancialStatus": order["financial_status"].upper(),
            "displayFulfillmentStatus": (order["fulfillment_status"] or "unfulfilled").upper(),
            "test": order["test"], "lineItems": line_items}


def node_by_gid(shop: Shop, value: str, ctx: Context) -> dict | None:
    for kind, table, build in (
        ("InventoryItem", shop.items, item_node), ("ProductVariant", shop.variants, variant_node),
        ("Order", shop.orders, order_node),
    ):
        number = gid_number(value, kind)
        if number is not None:
            return build(shop, number, ctx) if number in table else None
    number = gid_number(value, "Location")
    if number is not None:
        return location_node(shop, number) if number in shop.locations else None
    number = gid_number(value, "BulkOperation")
    if number is not None and number in shop.bulk_operations:
        return bulk_node(shop, number, ctx)
    return None


# Root fields -------------------------------------------------------------------


def q_shop(args, ctx: Context):
    shop = ctx.shop
    return {"__typename": "Shop", "id": gid("Shop", 1), "name": shop.name,
            "myshopifyDomain": shop.domain, "currencyCode": "USD",
            "plan": {"__typename": "ShopPlan", "displayName": "Sandbox"}}


def q_locations(args, ctx: Context):
    shop = ctx.shop
    rows = [(lid, location_node(shop, lid)) for lid in sorted(shop.locations)
            if shop.locations[lid]["is_active"] or args.get("includeInactive")]
    return paginate(rows, args, ctx)


def _variant_search_values(shop: Shop, variant: dict) -> dict:
    return {"updated_at": variant["updated_at"], "sku": variant["sku"],
            "barcode": variant["barcode"], "product_id": str(variant["product_id"])}


def q_product_variants(args, ctx: Context):
    shop = ctx.shop
    rows = [(vid, variant_node(shop, vid, ctx)) for vid in sorted(shop.variants)
            if search(args.get("query"), _variant_search_values(shop, shop.variants[vid]))]
    return paginate(rows, args, ctx)


def q_product_variants_count(args, ctx: Context):
    shop = ctx.shop
    count = sum(1 for v in shop.variants.values()
                if search(args.get("query"), _variant_search_values(shop, v)))
    limit = args.get("limit", 10000)
    precision = "EXACT" if limit is None or count <= limit else "AT_LEAST"
    return {"__typename": "Count", "count": count if precision == "EXACT" else limit,
            "precision": precision}


def q_nodes(args, ctx: Context):
    ids = args.get("ids") or []
    if len(ids) > MAX_PAGE:
        raise GraphQLFailure(f"The ids argument accepts at most {MAX_PAGE} ids.",
                             "MAX_INPUT_SIZE_EXCEEDED")
    return [node_by_gid(ctx.shop, value, ctx) for value in ids]


def q_node(args, ctx: Context):
    return node_by_gid(ctx.shop, args.get("id"), ctx)


def q_orders(args, ctx: Context):
    shop = ctx.shop
    sort_key = args.get("sortKey") or "ID"
    column = {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at", "ID": "id"}.get(sort_key)
    if column is None:
        raise GraphQLFailure(f"Unsupported sortKey {sort_key}", "BAD_REQUEST")
    rows = []
    for order in shop.orders.values():
        if not search(args.get("query"), {"updated_at": order["updated_at"],
                                          "created_at": order["created_at"],
                                          "name": order["name"]}):
            continue
        value = order[column]
        value = iso(value) if isinstance(value, datetime.datetime) else value
        rows.append((value, order_node(shop, order["id"], ctx)))
    rows.sort(key=lambda pair: (pair[0], pair[1]["_id"]))
    return paginate(rows, args, ctx, sort_key=sort_key)


def q_order(args, ctx: Context):
    number = gid_number(args.get("id"), "Order")
    return order_node(ctx.shop, number, ctx) if number in ctx.shop.orders else None


def bulk_node(shop: Shop, operation_id: int, ctx: Context) -> dict:
    operation = shop.bulk_operations[operation_id]
    _bulk_progress(shop, operation, ctx.base_url)
    return {"__typename": "BulkOperation", "id": gid("BulkOperation", operation_id),
            "status": operation["status"], "errorCode": operation.get("error_code"),
            "objectCount": str(operation.get("object_count", 0)),
            "rootObjectCount": str(operation.get("root_object_count", 0)),
            "fileSize": str(len(operation["result"])) if operation.get("result") else None,
            "url": operation.get("url"), "partialDataUrl": None, "query": operation["query"],
            "createdAt": iso(operation["created_at"]),
            "completedAt": iso(operation.get("completed_at"))}


def q_current_bulk_operation(args, ctx: Context):
    if not ctx.shop.bulk_operations:
        return None
    return bulk_node(ctx.shop, max(ctx.shop.bulk_operations), ctx)


def q_bulk_operation(args, ctx: Context):
    number = gid_number(args.get("id"), "BulkOperation")
    if number not in ctx.shop.bulk_operations:
        return None
    return bulk_node(ctx.shop, number, ctx)


QUERY_ROOTS = {
    "shop": q_shop, "locations": q_locations, "productVariants": q_product_variants,
    "productVariantsCount": q_product_variants_count, "nodes": q_nodes, "node": q_node,
    "orders": q_orders, "order": q_order, "currentBulkOperation": q_current_bulk_operation,
    "bulkOperation": q_bulk_operation,
}
BULK_ROOTS = {"productVariants", "locations", "orders"}


# Bulk operations -----------------------------------------------------------------


def m_bulk_run_query(args, ctx: Context, node: FieldNode):
    shop = ctx.shop
    running = [op for op in shop.bulk_operations.values() if op["status"] in ("CREATED", "RUNNING")]
    if running:
        return _payload(node, ctx, {"bulkOperation": None, "userErrors": [{
            "field": ["query"], "code": "OPERATION_IN_PROGRESS",
            "message": "A bulk query operation for this app and shop is already in progress."}]})
    query = args.get("query") or ""
    try:
        document = parse(query)
    except GraphQLError as error:
        return _payload(node, ctx, {"bulkOperation": None, "userErrors": [
            {"field": ["query"], "code": "INVALID", "message": error.message}]})
    roots = [f.name.value for op in document.definitions
             if isinstance(op, OperationDefinitionNode) for f in op.selection_set.selections
             if isinstance(f, FieldNode)]
    if len(roots) != 1 or roots[0] not in BULK_ROOTS:
        return _payload(node, ctx, {"bulkOperation": None, "userErrors": [{
            "field": ["query"], "code": "INVALID",
            "message": "Bulk queries must contain exactly one supported top-level connection."}]})
    operation_id = shop.next_id()
    shop.bulk_operations[operation_id] = {
        "query": query, "status": "CREATED", "created_at": shop.clock.now(),
        "ready_at": shop.clock.time() + shop.bulk_seconds}
    return _payload(node, ctx, {"bulkOperation": bulk_node(shop, operation_id, ctx),
                                "userErrors": []})


def _bulk_progress(shop: Shop, operation: dict, base_url: str) -> None:
    if operation["status"] not in ("CREATED", "RUNNING"):
        return
    if shop.clock.time() < operation["ready_at"]:
        operation["status"] = "RUNNING"
        return
    document = parse(operation["query"])
    definition = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    ctx = Context(shop, {}, {d.name.value: d for d in document.definitions
                             if isinstance(d, FragmentDefinitionNode)}, base_url, bulk=True)
    root = next(_fields(definition.selection_set, ctx))
    value = QUERY_ROOTS[root.name.value](_args(root, {}), ctx)
    lines: list[dict] = []
    roots = _flatten(value, root, ctx, None, lines)
    operation["result"] = "".join(json.dumps(line, separators=(",", ":")) + "\n"
                                  for line in lines).encode()
    operation_id = next(k for k, v in shop.bulk_operations.items() if v is operation)
    operation.update(status="COMPLETED", completed_at=shop.clock.now(), object_count=len(lines),
                     root_object_count=roots,
                     url=f"{base_url}/shopify/{shop.name}/_bulk/{operation_id}.jsonl")
    shop.emit("bulk_operations/finish", {
        "admin_graphql_api_id": gid("BulkOperation", operation_id), "status": "completed",
        "completed_at": iso(operation["completed_at"]), "error_code": None, "type": "query"})


def _flatten(connection: Connection, node: FieldNode, ctx: Context, parent: str | None,
             lines: list) -> int:
    """JSONL: each node of a connection is a line; connections nested
    anywhere inside a node become their own lines carrying ``__parentId``
    (Shopify's bulk format)."""
    selection = _connection_node_selection(node, ctx)
    holder = FieldNode(name=node.name, selection_set=selection, arguments=(), directives=())
    count = 0
    for item, _cursor in connection.nodes:
        saved_parent, saved_deferred = ctx.bulk_parent, ctx.bulk_deferred
        ctx.bulk_parent, ctx.bulk_deferred = item.get("id"), []
        data, _ = project(item, holder, ctx)
        deferred = ctx.bulk_deferred
        ctx.bulk_parent, ctx.bulk_deferred = saved_parent, saved_deferred
        if parent:
            data["__parentId"] = parent
        lines.append(data)
        count += 1
        for nested, nested_node, nested_parent in deferred:
            _flatten(nested, nested_node, ctx, nested_parent, lines)
    return count


def bulk_result(request: SandboxRequest) -> SandboxResponse:
    shop = _sandbox(request).shop(request.path_params["shop"])
    match = re.fullmatch(r"(\d+)\.jsonl", request.path_params["file"])
    operation = shop.bulk_operations.get(int(match.group(1))) if shop and match else None
    if not operation or not operation.get("result"):
        return _json(404, {"errors": "Not Found"})
    return SandboxResponse(status=200, body=operation["result"], content_type="application/jsonl")


# Inventory mutations --------------------------------------------------------------


def _payload(node: FieldNode, ctx: Context, value: dict) -> dict:
    data, _ = project({"__typename": "Payload", **value}, node, ctx)
    return data


def _group_node(shop: Shop, group: dict) -> dict:
    return {
        "__typename": "InventoryAdjustmentGroup", "id": group["id"], "reason": group["reason"],
        "referenceDocumentUri": group["referenceDocumentUri"], "createdAt": group["createdAt"],
        "changes": [{"__typename": "InventoryChange", "name": c["name"], "delta": c["delta"],
                     "quantityAfterChange": c["quantityAfterChange"],
                     "ledgerDocumentUri": c.get("ledgerDocumentUri"),
                     "item": {"__typename": "InventoryItem", "id": gid("InventoryItem", c["item"])},
                     "location": {"__typename": "Location", "id": gid("Location", c["location"])}}
                    for c in group["changes"]],
    }


def _inventory_write(args, ctx: Context, node: FieldNode, *, adjust: bool) -> dict:
    shop = ctx.shop
    payload = args.get("input") or {}
    rows_key = "changes" if adjust else "quantities"
    rows = payload.get(rows_key) or []
    if len(rows) > MAX_INPUT:
        raise GraphQLFailure(
            f"The input array size of {len(rows)} is greater than the maximum allowed of "
            f"{MAX_INPUT}.", "MAX_INPUT_SIZE_EXCEEDED", path=[node.name.value, rows_key])
    legacy = ctx.version < API_VERSION
    for index, row in enumerate(rows):
        if not legacy and "changeFromQuantity" not in row:
            kind = "InventoryChangeInput" if adjust else "InventoryQuantityInput"
            raise GraphQLFailure(
                f"Variable $input of type {'InventoryAdjustQuantitiesInput' if adjust else 'InventorySetQuantitiesInput'}! "  # noqa: E501
                f"was provided invalid value for {rows_key}.{index}: {kind} must include the "
                "following argument: changeFromQuantity.", "INVALID_VARIABLE",
                problems=[{"path": [rows_key, index, "changeFromQuantity"],
                           "explanation": "Expected value to not be null"}])
    name = payload.get("name")
    reason = payload.get("reason")
    reference = payload.get("referenceDocumentUri")
    errors: list[dict] = []

    def error(code, field_path, message):
        errors.append({"__typename": "UserError", "code": code, "field": field_path,
                       "message": message})

    if name not in (("available", "damaged", "quality_control", "safety_stock", "reserved",
                     "incoming") if adjust else ("available", "on_hand")):
        error("INVALID_NAME", ["input", "name"], "The quantity name must be 'available' or "
              "'on_hand'." if not adjust else "The quantity name is invalid.")
    if reason not in REASONS:
        error("INVALID_REASON", ["input", "reason"], "The specified reason is invalid.")
    if reference is not None and not re.fullmatch(r"[a-z][a-z0-9+.-]*://\S+", str(reference)):
        error("INVALID_REFERENCE_DOCUMENT", ["input", "referenceDocumentUri"],
              "The reference document URI is invalid.")
    seen: set = set()
    resolved = []
    for index, row in enumerate(rows):
        path = ["input", rows_key, str(index)]
        item_id = gid_number(row.get("inventoryItemId"), "InventoryItem")
        location_id = gid_number(row.get("locationId"), "Location")
        if item_id not in shop.items:
            error("INVALID_INVENTORY_ITEM", path + ["inventoryItemId"],
                  "The specified inventory item could not be found.")
            continue
        if location_id not in shop.locations:
            error("INVALID_LOCATION", path + ["locationId"],
                  "The specified location could not be found.")
            continue
        if (item_id, location_id) in seen:
            error("NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", path,
                  "The combination of inventoryItemId and locationId must be unique.")
            continue
        seen.add((item_id, location_id))
        level = shop.levels.get((item_id, location_id))
        if level is None:
            error("ITEM_NOT_STOCKED_AT_LOCATION", path + ["locationId"],
                  "The specified inventory item is not stocked at the location.")
            continue
        if adjust and name != "available" and not row.get("ledgerDocumentUri"):
            error("INVALID_LEDGER_DOCUMENT", path + ["ledgerDocumentUri"],
                  "A ledger document URI is required for quantity names other than available.")
            continue
        if name not in ("available", "on_hand") and not adjust:
            continue
        current = shop.quantity(level, name) if name in QUANTITY_NAMES + ("on_hand",) else 0
        target = current + int(row.get("delta") or 0) if adjust else int(row.get("quantity"))
        if target < 0 and not (adjust and name == "available"):
            error("INVALID_QUANTITY_NEGATIVE", path + ["quantity"],
                  "The quantity can't be negative.")
            continue
        if target > MAX_QUANTITY:
            error("INVALID_QUANTITY_TOO_HIGH", path + ["quantity"],
                  "The quantity can't be higher than 1,000,000,000.")
            continue
        if legacy:
            expected = None if payload.get("ignoreCompareQuantity") else \
                row.get("compareQuantity")
            stale_code, stale_field = "COMPARE_QUANTITY_STALE", "compareQuantity"
        else:
            expected = row.get("changeFromQuantity")
            stale_code, stale_field = "CHANGE_FROM_QUANTITY_STALE", "changeFromQuantity"
        if expected is not None and int(expected) != current:
            error(stale_code, path + [stale_field],
                  "The specified compare quantity does not match the current quantity.")
            continue
        resolved.append((item_id, location_id, level, current, target, row))
    if errors:
        # All or nothing: one bad row and nothing is applied.
        shop.stats["user_errors"] += 1
        if any(e["code"].endswith("QUANTITY_STALE") for e in errors):
            shop.stats["stale"] += 1
        return _payload(node, ctx, {"inventoryAdjustmentGroup": None, "userErrors": errors})
    changes = []
    for item_id, location_id, level, current, target, row in resolved:
        delta = target - current
        state = "available" if name == "on_hand" else name
        level[state] += delta
        changes.append({"name": name, "delta": delta, "item": item_id, "location": location_id,
                        "quantityAfterChange": shop.quantity(level, name),
                        "ledgerDocumentUri": row.get("ledgerDocumentUri")})
        if name == "available":
            changes.append({"name": "on_hand", "delta": delta, "item": item_id,
                            "location": location_id,
                            "quantityAfterChange": shop.quantity(level, "on_hand")})
        if delta:
            shop.touch_level(item_id, location_id)
    group = {"id": gid("InventoryAdjustmentGroup", shop.next_id()), "reason": reason,
             "referenceDocumentUri": reference, "createdAt": iso(shop.clock.now()),
             "changes": changes}
    shop.stats["rows_applied"] += len(resolved)
    shop.stats["writes_applied"] += 1
    return _payload(node, ctx, {"inventoryAdjustmentGroup": _group_node(shop, group),
                                "userErrors": []})


def m_set_quantities(args, ctx, node):
    return _inventory_write(args, ctx, node, adjust=False)


def m_adjust_quantities(args, ctx, node):
    return _inventory_write(args, ctx, node, adjust=True)


def _topic_name(enum_value: str) -> str | None:
    """ORDERS_CREATE -> orders/create (the REST topic the headers carry)."""
    for topic in WEBHOOK_TOPICS:
        if topic.replace("/", "_").upper() == str(enum_value):
            return topic
    return None


def _subscription_node(subscription_id: int, topic: str, url: str) -> dict:
    return {"__typename": "WebhookSubscription", "_id": subscription_id,
            "id": gid("WebhookSubscription", subscription_id),
            "topic": topic.replace("/", "_").upper(), "uri": url, "format": "JSON"}


def m_webhook_create(args, ctx: Context, node: FieldNode):
    shop = ctx.shop
    topic = _topic_name(args.get("topic"))
    spec = args.get("webhookSubscription") or {}
    url = spec.get("uri") or spec.get("callbackUrl")
    errors = []
    if topic is None:
        errors.append({"field": ["topic"], "message": "Topic is not supported."})
    elif not url or not re.fullmatch(r"https?://\S+", url):
        errors.append({"field": ["webhookSubscription", "uri"], "message": "Address is invalid"})
    elif any(t == topic and u == url for t, u in shop.subscriptions):
        errors.append({"field": ["webhookSubscription", "uri"],
                       "message": "Address for this topic has already been taken"})
    if errors:
        return _payload(node, ctx, {"webhookSubscription": None, "userErrors": [
            {"__typename": "UserError", **e} for e in errors]})
    shop.subscriptions.append((topic, url))
    return _payload(node, ctx, {"webhookSubscription": _subscription_node(
        len(shop.subscriptions), topic, url), "userErrors": []})


def q_webhook_subscriptions(args, ctx: Context):
    rows = [(index, _subscription_node(index, topic, url))
            for index, (topic, url) in enumerate(ctx.shop.subscriptions, start=1)]
    return paginate(rows, args, ctx)


QUERY_ROOTS["webhookSubscriptions"] = q_webhook_subscriptions

MUTATION_ROOTS = {
    "webhookSubscriptionCreate": m_webhook_create,
    "inventorySetQuantities": m_set_quantities,
    "inventoryAdjustQuantities": m_adjust_quantities,
    "bulkOperationRunQuery": m_bulk_run_query,
}


def _idempotency_key(node: FieldNode, variables: dict) -> str | None:
    for directive in node.directives or ():
        if directive.name.value == "idempotent":
            for argument in directive.arguments or ():
                if argument.name.value == "key":
                    return value_from_ast_untyped(argument.value, variables)
    return None


def _execute_mutation(node: FieldNode, ctx: Context) -> tuple[dict, bool]:
    """Returns (data for the root field, whether it was a replay)."""
    shop = ctx.shop
    root = node.name.value
    args = _args(node, ctx.variables)
    if root not in IDEMPOTENT_ROOTS:
        with shop.lock:
            return MUTATION_ROOTS[root](args, ctx, node), False
    key = _idempotency_key(node, ctx.variables)
    if not key and ctx.version < API_VERSION:
        with shop.lock:
            return MUTATION_ROOTS[root](args, ctx, node), False
    if not key:
        raise GraphQLFailure(
            "The @idempotent directive is required for this mutation but was not provided.",
            "BAD_REQUEST", path=[root])
    fingerprint = hashlib.sha256(
        json.dumps([root, args], sort_keys=True, default=str).encode()).hexdigest()
    with shop.lock:
        now = shop.clock.time()
        cached = shop.idempotency.get(key)
        if cached and now - cached[2] > shop.idempotency_retention:
            del shop.idempotency[key]
            cached = None
        if key in shop.in_flight:
            return _payload(node, ctx, {"inventoryAdjustmentGroup": None, "userErrors": [{
                "__typename": "UserError", "code": "IDEMPOTENCY_CONCURRENT_REQUEST",
                "field": None, "message": "A request with this idempotency key is in progress."}]
            }), False
        if cached:
            if cached[0] != fingerprint:
                return _payload(node, ctx, {"inventoryAdjustmentGroup": None, "userErrors": [{
                    "__typename": "UserError", "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                    "field": None,
                    "message": "The idempotency key was already used with different "
                               "parameters."}]}), False
            shop.stats["idempotent_replays"] += 1
            return cached[1], True
        shop.in_flight.add(key)
        try:
            data = MUTATION_ROOTS[root](args, ctx, node)
            shop.idempotency[key] = (fingerprint, data, now)
        finally:
            shop.in_flight.discard(key)
    return data, False


def graphql(request: SandboxRequest) -> SandboxResponse:
    sandbox = _sandbox(request)
    shop = sandbox.shop(request.path_params["shop"])
    if shop is None:
        return _json(404, {"errors": "Not Found"})
    headers = {"X-Shopify-API-Version": API_VERSION, "X-Request-Id": str(uuid.uuid4())}
    version = request.path_params["version"]
    if version not in VERSIONS:
        # Real Shopify falls back to the oldest supported version; the
        # simulator models two versions and says so.
        return _json(404, {"errors": f"API version {version} is not served by the sandbox "
                           f"({', '.join(sorted(VERSIONS))})."}, headers)
    headers["X-Shopify-API-Version"] = version
    try:
        body = request.json() or {}
    except ValueError:
        return _json(400, {"errors": {"query": "Required parameter missing or invalid"}}, headers)
    query = body.get("query")
    if not isinstance(query, str):
        return _json(400, {"errors": {"query": "Required parameter missing or invalid"}}, headers)
    try:
        document = parse(query)
    except GraphQLError as error:
        locations = [loc._asdict() for loc in error.locations or []]
        return _json(200, {"errors": [{"message": error.message, "locations": locations,
                                       "extensions": {"code": "PARSE_ERROR"}}]}, headers)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if body.get("operationName"):
        operations = [o for o in operations
                      if o.name and o.name.value == body["operationName"]]
    if len(operations) != 1:
        return _json(200, {"errors": [{"message": "An operation name is required when the "
                                       "document has several operations.",
                                       "extensions": {"code": "BAD_REQUEST"}}]}, headers)
    operation = operations[0]
    ctx = Context(shop, dict(body.get("variables") or {}),
                  {d.name.value: d for d in document.definitions
                   if isinstance(d, FragmentDefinitionNode)}, request.base_url,
                  version=version)
    roots = list(_fields(operation.selection_set, ctx))
    root_names = [r.name.value for r in roots]
    first_root = root_names[0] if root_names else ""
    fault = _take_fault(shop, first_root)
    response_fault = None
    if fault is not None:
        kind = fault["kind"]
        if kind == "status":
            status = int(fault.get("status", 503))
            if status == 429:  # the REST-style answer some surfaces give
                return _json(429, {"errors": "Exceeded 2 calls per second for api client. "
                                   "Reduce request rates to resume uninterrupted service."},
                             headers | {"Retry-After": str(fault.get("retry_after", 2.0))})
            return _json(status, {"errors": "Internal Server Error" if status == 500
                                  else "Service Unavailable"}, headers)
        if kind == "unauthorized":
            return _json(401, {"errors": INVALID_TOKEN}, headers)
        if kind == "slow":
            time.sleep(float(fault.get("seconds", 6)))
        if kind == "internal_error":
            return _json(200, {"errors": [{"message": "Internal error. Looks like something "
                                           "went wrong on our end.", "extensions": {
                                               "code": "INTERNAL_SERVER_ERROR",
                                               "requestId": headers["X-Request-Id"]}}]}, headers)
        if kind == "timeout_after_commit":
            response_fault = ("hang", float(fault.get("seconds", 10)))
    if not _authorised(shop, request):
        shop.stats["unauthorised"] += 1
        return _json(401, {"errors": INVALID_TOKEN}, headers)
    is_mutation = operation.operation.value == "mutation"
    table = MUTATION_ROOTS if is_mutation else QUERY_ROOTS
    for root in roots:
        if root.name.value not in table and root.name.value != "__typename":
            return _json(200, {"errors": [{
                "message": f"Field '{root.name.value}' doesn't exist on type "
                           f"'{'Mutation' if is_mutation else 'QueryRoot'}'",
                "path": [operation.operation.value, root.name.value],
                "extensions": {"code": "undefinedField", "typeName":
                               "Mutation" if is_mutation else "QueryRoot",
                               "fieldName": root.name.value}}]}, headers)
    for root in roots:
        scope = ROOT_SCOPES.get(root.name.value)
        if scope and scope not in shop.scopes:
            return _json(200, {"errors": [{
                "message": f"Access denied for {root.name.value} field. Required access: "
                           f"`{scope}` access scope.",
                "path": [root.name.value],
                "extensions": {"code": "ACCESS_DENIED", "requiredAccess":
                               f"`{scope}` access scope.",
                               "documentation": "https://shopify.dev/api/usage/access-scopes"}}]},
                headers)
    try:
        requested = (MUTATION_COST * len(roots) if is_mutation
                     else requested_cost(operation.selection_set, ctx))
    except GraphQLFailure as failure:
        return _json(200, {"errors": [_error(failure)]}, headers)
    with shop.lock:
        shop.stats["calls"] += 1
        if requested > MAX_QUERY_COST:
            shop.stats["max_cost_exceeded"] += 1
            _log(shop, root_names, requested, None, "MAX_COST_EXCEEDED")
            return _json(200, {"errors": [{
                "message": f"Query cost is {requested}, which exceeds the single query max cost "
                           f"limit ({MAX_QUERY_COST}). See https://shopify.dev/concepts/about-apis/"
                           "rate-limits for more information on how the cost of a query is "
                           "calculated. To query larger amounts of data with fewer limits, bulk "
                           "operations should be used instead.",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested,
                               "maxCost": MAX_QUERY_COST}}]}, headers)
        shop.refill()
        if requested > shop.bucket:
            shop.stats["throttled"] += 1
            _log(shop, root_names, requested, None, "THROTTLED")
            return _json(200, {"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                        "throttleStatus": shop.throttle_status()}}}, headers)
        shop.bucket -= requested
    data: dict = {}
    actual = 0
    errors: list[dict] = []
    replayed = False
    try:
        for root in roots:
            key = root.alias.value if root.alias else root.name.value
            if root.name.value == "__typename":
                data[key] = "Mutation" if is_mutation else "QueryRoot"
                continue
            if is_mutation:
                data[key], replayed = _execute_mutation(root, ctx)
                actual += MUTATION_COST
            else:
                with shop.lock:
                    value = QUERY_ROOTS[root.name.value](_args(root, ctx.variables), ctx)
                    data[key], cost = project(value, root, ctx)
                actual += cost
    except GraphQLFailure as failure:
        errors.append(_error(failure))
        data = None
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        # A variable of the wrong shape: Shopify answers a coercion error, not a 500.
        errors.append({"message": f"Variable or argument has an invalid value: {error!r}",
                       "extensions": {"code": "INVALID_VARIABLE"}})
        data = None
    actual = min(actual, requested)
    with shop.lock:
        shop.refill()
        shop.bucket = min(shop.maximum_available, shop.bucket + (requested - actual))
        status = shop.throttle_status()
        _log(shop, root_names, requested, actual, errors[0]["extensions"]["code"] if errors
             else "OK", replayed=replayed, key=_idempotency_key(roots[0], ctx.variables)
             if is_mutation and roots else None)
    body_out: dict = {}
    if errors:
        body_out["errors"] = errors
    if data is not None:
        body_out["data"] = data
    body_out["extensions"] = {"cost": {"requestedQueryCost": requested,
                                       "actualQueryCost": actual, "throttleStatus": status}}
    response = _json(200, body_out, headers)
    response.fault = response_fault
    return response


def _error(failure: GraphQLFailure) -> dict:
    error = {"message": failure.message, "extensions": {"code": failure.code}}
    path = failure.extensions.pop("path", None)
    if path:
        error["path"] = path
    error["extensions"].update(failure.extensions)
    return error


def _log(shop: Shop, roots, requested, actual, outcome, replayed=False, key=None) -> None:
    shop.log.append({"at": shop.clock.time(), "roots": roots, "requested": requested,
                     "actual": actual, "outcome": outcome, "replayed": replayed,
                     "idempotency_key": key, "available_after": int(shop.bucket)})


# --- Store-side actions (control API) ------------------------------------------------


def place_order(shop: Shop, spec: dict) -> dict:
    now = shop.clock.now()
    location_id = spec.get("location_id") or next(
        lid for lid in sorted(shop.locations) if shop.locations[lid]["is_active"])
    lines = []
    with shop.lock:
        for line in spec["lines"]:
            variant_id = int(line["variant_id"])
            quantity = int(line["quantity"])
            variant = shop.variants.get(variant_id)
            if variant is None or quantity <= 0:
                raise ValueError(f"Unknown variant {variant_id} or bad quantity.")
            level = shop.levels.get((variant["item_id"], location_id))
            if level is None:
                raise ValueError(f"Variant {variant_id} is not stocked at {location_id}.")
            if level["available"] < quantity and not spec.get("allow_oversell"):
                # Inventory policy DENY: checkout refuses what is not available.
                raise ValueError(f"Only {level['available']} of variant {variant_id} available.")
            lines.append((variant_id, variant, level, quantity))
        order_id = shop.next_id()
        order = {"id": order_id, "name": f"#{1000 + len(shop.orders) + 1}", "created_at": now,
                 "updated_at": now, "cancelled_at": None, "financial_status": "paid",
                 "fulfillment_status": None, "test": bool(spec.get("test")),
                 "location_id": location_id, "lines": []}
        for variant_id, variant, level, quantity in lines:
            level["available"] -= quantity
            level["committed"] += quantity
            order["lines"].append({"id": shop.next_id(), "variant_id": variant_id,
                                   "sku": variant["sku"], "quantity": quantity,
                                   "current_quantity": quantity,
                                   "unfulfilled_quantity": quantity})
        shop.orders[order_id] = order
        shop.emit("orders/create", shop.order_payload(order))
        for _variant_id, variant, _level, _q in lines:
            shop.touch_level(variant["item_id"], location_id)
    return order


def cancel_order(shop: Shop, order_id: int, restock: bool = True) -> dict:
    with shop.lock:
        order = shop.orders[order_id]
        if order["cancelled_at"] is not None:
            raise ValueError("Order is already cancelled.")
        for line in order["lines"]:
            variant = shop.variants.get(line["variant_id"])
            open_quantity = line["unfulfilled_quantity"]
            if variant and open_quantity:
                level = shop.levels[(variant["item_id"], order["location_id"])]
                level["committed"] -= open_quantity
                if restock:
                    level["available"] += open_quantity
                shop.touch_level(variant["item_id"], order["location_id"])
            line["current_quantity"] -= open_quantity
            line["unfulfilled_quantity"] = 0
        order["cancelled_at"] = order["updated_at"] = shop.clock.now()
        order["financial_status"] = "refunded"
        payload = shop.order_payload(order)
        shop.emit("orders/cancelled", payload)
        shop.emit("orders/updated", payload)
    return order


def fulfil_order(shop: Shop, order_id: int) -> dict:
    with shop.lock:
        order = shop.orders[order_id]
        if order["cancelled_at"] is not None:
            raise ValueError("A cancelled order can't be fulfilled.")
        for line in order["lines"]:
            variant = shop.variants.get(line["variant_id"])
            if variant and line["unfulfilled_quantity"]:
                # committed -> shipped: on_hand drops with it (on_hand = sum of states).
                level = shop.levels[(variant["item_id"], order["location_id"])]
                level["committed"] -= line["unfulfilled_quantity"]
                shop.touch_level(variant["item_id"], order["location_id"])
            line["unfulfilled_quantity"] = 0
        order["fulfillment_status"] = "fulfilled"
        order["updated_at"] = shop.clock.now()
        shop.emit("orders/updated", shop.order_payload(order))
    return order


def deliver_webhooks(shop: Shop, *, duplicate: bool = False, reverse: bool = False,
                     due_only: bool = False, timeout: float = 5.0) -> dict:
    """Send pending deliveries (retries replay the original bytes)."""
    with shop.lock:
        now = shop.clock.time()
        pending = [d for d in shop.outbox if d.status == "pending"
                   and (not due_only or d.next_at <= now)]
    if reverse:
        pending = list(reversed(pending))
    sent = failed = 0
    for delivery in pending:
        for _copy in range(2 if duplicate else 1):
            try:
                response = requests.post(delivery.url, data=delivery.body,
                                         headers=shop.delivery_headers(delivery),
                                         timeout=(1.0, timeout))
                ok = 200 <= response.status_code < 300
                delivery.responses.append(response.status_code)
            except requests.RequestException as error:
                ok = False
                delivery.responses.append(type(error).__name__)
            sent += 1
            with shop.lock:
                if ok:
                    delivery.status = "delivered"
                else:
                    failed += 1
                    delivery.attempts += 1
                    # Exponential backoff, 8 attempts over about 4 hours.
                    delivery.next_at = shop.clock.time() + 60 * (2 ** (delivery.attempts - 1))
                    if delivery.attempts >= WEBHOOK_MAX_ATTEMPTS:
                        delivery.status = "abandoned"
            if not ok:
                break
    return {"sent": sent, "failed": failed}


def _level_view(shop: Shop, item_id: int, location_id: int) -> dict:
    level = shop.levels[(item_id, location_id)]
    return {"inventory_item_id": item_id, "location_id": location_id,
            "variant_id": shop.items[item_id]["variant_id"],
            "sku": shop.variants[shop.items[item_id]["variant_id"]]["sku"],
            **{name: level[name] for name in QUANTITY_NAMES},
            "on_hand": shop.quantity(level, "on_hand")}


def _shop_view(shop: Shop, *, full: bool = True) -> dict:
    view = {"name": shop.name, "domain": shop.domain, "client_id": shop.client_id,
            "maximum_available": shop.maximum_available, "restore_rate": shop.restore_rate,
            "locations": [{"id": lid, "gid": gid("Location", lid), **loc}
                          for lid, loc in shop.locations.items()]}
    if full:
        view["variants"] = [{"id": vid, "gid": gid("ProductVariant", vid), "sku": v["sku"],
                             "barcode": v["barcode"], "inventory_item_id": v["item_id"],
                             "inventory_item_gid": gid("InventoryItem", v["item_id"])}
                            for vid, v in shop.variants.items()]
    return view


def _control(handler):
    def wrapped(request: SandboxRequest) -> SandboxResponse:
        sandbox = _sandbox(request)
        shop = None
        if "shop" in request.path_params:
            shop = sandbox.shop(request.path_params["shop"])
            if shop is None:
                return _json(404, {"error": "No such shop."})
        try:
            return _json(200, handler(request, sandbox, shop, request.json() or {}))
        except (ValueError, KeyError) as error:
            return _json(422, {"error": str(error)})
    return wrapped


@_control
def c_create_shop(request, sandbox, _shop, body):
    if body.get("name") in sandbox.shops and not body.get("replace"):
        raise ValueError("A shop with this name exists (pass replace: true).")
    shop = sandbox.create_shop(body)
    return _shop_view(shop, full=len(shop.variants) <= 2000)


@_control
def c_shop(request, sandbox, shop, body):
    return _shop_view(shop, full=request.query_value("variants") != "0")


@_control
def c_settings(request, sandbox, shop, body):
    """{maximum_available, restore_rate, token_lifetime, idempotency_retention, bulk_seconds,
    bucket, scopes, access_token}: change a shop's plan, limits or app."""
    with shop.lock:
        for key in ("maximum_available", "restore_rate", "idempotency_retention",
                    "bulk_seconds", "bucket"):
            if key in body:
                setattr(shop, key, float(body[key]))
        if "token_lifetime" in body:
            shop.token_lifetime = int(body["token_lifetime"])
        if "scopes" in body:
            unknown = set(body["scopes"]) - ALL_SCOPES
            if unknown:
                raise ValueError(f"Unknown scopes {sorted(unknown)}.")
            shop.scopes = frozenset(body["scopes"])
        if "access_token" in body:
            shop.access_tokens = {body["access_token"]} if body["access_token"] else set()
    return {"ok": True}


@_control
def c_revoke_tokens(request, sandbox, shop, body):
    with shop.lock:
        shop.issued_tokens.clear()
        if body.get("non_expiring"):
            shop.access_tokens.clear()
    return {"ok": True}


@_control
def c_add_variants(request, sandbox, shop, body):
    """{product_title?, variants: [{sku, barcode, levels: {location_index: available}}]}"""
    location_ids = list(shop.locations)
    created = []
    with shop.lock:
        product_id = shop.next_id()
        shop.products[product_id] = {"title": body.get("product_title", "Product"),
                                     "status": "ACTIVE"}
        for variant in body["variants"]:
            levels = {location_ids[int(i)]: q for i, q in (variant.get("levels") or {}).items()}
            variant_id = shop.add_variant(product_id=product_id, sku=variant.get("sku"),
                                          barcode=variant.get("barcode", ""), levels=levels)
            created.append({"id": variant_id, "inventory_item_id":
                            shop.variants[variant_id]["item_id"]})
    return {"variants": created}


@_control
def c_place_order(request, sandbox, shop, body):
    return shop.order_payload(place_order(shop, body))


@_control
def c_cancel_order(request, sandbox, shop, body):
    return shop.order_payload(cancel_order(shop, int(request.path_params["order"]),
                                           restock=body.get("restock", True)))


@_control
def c_fulfil_order(request, sandbox, shop, body):
    return shop.order_payload(fulfil_order(shop, int(request.path_params["order"])))


@_control
def c_stock(request, sandbox, shop, body):
    """A merchant edits stock in the Shopify admin: {inventory_item_id, location_id,
    available | delta, state?}."""
    item_id, location_id = int(body["inventory_item_id"]), int(body["location_id"])
    state = body.get("state", "available")
    with shop.lock:
        level = shop.levels.get((item_id, location_id))
        if level is None:
            if item_id not in shop.items or location_id not in shop.locations:
                raise ValueError("Unknown inventory item or location.")
            level = shop.levels[(item_id, location_id)] = dict.fromkeys(QUANTITY_NAMES, 0) | {
                "updated_at": shop.clock.now()}
        if "delta" in body:
            level[state] += int(body["delta"])
        else:
            level[state] = int(body["available" if state == "available" else "quantity"])
        shop.touch_level(item_id, location_id)
        return _level_view(shop, item_id, location_id)


@_control
def c_levels(request, sandbox, shop, body):
    return {"levels": [_level_view(shop, item, loc) for item, loc in sorted(shop.levels)]}


@_control
def c_subscribe(request, sandbox, shop, body):
    topic = body["topic"]
    if topic not in WEBHOOK_TOPICS:
        raise ValueError(f"Unknown topic {topic}.")
    with shop.lock:
        if (topic, body["url"]) not in shop.subscriptions:
            shop.subscriptions.append((topic, body["url"]))
    return {"subscriptions": [{"topic": t, "url": u} for t, u in shop.subscriptions]}


@_control
def c_deliver(request, sandbox, shop, body):
    return deliver_webhooks(shop, duplicate=bool(body.get("duplicate")),
                            reverse=bool(body.get("reverse")),
                            due_only=bool(body.get("due_only")),
                            timeout=float(body.get("timeout", 5.0)))


@_control
def c_outbox(request, sandbox, shop, body):
    return {"deliveries": [{
        "event_id": d.event_id, "webhook_id": d.webhook_id, "topic": d.topic, "url": d.url,
        "status": d.status, "attempts": d.attempts, "responses": d.responses,
        "headers": shop.delivery_headers(d), "body": d.body.decode()} for d in shop.outbox]}


@_control
def c_faults(request, sandbox, shop, body):
    """{faults: [{kind, count?, root_field?, status?, seconds?}]}; kinds: status (5xx),
    unauthorized (401), slow (sleep then answer), internal_error (200 + INTERNAL_SERVER_ERROR),
    timeout_after_commit (apply, then never answer in time); root_field "oauth" targets the
    token endpoint."""
    kinds = {"status", "unauthorized", "slow", "internal_error", "timeout_after_commit"}
    faults = list(body.get("faults") or [])
    for fault in faults:
        if fault.get("kind") not in kinds:
            raise ValueError(f"Unknown fault kind {fault.get('kind')}.")
        fault.setdefault("count", 1)
    with shop.lock:
        shop.faults = faults
    return {"ok": True}


@_control
def c_clock(request, sandbox, shop, body):
    sandbox.clock.offset += float(body.get("advance_seconds", 0))
    return {"now": iso(sandbox.clock.now())}


@_control
def c_log(request, sandbox, shop, body):
    return {"log": list(shop.log)[-int(request.query_value("last") or 1000):]}


@_control
def c_stats(request, sandbox, shop, body):
    return {"stats": dict(shop.stats), "bucket": shop.throttle_status(),
            "idempotency_keys": len(shop.idempotency)}


# The shop every sandbox starts with (the demo's store connection points at
# it: ``{sandbox}/shopify/acorn-demo``); the demo adds its variants through
# ``POST /_sandbox/shopify/acorn-demo/variants``. Sandbox-only credentials.
DEMO_SHOP = {
    "name": "acorn-demo",
    "access_token": "shpat_acorn_demo_sandbox_token",  # noqa: S105 (sandbox only)
    "client_id": "acorn-demo-client",
    "client_secret": "acorn-demo-sandbox-secret",  # noqa: S105 (sandbox only)
    "locations": ["Main warehouse", "Retail store"],
}


def register(router: Router) -> None:
    sandbox = router.context.setdefault("shopify", ShopifySandbox())
    if DEMO_SHOP["name"] not in sandbox.shops:
        sandbox.create_shop(dict(DEMO_SHOP))
    prefix = "/shopify/{shop}"
    router.add("POST", prefix + "/admin/api/{version}/graphql.json", graphql)
    router.add("POST", prefix + "/admin/oauth/access_token", access_token)
    router.add("GET", prefix + "/_bulk/{file}", bulk_result)
    control = "/_sandbox/shopify"
    router.add("POST", control + "/shops", c_create_shop)
    router.add("GET", control + "/{shop}", c_shop)
    router.add("POST", control + "/{shop}/settings", c_settings)
    router.add("POST", control + "/{shop}/tokens/revoke", c_revoke_tokens)
    router.add("POST", control + "/{shop}/variants", c_add_variants)
    router.add("POST", control + "/{shop}/orders", c_place_order)
    router.add("POST", control + "/{shop}/orders/{order}/cancel", c_cancel_order)
    router.add("POST", control + "/{shop}/orders/{order}/fulfil", c_fulfil_order)
    router.add("POST", control + "/{shop}/stock", c_stock)
    router.add("GET", control + "/{shop}/levels", c_levels)
    router.add("POST", control + "/{shop}/webhooks", c_subscribe)
    router.add("POST", control + "/{shop}/webhooks/deliver", c_deliver)
    router.add("GET", control + "/{shop}/webhooks", c_outbox)
    router.add("POST", control + "/{shop}/faults", c_faults)
    router.add("POST", control + "/{shop}/clock", c_clock)
    router.add("GET", control + "/{shop}/log", c_log)
    router.add("GET", control + "/{shop}/stats", c_stats)
