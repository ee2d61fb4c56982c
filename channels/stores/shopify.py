"""The Shopify adapter: GraphQL Admin API, 2026-04 semantics.

Implements ``channels.stores.adapter.ChannelAdapter`` for one shop
(shared/docs/store-channels.md §1, §6). It knows no tenant: the sync engine
builds one per store connection through ``channels.stores.registry`` with a
``StoreEndpoint`` (``https://{shop}.myshopify.com``, or the sandbox's
``http://host:port/shopify/{shop}``), the decrypted credentials and a Django
cache.

- Auth: a non-expiring ``access_token`` (legacy custom app), or the
  client-credentials grant (``client_id`` + ``client_secret``; ~24 h tokens
  kept in the cache under a digest of the whole grant, refreshed early by one
  process under a ``cache.add`` lock; a 401 drops the token and retries once).
- Items are addressed by ids, never by SKU (SKUs repeat or are empty on
  Shopify): ``ItemRef(item_id=<InventoryItem gid>, variant_id=<ProductVariant gid>)``.
- Levels: ``ats`` is ``available`` (never below 0), ``cas_token`` the raw
  ``available``, every state kept in ``raw``.
- Writes: ``inventorySetQuantities`` with ``changeFromQuantity`` on every
  row and ``@idempotent(key:)``; deltas through ``inventoryAdjustQuantities``.
  A userError refuses the whole call, so the rows that were not at fault are
  sent again (once, with a derived key) and the stale ones come back STALE
  with the value re-read. A timeout or 5xx on a write is retried with the
  same key (Shopify replays the original result, nothing applies twice);
  when retries run out the call raises ``OutcomeUnknown``.
- Cost: a leaky bucket per shop in Redis shared by every process
  (``CostGovernor``), spent before each call by the call's estimated cost,
  corrected from ``extensions.cost`` (refunds, the server's
  ``currentlyAvailable``); pages and batches are sized so no query requests
  more than 1000 points. THROTTLED (HTTP 200) waits
  ``(requested - currentlyAvailable) / restoreRate``.
- Large catalogs are read with a bulk operation (JSONL) instead of pages.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import requests

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

API_VERSION = "2026-04"
MAX_QUERY_COST = 1000
MAX_PAGE = 250
MAX_WRITE_BATCH = 250
MUTATION_COST = 10
QUANTITY_NAMES = ("available", "on_hand", "committed", "reserved", "incoming", "damaged",
                  "quality_control", "safety_stock")
# Shopify's accepted ``reason`` values for inventory changes (§1.2).
REASONS = frozenset({"correction", "cycle_count_available", "received", "restock", "damaged",
                     "shrinkage", "promotion", "other"})
WEBHOOK_TOPICS = ("orders/create", "orders/updated", "orders/cancelled",
                  "inventory_levels/update")
# Order polls restart this far before the last updated_at seen: same-second
# updates and clock skew between Shopify's hosts never slip through.
ORDER_POLL_OVERLAP = datetime.timedelta(minutes=2)
# Above this many variants, list_skus reads the catalog with a bulk operation.
BULK_THRESHOLD = 2000
TOKEN_REFRESH_MARGIN = 300.0  # seconds before expiry a token is replaced
TOKEN_LOCK_SECONDS = 30
ORDER_LINES_PER_PAGE = 25
LEVELS_PER_ITEM = 10


@dataclass(frozen=True)
class ShopifyCredentials:
    access_token: str = ""
    client_id: str = ""
    client_secret: str = ""
    webhook_secret: str = ""  # defaults to the client secret (Shopify signs with it)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> ShopifyCredentials:
        return cls(**{key: str(values.get(key) or "") for key in
                      ("access_token", "client_id", "client_secret", "webhook_secret")})

    @property
    def uses_grant(self) -> bool:
        return not self.access_token and bool(self.client_id and self.client_secret)

    @property
    def signing_secret(self) -> str:
        return self.webhook_secret or self.client_secret

    def __repr__(self) -> str:  # never print secrets
        return f"ShopifyCredentials(client_id={self.client_id!r})"


def shop_key(endpoint: StoreEndpoint) -> str:
    return hashlib.sha256(endpoint.base_url.rstrip("/").lower().encode()).hexdigest()[:32]


# --- Cost governor -------------------------------------------------------------

_GOVERNOR_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local maxa = tonumber(redis.call('HGET', KEYS[1], 'max') or ARGV[2])
local rate = tonumber(redis.call('HGET', KEYS[1], 'rate') or ARGV[3])
local avail = tonumber(redis.call('HGET', KEYS[1], 'available') or maxa)
local stamp = tonumber(redis.call('HGET', KEYS[1], 'stamp') or now)
avail = math.min(maxa, avail + math.max(0, now - stamp) * rate)
local wait = 0
if ARGV[1] == 'reserve' then
  local cost = tonumber(ARGV[4])
  if avail < cost then wait = (cost - avail) / rate end
  avail = avail - cost
elseif ARGV[1] == 'credit' then
  avail = math.min(maxa, avail + tonumber(ARGV[4]))
else
  avail = math.min(avail + tonumber(ARGV[4]), tonumber(ARGV[5]))
  maxa = tonumber(ARGV[6])
  rate = tonumber(ARGV[7])
end
redis.call('HSET', KEYS[1], 'available', tostring(avail), 'stamp', tostring(now),
           'max', tostring(maxa), 'rate', tostring(rate))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""


class CostGovernor:
    """Shopify's leaky bucket mirrored per shop, shared by processes.

    ``reserve(cost)`` takes the points before a call and says how long to
    wait for them (callers queue up behind each other instead of all hitting
    THROTTLED); ``feed(...)`` credits what the server refunded and never lets
    the local view exceed the server's ``currentlyAvailable``. Redis does it
    atomically on its own clock; without Redis (the embedded demo) a
    process-local bucket does the same.
    """

    DEFAULT_MAXIMUM = 2000.0  # Standard plan until the first response says otherwise
    DEFAULT_RESTORE = 100.0

    def __init__(self, *, redis_client=None, key_prefix: str = "acorn:shopify:cost:"):
        self.redis = redis_client
        self.key_prefix = key_prefix
        self._script = redis_client.register_script(_GOVERNOR_SCRIPT) if redis_client else None
        self._local: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> CostGovernor:
        """One governor per process and Redis URL: adapters are built per task,
        the connection pool and the local fallback bucket are not."""
        from django.conf import settings

        url = getattr(settings, "REDIS_URL", "")
        with _DEFAULT_GOVERNORS_LOCK:
            governor = _DEFAULT_GOVERNORS.get(url)
            if governor is None:
                if url:
                    import redis

                    governor = cls(redis_client=redis.Redis.from_url(url))
                else:
                    governor = cls()
                _DEFAULT_GOVERNORS[url] = governor
            return governor

    def _run(self, key: str, *args) -> float:
        if self._script is not None:
            return float(self._script(keys=[self.key_prefix + key], args=[
                args[0], self.DEFAULT_MAXIMUM, self.DEFAULT_RESTORE, *args[1:]]))
        with self._lock:
            now = time.monotonic()
            state = self._local.setdefault(
                key, [self.DEFAULT_MAXIMUM, now, self.DEFAULT_MAXIMUM, self.DEFAULT_RESTORE])
            available, stamp, maximum, rate = state
            available = min(maximum, available + max(0.0, now - stamp) * rate)
            wait = 0.0
            if args[0] == "reserve":
                cost = float(args[1])
                if available < cost:
                    wait = (cost - available) / rate
                available -= cost
            elif args[0] == "credit":
                available = min(maximum, available + float(args[1]))
            else:
                available = min(available + float(args[1]), float(args[2]))
                maximum, rate = float(args[3]), float(args[4])
            self._local[key] = [available, now, maximum, rate]
            return wait

    def reserve(self, key: str, cost: float) -> float:
        return self._run(key, "reserve", float(cost))

    def feed(self, key: str, *, credit: float, status: Mapping) -> None:
        self._run(key, "feed", float(credit), float(status["currentlyAvailable"]),
                  float(status["maximumAvailable"]), float(status["restoreRate"]))

    def credit(self, key: str, points: float) -> None:
        """Give back a reservation that was never sent."""
        self._run(key, "credit", float(points))

    def reset(self, key: str) -> None:
        if self.redis is not None:
            self.redis.delete(self.key_prefix + key)
        self._local.pop(key, None)


_DEFAULT_GOVERNORS: dict[str, CostGovernor] = {}
_DEFAULT_GOVERNORS_LOCK = threading.Lock()


# --- Tokens --------------------------------------------------------------------


class TokenProvider:
    """Client-credentials tokens, cached by the whole grant (shop, client id,
    a digest of the secret) so a corrected secret never reuses an old token."""

    def __init__(self, *, endpoint: StoreEndpoint, credentials: ShopifyCredentials, cache,
                 session: requests.Session, timeout: tuple[float, float]):
        self.endpoint = endpoint
        self.credentials = credentials
        self.cache = cache
        self.session = session
        self.timeout = timeout
        self.token_calls = 0
        digest = hashlib.sha256("\x00".join((
            endpoint.base_url.rstrip("/").lower(), credentials.client_id,
            hashlib.sha256(credentials.client_secret.encode()).hexdigest(),
        )).encode()).hexdigest()[:40]
        self.key = f"channels:shopify:token:{digest}"

    def token(self) -> str:
        if not self.credentials.uses_grant:
            if not self.credentials.access_token:
                raise AuthError("The store connection has no Shopify access token or client "
                                "credentials.", code="NO_CREDENTIALS")
            return self.credentials.access_token
        deadline = time.monotonic() + TOKEN_LOCK_SECONDS
        while True:
            cached = self.cache.get(self.key)
            now = time.time()
            if cached and cached["expires_at"] - TOKEN_REFRESH_MARGIN > now:
                return cached["token"]
            if self.cache.add(self.key + ":lock", 1, timeout=TOKEN_LOCK_SECONDS):
                try:
                    cached = self.cache.get(self.key)
                    if cached and cached["expires_at"] - TOKEN_REFRESH_MARGIN > time.time():
                        return cached["token"]
                    return self._exchange()
                finally:
                    self.cache.delete(self.key + ":lock")
            # Another process is refreshing: an unexpired token still works meanwhile.
            if cached and cached["expires_at"] > now + 5:
                return cached["token"]
            if time.monotonic() > deadline:
                return self._exchange()
            time.sleep(0.1)

    def forget(self, token: str | None = None) -> None:
        cached = self.cache.get(self.key)
        if token is None or (cached and cached["token"] == token):
            self.cache.delete(self.key)

    def _exchange(self) -> str:
        url = self.endpoint.base_url.rstrip("/") + "/admin/oauth/access_token"
        self.token_calls += 1
        try:
            response = self.session.post(url, data={
                "grant_type": "client_credentials", "client_id": self.credentials.client_id,
                "client_secret": self.credentials.client_secret,
            }, timeout=self.timeout)
        except requests.RequestException as error:
            raise Transient(f"Shopify token endpoint unreachable: {type(error).__name__}",
                            code="TOKEN_UNREACHABLE") from None
        if response.status_code >= 500:
            raise Transient(f"Shopify token endpoint answered {response.status_code}.",
                            status=response.status_code)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not body.get("access_token"):
            raise AuthError(
                "Shopify refused the client credentials: "
                f"{body.get('error_description') or body.get('error') or response.status_code}",
                code=str(body.get("error") or "invalid_client"), status=response.status_code)
        lifetime = float(body.get("expires_in") or 86399)
        self.cache.set(self.key, {"token": body["access_token"],
                                  "expires_at": time.time() + lifetime},
                       timeout=max(1, int(lifetime)))
        return body["access_token"]


# --- Helpers --------------------------------------------------------------------


def _time(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(datetime.UTC)


def _search_time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _gid(kind: str, value) -> str:
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def _chunks(rows: Sequence, size: int):
    for start in range(0, len(rows), size):
        yield start, rows[start:start + size]


def _gql(template: str, **values) -> str:
    """Fill ``<<name>>`` placeholders (GraphQL's braces rule out str.format)."""
    for name, value in values.items():
        template = template.replace(f"<<{name}>>", str(value))
    return template


_LEVEL_FIELDS = _gql("quantities(names: <<names>>) { name quantity }",
                     names=json.dumps(list(QUANTITY_NAMES)))
# Cost of one level: the level object, its location and the quantities list.
_LEVEL_COST = 3


class ShopifyAdapter:
    capabilities = Capabilities(
        cas=CompareAndSet.NATIVE, idempotency_key=True, delta_writes=True,
        max_write_batch=MAX_WRITE_BATCH, quantity_semantics=QuantitySemantics.AVAILABLE,
        webhooks=True, bulk_reads=True,
    )

    def __init__(self, *, endpoint: StoreEndpoint, credentials: Mapping[str, str] |
                 ShopifyCredentials, cache, governor: CostGovernor | None = None,
                 session: requests.Session | None = None,
                 timeout: tuple[float, float] = (5.0, 30.0), write_retries: int = 2,
                 read_retries: int = 2, max_wait_seconds: float = 60.0,
                 bulk_threshold: int = BULK_THRESHOLD, bulk_timeout: float = 600.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.endpoint = endpoint
        self.credentials = (credentials if isinstance(credentials, ShopifyCredentials)
                            else ShopifyCredentials.from_mapping(credentials))
        self.cache = cache
        self.session = session or requests.Session()
        self.timeout = timeout
        self.governor = governor or CostGovernor.default()
        self.write_retries = write_retries
        self.read_retries = read_retries
        self.max_wait_seconds = max_wait_seconds
        self.bulk_threshold = bulk_threshold
        self.bulk_timeout = bulk_timeout
        self.sleep = sleep
        self.version = endpoint.api_version or API_VERSION
        self.url = f"{endpoint.base_url.rstrip('/')}/admin/api/{self.version}/graphql.json"
        self.bucket_key = shop_key(endpoint)
        self.tokens = TokenProvider(endpoint=endpoint, credentials=self.credentials, cache=cache,
                                    session=self.session, timeout=timeout)
        # Observability: what this instance met (the benchmark and tests read it).
        self.counters = {"calls": 0, "throttled": 0, "waited_seconds": 0.0, "cost_actual": 0,
                         "cost_requested": 0}

    # --- Transport -------------------------------------------------------------

    def _call(self, query: str, variables: Mapping | None = None, *, estimate: int,
              write: bool = False) -> dict:
        """One GraphQL call with governor, retries and error normalisation."""
        if estimate > MAX_QUERY_COST:
            raise Validation(f"Query would cost {estimate} points (max {MAX_QUERY_COST}).",
                             code="MAX_COST_EXCEEDED")
        attempts = 0
        throttles = 0
        reauthorised = False
        waited = 0.0
        while True:
            wait = self.governor.reserve(self.bucket_key, estimate)
            if wait > 0:
                if waited + wait > self.max_wait_seconds:
                    self.governor.credit(self.bucket_key, estimate)
                    raise RateLimited("Shopify cost budget exhausted.", retry_after=wait,
                                      code="THROTTLED")
                self.sleep(wait)
                waited += wait
                self.counters["waited_seconds"] += wait
            token = self.tokens.token()
            self.counters["calls"] += 1
            try:
                response = self.session.post(
                    self.url, json={"query": query, "variables": dict(variables or {})},
                    headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
                    timeout=self.timeout)
            except requests.RequestException as error:
                attempts += 1
                retries = self.write_retries if write else self.read_retries
                if attempts <= retries:
                    # A write carries its idempotency key: resending it is safe.
                    self.sleep(min(8.0, 0.5 * 2 ** attempts))
                    continue
                kind = OutcomeUnknown if write else Transient
                raise kind(f"Shopify did not answer: {type(error).__name__}",
                           code="TIMEOUT") from None
            status = response.status_code
            if status == 401:
                if self.credentials.uses_grant and not reauthorised:
                    self.tokens.forget(token)
                    reauthorised = True
                    continue
                raise AuthError("Shopify refused the access token.", code="UNAUTHORIZED",
                                status=401)
            if status in (402, 403, 423):
                raise AuthError(f"Shopify refused access to the shop ({status}).",
                                code="SHOP_UNAVAILABLE", status=status)
            if status == 429:
                retry_after = float(response.headers.get("Retry-After") or 2.0)
                throttles += 1
                if throttles <= 3 and waited + retry_after <= self.max_wait_seconds:
                    self.sleep(retry_after)
                    waited += retry_after
                    continue
                raise RateLimited("Shopify answered 429.", retry_after=retry_after, status=429)
            if status >= 500:
                attempts += 1
                retries = self.write_retries if write else self.read_retries
                if attempts <= retries:
                    self.sleep(min(8.0, 0.5 * 2 ** attempts))
                    continue
                kind = OutcomeUnknown if write else Transient
                raise kind(f"Shopify answered {status}.", code="SERVER_ERROR", status=status)
            if status == 404:
                raise NotFound("Shopify answered 404 (shop or API version not found).",
                               status=404)
            if status >= 400:
                raise Validation(f"Shopify refused the request ({status}): "
                                 f"{response.text[:300]}", status=status)
            try:
                body = response.json()
            except ValueError:
                attempts += 1
                if attempts <= (self.write_retries if write else self.read_retries):
                    continue
                kind = OutcomeUnknown if write else Transient
                raise kind("Shopify answered with a body that is not JSON.",
                           code="BAD_BODY") from None
            cost = (body.get("extensions") or {}).get("cost")
            if cost and cost.get("throttleStatus"):
                actual = cost.get("actualQueryCost")
                credit = estimate - (actual if actual is not None else 0)
                self.governor.feed(self.bucket_key, credit=credit, status=cost["throttleStatus"])
                if actual is not None:
                    self.counters["cost_actual"] += actual
                    self.counters["cost_requested"] += cost.get("requestedQueryCost") or 0
            errors = body.get("errors")
            if not errors:
                return body.get("data") or {}
            code = ((errors[0].get("extensions") or {}).get("code") or "").upper()
            message = errors[0].get("message") or code
            if code == "THROTTLED":
                self.counters["throttled"] += 1
                throttles += 1
                status_ = (cost or {}).get("throttleStatus") or self._unknown_status()
                requested = (cost or {}).get("requestedQueryCost") or estimate
                retry_after = max(0.0, (requested - status_["currentlyAvailable"])
                                  / max(status_["restoreRate"], 1.0))
                if throttles <= 5 and waited + retry_after <= self.max_wait_seconds:
                    continue  # the governor now knows the bucket: reserve waits
                raise RateLimited("Shopify throttled the request.", retry_after=retry_after,
                                  code="THROTTLED")
            if code == "MAX_COST_EXCEEDED":
                raise Validation(message, code=code)
            if code in ("ACCESS_DENIED", "UNAUTHORIZED"):
                raise AuthError(message, code=code)
            if code in ("INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"):
                attempts += 1
                if attempts <= (self.write_retries if write else self.read_retries):
                    self.sleep(min(8.0, 0.5 * 2 ** attempts))
                    continue
                kind = OutcomeUnknown if write else Transient
                raise kind(message, code=code)
            raise Validation(message, code=code or "GRAPHQL_ERROR",
                             field=".".join(str(p) for p in errors[0].get("path") or []))

    @staticmethod
    def _unknown_status() -> dict:
        return {"currentlyAvailable": 0.0, "maximumAvailable": CostGovernor.DEFAULT_MAXIMUM,
                "restoreRate": CostGovernor.DEFAULT_RESTORE}

    # --- Shop, locations ---------------------------------------------------------

    def shop(self) -> dict:
        """The shop's name and domain: the connection test."""
        data = self._call("query Shop { shop { name myshopifyDomain } }", estimate=1)
        return data["shop"]

    def list_locations(self) -> list[ChannelLocation]:
        query = """query Locations($after: String) { locations(first: 100, after: $after,
          includeInactive: true) { pageInfo { hasNextPage endCursor }
          nodes { id name isActive } } }"""
        locations, after = [], None
        while True:
            data = self._call(query, {"after": after}, estimate=2 + 100)
            page = data["locations"]
            locations += [ChannelLocation(location_id=n["id"], name=n["name"],
                                          is_active=bool(n["isActive"])) for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                return locations
            after = page["pageInfo"]["endCursor"]

    # --- Catalog -----------------------------------------------------------------

    _VARIANT_FIELDS = "id sku barcode displayName updatedAt inventoryItem { id }"

    def list_skus(self, *, updated_since: datetime.datetime | None = None,
                  cursor: str | None = None) -> Page[ChannelSku]:
        search = f"updated_at:>='{_search_time(updated_since)}'" if updated_since else ""
        if cursor is None and self._variant_count(search) > self.bulk_threshold:
            return Page(items=self._bulk_variants(search), next_cursor=None)
        query = """query Variants($first: Int!, $after: String, $query: String) {
          productVariants(first: $first, after: $after, query: $query) {
            pageInfo { hasNextPage endCursor } nodes { <<fields>> } } }"""
        query = _gql(query, fields=self._VARIANT_FIELDS)
        data = self._call(query, {"first": MAX_PAGE, "after": cursor or None,
                                  "query": search or None},
                          estimate=2 + MAX_PAGE * 2)
        page = data["productVariants"]
        return Page(items=[self._sku(node) for node in page["nodes"]],
                    next_cursor=page["pageInfo"]["endCursor"]
                    if page["pageInfo"]["hasNextPage"] else None)

    def _variant_count(self, search: str) -> int:
        data = self._call("query Count($query: String) { productVariantsCount(query: $query, "
                          "limit: null) { count precision } }", {"query": search or None},
                          estimate=1)
        return int(data["productVariantsCount"]["count"])

    @staticmethod
    def _sku(node: Mapping) -> ChannelSku:
        return ChannelSku(
            ref=ItemRef(item_id=node["inventoryItem"]["id"], variant_id=node["id"]),
            sku=node.get("sku") or "", gtin=node.get("barcode") or "",
            title=node.get("displayName") or "", updated_at=_time(node.get("updatedAt")))

    def _bulk_variants(self, search: str) -> list[ChannelSku]:
        arguments = f"(query: {json.dumps(search)})" if search else ""
        inner = _gql("{ productVariants<<arguments>> { edges { node { <<fields>> } } } }",
                     arguments=arguments, fields=self._VARIANT_FIELDS)
        data = self._call("mutation Bulk($query: String!) { bulkOperationRunQuery(query: $query) "
                          "{ bulkOperation { id status } userErrors { field code message } } }",
                          {"query": inner}, estimate=MUTATION_COST, write=True)
        result = data["bulkOperationRunQuery"]
        if result["userErrors"]:
            error = result["userErrors"][0]
            if error.get("code") == "OPERATION_IN_PROGRESS":
                raise Transient(error["message"], code="OPERATION_IN_PROGRESS")
            raise Validation(error["message"], code=error.get("code") or "BULK_INVALID")
        operation_id = result["bulkOperation"]["id"]
        deadline = time.monotonic() + self.bulk_timeout
        delay = 0.2
        while True:
            data = self._call("query Op($id: ID!) { node(id: $id) { ... on BulkOperation { "
                              "id status errorCode url objectCount } } }", {"id": operation_id},
                              estimate=1)
            operation = data["node"]
            if operation["status"] == "COMPLETED":
                break
            if operation["status"] in ("FAILED", "CANCELED", "CANCELING", "EXPIRED"):
                raise Transient(f"Shopify bulk operation {operation['status']}: "
                                f"{operation.get('errorCode')}", code="BULK_FAILED")
            if time.monotonic() > deadline:
                raise Transient("Shopify bulk operation did not finish in time.",
                                code="BULK_TIMEOUT")
            self.sleep(delay)
            delay = min(delay * 2, 5.0)
        if not operation.get("url"):
            return []  # nothing matched: Shopify gives no file
        try:
            download = self.session.get(operation["url"], timeout=(self.timeout[0], 300))
            download.raise_for_status()
        except requests.RequestException as error:
            raise Transient(f"Bulk result download failed: {type(error).__name__}",
                            code="BULK_DOWNLOAD") from None
        return [self._sku(json.loads(line)) for line in download.text.splitlines() if line]

    # --- Levels ------------------------------------------------------------------

    def get_levels(self, refs: Sequence[ItemRef],
                   locations: Sequence[str] | None = None) -> list[LevelSnapshot]:
        unique = list(dict.fromkeys(ref.item_id for ref in refs))
        by_item = {ref.item_id: ref for ref in refs}
        snapshots: list[LevelSnapshot] = []
        if locations and len(locations) <= 5:
            # One aliased inventoryLevel(locationId:) per location: 2 points an item
            # each, against 2 + 3 x first for the inventoryLevels connection.
            aliases = {f"l{i}": location for i, location in enumerate(locations)}
            per_item = 1 + 2 * len(aliases)
            definitions = "".join(f", ${alias}: ID!" for alias in aliases)
            fields = " ".join(
                f"{alias}: inventoryLevel(locationId: ${alias}) {{ {_LEVEL_FIELDS} }}"
                for alias in aliases)
            query = f"query Levels($ids: [ID!]!{definitions}) {{ nodes(ids: $ids) {{ " \
                    f"... on InventoryItem {{ id {fields} }} }} }}"
            batch = max(1, min(MAX_PAGE, MAX_QUERY_COST // per_item))
            for _start, chunk in _chunks(unique, batch):
                data = self._call(query, {"ids": chunk, **aliases},
                                  estimate=len(chunk) * per_item)
                observed = datetime.datetime.now(tz=datetime.UTC)
                for node in data["nodes"]:
                    if not node:
                        continue
                    for alias, location in aliases.items():
                        if node.get(alias):
                            snapshots.append(self._snapshot(by_item[node["id"]], location,
                                                            node[alias], observed))
            return snapshots
        per_item = 1 + 2 + LEVELS_PER_ITEM * _LEVEL_COST
        query = """query Levels($ids: [ID!]!) { nodes(ids: $ids) { ... on InventoryItem { id
          inventoryLevels(first: <<first>>) { pageInfo { hasNextPage endCursor }
            nodes { location { id } <<levels>> } } } } }"""
        query = _gql(query, first=LEVELS_PER_ITEM, levels=_LEVEL_FIELDS)
        wanted = set(locations or ())
        for _start, chunk in _chunks(unique, max(1, MAX_QUERY_COST // per_item)):
            data = self._call(query, {"ids": chunk}, estimate=len(chunk) * per_item)
            observed = datetime.datetime.now(tz=datetime.UTC)
            for node in data["nodes"]:
                if not node:
                    continue
                connection = node["inventoryLevels"]
                levels = list(connection["nodes"])
                if connection["pageInfo"]["hasNextPage"]:
                    levels += self._more_levels(node["id"], connection["pageInfo"]["endCursor"])
                for level in levels:
                    location = level["location"]["id"]
                    if not wanted or location in wanted:
                        snapshots.append(self._snapshot(by_item[node["id"]], location, level,
                                                        observed))
        return snapshots

    def _more_levels(self, item_id: str, after: str) -> list[dict]:
        query = """query MoreLevels($id: ID!, $after: String) { node(id: $id) {
          ... on InventoryItem { inventoryLevels(first: 250, after: $after) {
            pageInfo { hasNextPage endCursor } nodes { location { id } <<levels>> } } } } }"""
        query = _gql(query, levels=_LEVEL_FIELDS)
        levels = []
        while after:
            data = self._call(query, {"id": item_id, "after": after},
                              estimate=1 + 2 + 250 * _LEVEL_COST)
            connection = data["node"]["inventoryLevels"]
            levels += connection["nodes"]
            after = (connection["pageInfo"]["endCursor"]
                     if connection["pageInfo"]["hasNextPage"] else None)
        return levels

    @staticmethod
    def _snapshot(ref: ItemRef, location: str, level: Mapping,
                  observed: datetime.datetime) -> LevelSnapshot:
        raw = {q["name"]: int(q["quantity"]) for q in level["quantities"]}
        available = raw.get("available", 0)
        return LevelSnapshot(ref=ref, location_id=location, ats=max(0, available), raw=raw,
                             observed_at=observed, cas_token=available)

    # --- Writes ------------------------------------------------------------------

    _SET_MUTATION = """mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
      inventorySetQuantities(input: $input) @idempotent(key: $key) {
        inventoryAdjustmentGroup { id } userErrors { code field message } } }"""
    _ADJUST_MUTATION = """mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
      inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
        inventoryAdjustmentGroup { id } userErrors { code field message } } }"""

    def set_levels(self, writes: Sequence[LevelWrite], *, idempotency_key: str, reason: str,
                   ref_uri: str) -> WriteResult:
        def row(write: LevelWrite) -> dict:
            return {"inventoryItemId": write.ref.item_id, "locationId": write.location_id,
                    "quantity": int(write.target_ats), "changeFromQuantity": write.expected}

        return self._write(writes, row, mutation=self._SET_MUTATION,
                           root="inventorySetQuantities", rows_key="quantities",
                           idempotency_key=idempotency_key, reason=reason, ref_uri=ref_uri)

    def adjust_levels(self, deltas: Sequence[LevelDelta], *, idempotency_key: str, reason: str,
                      ref_uri: str) -> WriteResult:
        def row(delta: LevelDelta) -> dict:
            # A delta needs no compare: 2026-04 still wants the field, as null.
            return {"inventoryItemId": delta.ref.item_id, "locationId": delta.location_id,
                    "delta": int(delta.delta), "changeFromQuantity": None}

        return self._write(deltas, row, mutation=self._ADJUST_MUTATION,
                           root="inventoryAdjustQuantities", rows_key="changes",
                           idempotency_key=idempotency_key, reason=reason, ref_uri=ref_uri)

    def _write(self, rows: Sequence, to_input, *, mutation: str, root: str, rows_key: str,
               idempotency_key: str, reason: str, ref_uri: str) -> WriteResult:
        if not idempotency_key:
            raise Validation("Shopify inventory writes need an idempotency key.",
                             code="IDEMPOTENCY_KEY_MISSING")
        if reason not in REASONS:
            raise Validation(f"Shopify does not accept the reason {reason!r}.",
                             code="INVALID_REASON", field="reason")
        results: list[RowResult] = []
        for start, chunk in _chunks(list(rows), MAX_WRITE_BATCH):
            key = idempotency_key if len(rows) <= MAX_WRITE_BATCH else \
                f"{idempotency_key}:{start // MAX_WRITE_BATCH}"
            results += self._write_chunk(chunk, to_input, mutation=mutation, root=root,
                                         rows_key=rows_key, key=key, reason=reason,
                                         ref_uri=ref_uri)
        return WriteResult(rows=results)

    def _write_chunk(self, chunk: Sequence, to_input, *, mutation, root, rows_key, key, reason,
                     ref_uri) -> list[RowResult]:
        outcome: dict[int, RowResult] = {}
        pending = list(range(len(chunk)))
        stale: list[int] = []
        for round_number in range(2):
            round_key = key if round_number == 0 else f"{key}:r{round_number}"
            variables = {"key": round_key, "input": {
                "name": "available", "reason": reason, "referenceDocumentUri": ref_uri or None,
                rows_key: [to_input(chunk[i]) for i in pending]}}
            data = self._call(mutation, variables, estimate=MUTATION_COST, write=True)
            payload = data[root]
            if payload.get("inventoryAdjustmentGroup"):
                for i in pending:
                    outcome[i] = RowResult(ref=chunk[i].ref, location_id=chunk[i].location_id,
                                           outcome=WriteOutcome.APPLIED)
                pending = []
                break
            errors = payload.get("userErrors") or []
            at_fault: dict[int, str] = {}
            for error in errors:
                field_path = error.get("field") or []
                code = error.get("code") or "USER_ERROR"
                if len(field_path) >= 3 and field_path[1] == rows_key:
                    at_fault[pending[int(field_path[2])]] = code
                elif code == "IDEMPOTENCY_CONCURRENT_REQUEST":
                    raise Transient(error.get("message") or code, code=code)
                else:
                    raise Validation(error.get("message") or code, code=code,
                                     field=".".join(map(str, field_path)))
            if not at_fault:
                raise Validation("Shopify refused the write without saying which row.",
                                 code="USER_ERROR")
            for i, code in at_fault.items():
                if code in ("CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"):
                    stale.append(i)
                else:
                    outcome[i] = RowResult(ref=chunk[i].ref, location_id=chunk[i].location_id,
                                           outcome=WriteOutcome.REJECTED, code=code)
            # All or nothing: the rows that were not at fault go again.
            pending = [i for i in pending if i not in at_fault]
            if not pending:
                break
        # Rows still not applied after the second round met a new conflict: re-read them too.
        stale += pending
        if stale:
            current = {(s.ref.item_id, s.location_id): s.cas_token for s in self.get_levels(
                [chunk[i].ref for i in stale], sorted({chunk[i].location_id for i in stale}))}
            for i in stale:
                outcome[i] = RowResult(
                    ref=chunk[i].ref, location_id=chunk[i].location_id,
                    outcome=WriteOutcome.STALE, code="CHANGE_FROM_QUANTITY_STALE",
                    current=current.get((chunk[i].ref.item_id, chunk[i].location_id)))
        return [outcome[i] for i in range(len(chunk))]

    # --- Orders ------------------------------------------------------------------

    _LINE_FIELDS = ("id sku quantity currentQuantity unfulfilledQuantity "
                    "variant { id inventoryItem { id } }")
    _LINE_COST = 3  # the line, its variant and the inventory item
    _ORDER_FIELDS = ("id name createdAt updatedAt cancelledAt displayFinancialStatus "
                     "displayFulfillmentStatus test")

    def list_orders_since(self, watermark: Watermark, *,
                          page_token: str | None = None) -> OrderPage:
        per_order = 1 + 2 + ORDER_LINES_PER_PAGE * self._LINE_COST
        first = max(1, min(MAX_PAGE, (MAX_QUERY_COST - 2) // per_order))
        search = None
        if watermark.updated_at is not None:
            search = f"updated_at:>='{_search_time(watermark.updated_at - ORDER_POLL_OVERLAP)}'"
        query = """query Orders($first: Int!, $after: String, $query: String) {
          orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
            pageInfo { hasNextPage endCursor }
            nodes { <<order>> lineItems(first: <<lines>>) { pageInfo { hasNextPage endCursor }
              nodes { <<line>> } } } } }"""
        query = _gql(query, order=self._ORDER_FIELDS, lines=ORDER_LINES_PER_PAGE,
                     line=self._LINE_FIELDS)
        data = self._call(query, {"first": first, "after": page_token, "query": search},
                          estimate=2 + first * per_order)
        connection = data["orders"]
        orders = [self._order(node) for node in connection["nodes"]]
        latest = max([o.updated_at for o in orders] +
                     ([watermark.updated_at] if watermark.updated_at else []), default=None)
        has_next = connection["pageInfo"]["hasNextPage"]
        return OrderPage(orders=orders, next_watermark=Watermark(updated_at=latest),
                         next_page_token=connection["pageInfo"]["endCursor"] if has_next else None)

    def get_order(self, order_id: str) -> ChannelOrder:
        query = _gql("""query Order($id: ID!) { order(id: $id) { <<order>>
          lineItems(first: <<lines>>) { pageInfo { hasNextPage endCursor } nodes { <<line>> } }
          } }""", order=self._ORDER_FIELDS, lines=ORDER_LINES_PER_PAGE, line=self._LINE_FIELDS)
        data = self._call(query, {"id": _gid("Order", order_id)},
                          estimate=1 + 2 + ORDER_LINES_PER_PAGE * self._LINE_COST)
        if not data.get("order"):
            raise NotFound(f"Shopify has no order {order_id}.", code="ORDER_NOT_FOUND")
        return self._order(data["order"])

    def _order(self, node: Mapping) -> ChannelOrder:
        connection = node["lineItems"]
        lines = list(connection["nodes"])
        after = connection["pageInfo"]["endCursor"] if connection["pageInfo"]["hasNextPage"] \
            else None
        while after:
            query = _gql("""query Lines($id: ID!, $after: String) { order(id: $id) {
              lineItems(first: 100, after: $after) { pageInfo { hasNextPage endCursor }
              nodes { <<line>> } } } }""", line=self._LINE_FIELDS)
            data = self._call(query, {"id": node["id"], "after": after},
                              estimate=1 + 2 + 100 * self._LINE_COST)
            more = data["order"]["lineItems"]
            lines += more["nodes"]
            after = more["pageInfo"]["endCursor"] if more["pageInfo"]["hasNextPage"] else None
        return ChannelOrder(
            order_id=node["id"], name=node["name"], created_at=_time(node["createdAt"]),
            updated_at=_time(node["updatedAt"]), cancelled=node.get("cancelledAt") is not None,
            lines=[self._line(line) for line in lines], is_test=bool(node.get("test")),
            raw_status=f"{node.get('displayFinancialStatus')}/"
                       f"{node.get('displayFulfillmentStatus')}")

    @staticmethod
    def _line(line: Mapping) -> OrderLine:
        variant = line.get("variant")
        ref = None
        if variant and variant.get("inventoryItem"):
            ref = ItemRef(item_id=variant["inventoryItem"]["id"], variant_id=variant["id"])
        quantity = int(line["quantity"])
        current = int(line["currentQuantity"])
        unfulfilled = int(line["unfulfilledQuantity"])
        return OrderLine(line_id=line["id"], sku=line.get("sku") or "", ref=ref,
                         quantity=quantity, quantity_cancelled=max(0, quantity - current),
                         quantity_shipped=max(0, current - unfulfilled))

    # --- Webhooks ------------------------------------------------------------------

    def webhooks_subscribe(self, uri: str, topics: Sequence[str] = WEBHOOK_TOPICS) -> list[str]:
        """Subscribe ``uri`` to ``topics`` (REST names, e.g. ``orders/create``),
        skipping those already there; returns the topics now subscribed."""
        query = """query Hooks($after: String) { webhookSubscriptions(first: 100, after: $after)
          { pageInfo { hasNextPage endCursor } nodes { id topic uri } } }"""
        existing, after = set(), None
        while True:
            data = self._call(query, {"after": after}, estimate=2 + 100)
            page = data["webhookSubscriptions"]
            existing |= {(n["topic"], n["uri"]) for n in page["nodes"]}
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        mutation = """mutation Hook($topic: WebhookSubscriptionTopic!, $uri: URL!) {
          webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri,
            format: JSON}) { webhookSubscription { id } userErrors { field message } } }"""
        for topic in topics:
            enum_value = topic.replace("/", "_").upper()
            if (enum_value, uri) in existing:
                continue
            data = self._call(mutation, {"topic": enum_value, "uri": uri},
                              estimate=MUTATION_COST, write=True)
            errors = data["webhookSubscriptionCreate"]["userErrors"]
            if errors and "already been taken" not in errors[0]["message"]:
                raise Validation(errors[0]["message"], code="WEBHOOK_SUBSCRIPTION",
                                 field=".".join(errors[0].get("field") or []))
        return list(topics)

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> WebhookEnvelope:
        lower = {str(k).lower(): v for k, v in headers.items()}
        secret = self.credentials.signing_secret
        signature = lower.get("x-shopify-hmac-sha256") or ""
        if not secret:
            raise InvalidSignature("No webhook secret is configured for this store.",
                                   code="NO_SECRET")
        expected = base64.b64encode(
            hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()
        if not signature or not hmac.compare_digest(expected.encode(), signature.encode()):
            raise InvalidSignature("The webhook's HMAC does not match its body.",
                                   code="BAD_HMAC")
        dedupe = lower.get("x-shopify-event-id") or lower.get("x-shopify-webhook-id")
        if not dedupe:
            raise Validation("The webhook has no event or webhook id.", code="NO_EVENT_ID")
        topic = lower.get("x-shopify-topic") or ""
        try:
            payload = json.loads(raw_body)
        except ValueError:
            raise Validation("The webhook body is not JSON.", code="BAD_BODY") from None
        refs: list[ItemRef] = []
        order_ids: list[str] = []
        if topic.startswith("inventory_levels/") and "inventory_item_id" in payload:
            refs.append(ItemRef(item_id=_gid("InventoryItem", payload["inventory_item_id"])))
        elif topic.startswith("orders/") and "id" in payload:
            order_ids.append(payload.get("admin_graphql_api_id") or _gid("Order", payload["id"]))
        triggered = lower.get("x-shopify-triggered-at")
        try:
            triggered_at = _time(triggered)
        except ValueError:
            triggered_at = None
        return WebhookEnvelope(dedupe_key=f"shopify:{dedupe}", topic=topic,
                               triggered_at=triggered_at, payload=payload, refs=refs,
                               order_ids=order_ids)


@adapter_register(Platform.SHOPIFY)
def shopify_adapter(*, endpoint: StoreEndpoint, credentials: Mapping[str, str],
                    cache) -> ShopifyAdapter:
    return ShopifyAdapter(endpoint=endpoint, credentials=credentials, cache=cache)


__all__ = ["API_VERSION", "REASONS", "WEBHOOK_TOPICS", "CostGovernor", "ShopifyAdapter",
           "ShopifyCredentials", "StoreError", "shopify_adapter"]
