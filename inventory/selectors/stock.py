"""Reads of stock: available-to-promise, levels, the ledger, holds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from inventory.models import (
    ChannelRule,
    Hold,
    HoldEvent,
    HoldLine,
    HoldStatus,
    InboundStatus,
    InboundSupply,
    StockBalance,
    StockLevel,
    StockMovement,
)

HUNDRED = Decimal("100")


@dataclass(frozen=True, slots=True)
class Atp:
    """Available to promise of one product on one channel.

    ``free = on_hand - held - reserved - safety_stock`` (may be negative:
    safety stock already dipped into). ``available`` applies the channel
    rule: ``clamp(floor((free + inbound) * pct) - keep_back, 0,
    max_listed)``, and 0 when ``free + inbound <= zero_at``.
    """

    product_id: int
    sku: str
    on_hand: int
    held: int
    reserved: int
    safety_stock: int
    free: int
    inbound: int
    available: int


@dataclass(frozen=True, slots=True)
class _Rule:
    allocation_percent: Decimal = HUNDRED
    keep_back: int = 0
    max_listed: int | None = None
    zero_at: int = 0
    include_inbound: bool = False
    inbound_horizon_days: int = 0


def atp_apply_rule(*, free: int, inbound: int, rule: _Rule | ChannelRule) -> int:
    """The channel's share of free stock (store-channels.md §4 formula)."""
    base = free + (inbound if rule.include_inbound else 0)
    if base <= rule.zero_at or base <= 0:
        return 0
    share = (Decimal(base) * rule.allocation_percent / HUNDRED).to_integral_value(ROUND_FLOOR)
    available = max(int(share) - rule.keep_back, 0)
    if rule.max_listed is not None:
        available = min(available, rule.max_listed)
    return available


def atp_for_products(
    *, tenant, channel: str, product_ids=None, today: date | None = None
) -> dict[int, Atp]:
    """ATP of many products (all when ``product_ids`` is None) on ``channel``.

    Three queries whatever the count: levels with their products, the
    channel's rules, and (only when a rule promises inbound) inbound
    supply within the horizon.
    """
    today = today or timezone.now().date()
    levels = StockLevel.objects.filter(tenant=tenant)
    rules = ChannelRule.objects.filter(tenant=tenant, channel=channel)
    if product_ids is not None:
        product_ids = list(product_ids)
        levels = levels.filter(product_id__in=product_ids)
        rules = rules.filter(Q(product__isnull=True) | Q(product_id__in=product_ids))
    rows = levels.values_list(
        "product_id", "product__sku", "on_hand", "held", "reserved", "product__safety_stock"
    )
    default_rule: _Rule | ChannelRule = _Rule()
    product_rules: dict[int, ChannelRule] = {}
    for rule in rules:
        if rule.product_id is None:
            default_rule = rule
        else:
            product_rules[rule.product_id] = rule
    all_rules = [default_rule, *product_rules.values()]
    horizon = max(
        [r.inbound_horizon_days for r in all_rules if r.include_inbound], default=None
    )
    inbound_by_day: dict[int, list[tuple[date, int]]] = defaultdict(list)
    if horizon is not None:
        inbound = InboundSupply.objects.filter(
            tenant=tenant, status=InboundStatus.OPEN,
            expected_on__lte=today + timedelta(days=horizon),
        )
        if product_ids is not None:
            inbound = inbound.filter(product_id__in=product_ids)
        for product_id, expected_on, quantity in (
            inbound.values("product_id", "expected_on").annotate(total=Sum("quantity"))
            .values_list("product_id", "expected_on", "total")
        ):
            inbound_by_day[product_id].append((expected_on, quantity))
    result = {}
    for product_id, sku, on_hand, held, reserved, safety in rows:
        rule = product_rules.get(product_id, default_rule)
        inbound_units = 0
        if rule.include_inbound and product_id in inbound_by_day:
            until = today + timedelta(days=rule.inbound_horizon_days)
            inbound_units = sum(q for day, q in inbound_by_day[product_id] if day <= until)
        free = on_hand - held - reserved - safety
        result[product_id] = Atp(
            product_id=product_id, sku=sku, on_hand=on_hand, held=held, reserved=reserved,
            safety_stock=safety, free=free, inbound=inbound_units,
            available=atp_apply_rule(free=free, inbound=inbound_units, rule=rule),
        )
    return result


def atp_get(*, tenant, channel: str, product_id: int) -> Atp | None:
    return atp_for_products(tenant=tenant, channel=channel, product_ids=[product_id]).get(
        product_id
    )


def stock_level_list(*, tenant, filters: dict | None = None) -> QuerySet[StockLevel]:
    """Stock per product for the overview and the BI API."""
    filters = filters or {}
    queryset = StockLevel.objects.filter(tenant=tenant).select_related(
        "product", "product__supplier"
    )
    if filters.get("q"):
        term = filters["q"]
        queryset = queryset.filter(
            Q(product__sku__icontains=term) | Q(product__name__icontains=term)
            | Q(product__gtin=term) | Q(product__asin=term.upper())
        )
    if filters.get("sku"):
        queryset = queryset.filter(product__sku=filters["sku"])
    if filters.get("supplier"):
        queryset = queryset.filter(product__supplier__code=filters["supplier"])
    state = filters.get("state")
    if state == "out":
        queryset = queryset.filter(on_hand__lte=0)
    elif state == "held":
        queryset = queryset.filter(Q(held__gt=0) | Q(reserved__gt=0))
    elif state == "in":
        queryset = queryset.filter(on_hand__gt=0)
    if filters.get("warehouse"):
        queryset = queryset.filter(
            product__balances__warehouse__code=filters["warehouse"],
            product__balances__on_hand__gt=0,
        ).distinct()
    if "is_active" in filters:
        queryset = queryset.filter(product__is_active=filters["is_active"])
    return queryset.order_by("product__sku", "id")


