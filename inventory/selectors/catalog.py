"""Reads of the catalog, the purchase plan and the home page cards."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from inventory.models import (
    AmazonForecast,
    AtpChange,
    ChannelRule,
    InboundStatus,
    InboundSupply,
    PlanStatus,
    Product,
    PurchasePlanLine,
    StockLevel,
    Supplier,
    Warehouse,
)


def product_list(*, tenant, filters: dict | None = None) -> QuerySet[Product]:
    filters = filters or {}
    queryset = Product.objects.filter(tenant=tenant).select_related("supplier")
    if filters.get("q"):
        term = filters["q"]
        queryset = queryset.filter(
            Q(sku__icontains=term) | Q(name__icontains=term) | Q(gtin=term) | Q(asin=term.upper())
        )
    if filters.get("sku"):
        queryset = queryset.filter(sku=filters["sku"])
    if filters.get("asin"):
        queryset = queryset.filter(asin=filters["asin"])
    if filters.get("supplier"):
        queryset = queryset.filter(supplier__code=filters["supplier"])
    if "is_active" in filters:
        queryset = queryset.filter(is_active=filters["is_active"])
    if filters.get("updated_after"):
        queryset = queryset.filter(updated_at__gte=filters["updated_after"])
    return queryset.order_by("sku", "id")


def product_get(*, tenant, product_id: int) -> Product | None:
    return Product.objects.filter(tenant=tenant, pk=product_id).select_related("supplier").first()


def stock_level_get(*, tenant, product_id: int) -> StockLevel | None:
    return StockLevel.objects.filter(tenant=tenant, product_id=product_id).first()


def warehouse_list(*, tenant) -> QuerySet[Warehouse]:
    return Warehouse.objects.filter(tenant=tenant).order_by("code", "id")


def supplier_list(*, tenant) -> QuerySet[Supplier]:
    return Supplier.objects.filter(tenant=tenant).order_by("code", "id")


def purchase_plan_list(*, tenant, filters: dict | None = None) -> QuerySet[PurchasePlanLine]:
    filters = filters or {}
    queryset = PurchasePlanLine.objects.filter(tenant=tenant).select_related(
        "product", "product__supplier"
    )
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("to_order"):
        queryset = queryset.filter(suggested_quantity__gt=0)
    if filters.get("supplier"):
        queryset = queryset.filter(product__supplier__code=filters["supplier"])
    if filters.get("sku"):
        queryset = queryset.filter(product__sku=filters["sku"])
    return queryset.order_by("suggested_order_on", "product__sku", "id")


def forecast_list(*, tenant, asin: str) -> QuerySet[AmazonForecast]:
    return AmazonForecast.objects.filter(tenant=tenant, asin=asin).order_by("week_start", "id")


def overview_cards(*, tenant) -> list[dict]:
    """Home card data: stock-outs, promised units, orders to place, outbox
    (codes, counts and pages; acorn/overview.py gives them words)."""
    levels = StockLevel.objects.filter(tenant=tenant, product__is_active=True)
    out = levels.filter(on_hand__lte=0).count()
    promised = levels.filter(Q(held__gt=0) | Q(reserved__gt=0)).count()
    to_order = PurchasePlanLine.objects.filter(
        tenant=tenant, status=PlanStatus.PROPOSED, suggested_quantity__gt=0
    ).count()
    pending = AtpChange.objects.filter(tenant=tenant).count()
    return [
        {"code": "out_of_stock", "value": out, "url_name": "inventory:stock_list",
         "query": "state=out", "tone": "warning" if out else "ok"},
        {"code": "promised", "value": promised, "url_name": "inventory:stock_list",
         "query": "state=held", "tone": "info"},
        {"code": "to_order", "value": to_order, "url_name": "inventory:purchase_plan",
         "query": "status=proposed&to_order=1", "tone": "warning" if to_order else "ok"},
        {"code": "atp_changes_pending", "value": pending, "url_name": "inventory:stock_list",
         "tone": "info"},
    ]


def channel_rule_list(*, tenant) -> QuerySet[ChannelRule]:
    """Every channel's rules: the default (no product) first, then by SKU."""
    return (
        ChannelRule.objects.filter(tenant=tenant)
        .select_related("product")
        .order_by("channel", F("product__sku").asc(nulls_first=True), "id")
    )


def inbound_supply_list(*, tenant, filters: dict | None = None) -> QuerySet[InboundSupply]:
    filters = filters or {}
    queryset = InboundSupply.objects.filter(tenant=tenant).select_related("product", "warehouse")
    status = filters.get("status", InboundStatus.OPEN)
    if status:
        queryset = queryset.filter(status=status)
    if filters.get("q"):
        term = filters["q"]
        queryset = queryset.filter(Q(reference__icontains=term) | Q(product__sku__icontains=term))
    return queryset.order_by("expected_on", "id")


def setup_status(*, tenant) -> dict[str, bool]:
    """Done-or-not of the stock-side steps before a first PO can ship."""
    return {
        "warehouse": Warehouse.objects.filter(tenant=tenant, is_active=True).exists(),
        "stock_loaded": StockLevel.objects.filter(tenant=tenant, on_hand__gt=0).exists(),
    }


def product_ids_by_sku_and_gtin(
    *, tenant, skus, gtins
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Product ids per SKU and per GTIN (lists: a duplicate is a conflict
    the caller reports), two queries, for matching store listings."""
    skus = [s for s in skus if s]
    gtins = [g for g in gtins if g]
    by_sku: dict[str, list[int]] = {}
    by_gtin: dict[str, list[int]] = {}
    if skus:
        for product_id, sku in Product.objects.filter(tenant=tenant, sku__in=skus).values_list(
            "id", "sku"
        ):
            by_sku.setdefault(sku, []).append(product_id)
    if gtins:
        for product_id, gtin in Product.objects.filter(
            tenant=tenant, gtin__in=gtins
        ).values_list("id", "gtin"):
            by_gtin.setdefault(gtin, []).append(product_id)
    return by_sku, by_gtin