def stock_balance_list(*, tenant, product_id: int) -> QuerySet[StockBalance]:
    return (
        StockBalance.objects.filter(tenant=tenant, product_id=product_id)
        .select_related("warehouse", "lot")
        .order_by("warehouse__code", "lot__expires_on", "id")
    )


def movement_list(*, tenant, filters: dict | None = None) -> QuerySet[StockMovement]:
    filters = filters or {}
    queryset = StockMovement.objects.filter(tenant=tenant).select_related(
        "product", "warehouse", "lot"
    )
    if filters.get("product_id"):
        queryset = queryset.filter(product_id=filters["product_id"])
    if filters.get("sku"):
        queryset = queryset.filter(product__sku=filters["sku"])
    if filters.get("warehouse"):
        queryset = queryset.filter(warehouse__code=filters["warehouse"])
    if filters.get("kind"):
        queryset = queryset.filter(kind=filters["kind"])
    if filters.get("source_ref"):
        queryset = queryset.filter(source_ref=filters["source_ref"])
    if filters.get("created_after"):
        queryset = queryset.filter(created_at__gte=filters["created_after"])
    if filters.get("created_before"):
        queryset = queryset.filter(created_at__lt=filters["created_before"])
    return queryset.order_by("-created_at", "-id")


def hold_line_list(*, tenant, product_id: int | None = None, active_only: bool = False):
    queryset = HoldLine.objects.filter(tenant=tenant).select_related("hold", "product")
    if product_id is not None:
        queryset = queryset.filter(product_id=product_id)
    if active_only:
        queryset = queryset.filter(hold__status=HoldStatus.ACTIVE, open_quantity__gt=0)
    return queryset.order_by("-created_at", "-id")


def hold_list(*, tenant, filters: dict | None = None) -> QuerySet[Hold]:
    filters = filters or {}
    queryset = Hold.objects.filter(tenant=tenant).prefetch_related("lines__product")
    for key in ("status", "kind", "channel", "source_type", "source_ref"):
        if filters.get(key):
            queryset = queryset.filter(**{key: filters[key]})
    return queryset.order_by("-created_at", "-id")


def hold_event_list(*, tenant, product_id: int) -> QuerySet[HoldEvent]:
    return (
        HoldEvent.objects.filter(tenant=tenant, line__product_id=product_id)
        .select_related("line__hold")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class Mismatch:
    product_id: int
    what: str
    stored: int
    recomputed: int


def stock_consistency_check(*, tenant, product_ids=None) -> list[Mismatch]:
    """Recompute on-hand and promises from their ledgers; list differences.

    Empty means: every balance equals the sum of its movements, every
    level equals the sum of its balances, and held/reserved equal the open
    quantity of active hold lines. Run nightly; a mismatch is a bug.
    """
    def scoped(queryset):
        return queryset if product_ids is None else queryset.filter(product_id__in=product_ids)

    ledger = {
        (row["product_id"], row["warehouse_id"], row["lot_id"]): row["total"]
        for row in scoped(StockMovement.objects.filter(tenant=tenant))
        .values("product_id", "warehouse_id", "lot_id").annotate(total=Sum("quantity"))
    }
    mismatches = []
    per_product: dict[int, int] = defaultdict(int)
    for product_id, warehouse_id, lot_id, on_hand in scoped(
        StockBalance.objects.filter(tenant=tenant)
    ).values_list("product_id", "warehouse_id", "lot_id", "on_hand"):
        per_product[product_id] += on_hand
        recomputed = ledger.pop((product_id, warehouse_id, lot_id), 0)
        if recomputed != on_hand:
            mismatches.append(Mismatch(product_id, f"balance@{warehouse_id}/{lot_id}", on_hand,
                                       recomputed))
    for (product_id, warehouse_id, lot_id), total in ledger.items():
        mismatches.append(Mismatch(product_id, f"balance@{warehouse_id}/{lot_id}", 0, total))
    promised: dict[tuple[int, str], int] = defaultdict(int)
    for product_id, kind, open_quantity in scoped(
        HoldLine.objects.filter(tenant=tenant, hold__status=HoldStatus.ACTIVE)
    ).values_list("product_id", "hold__kind", "open_quantity"):
        column = "reserved" if kind == "reservation" else "held"
        promised[(product_id, column)] += open_quantity
    for product_id, on_hand, held, reserved in scoped(
        StockLevel.objects.filter(tenant=tenant)
    ).values_list("product_id", "on_hand", "held", "reserved"):
        for what, stored, recomputed in (
            ("on_hand", on_hand, per_product.get(product_id, 0)),
            ("held", held, promised.get((product_id, "held"), 0)),
            ("reserved", reserved, promised.get((product_id, "reserved"), 0)),
        ):
            if stored != recomputed:
                mismatches.append(Mismatch(product_id, what, stored, recomputed))
    return mismatches


def inbound_supply_open_by_product(*, tenant, product_ids, until: date) -> dict[int, list]:
    """Open inbound supply due by ``until``, per product, earliest first:
    ``{product_id: [[expected_on, quantity], ...]}`` (one query)."""
    rows = (
        InboundSupply.objects.filter(
            tenant=tenant,
            status=InboundStatus.OPEN,
            product_id__in=list(product_ids),
            expected_on__lte=until,
        )
        .order_by("expected_on", "pk")
        .values_list("product_id", "expected_on", "quantity")
    )
    inbound: dict[int, list] = defaultdict(list)
    for product_id, expected_on, quantity in rows:
        inbound[product_id].append([expected_on, quantity])
    return inbound
