"""Reads of Amazon vendor accounts and SKU mappings."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from channels.models import AmazonVendorAccount, Gs1Settings, SkuMapping


def account_list(*, tenant) -> QuerySet[AmazonVendorAccount]:
    return (
        AmazonVendorAccount.objects.filter(tenant=tenant)
        .annotate(mapping_count=Count("mappings", distinct=True))
        .order_by("name", "id")
    )


def account_get(*, tenant, account_id: int) -> AmazonVendorAccount | None:
    return AmazonVendorAccount.objects.filter(tenant=tenant, pk=account_id).first()


def mapping_list(*, tenant, filters: dict | None = None) -> QuerySet[SkuMapping]:
    filters = filters or {}
    queryset = SkuMapping.objects.filter(tenant=tenant).select_related("account", "product")
    if filters.get("account"):
        queryset = queryset.filter(account_id=filters["account"])
    if filters.get("q"):
        q = filters["q"].strip()
        queryset = queryset.filter(asin__iexact=q) | queryset.filter(
            vendor_product_id__iexact=q
        ) | queryset.filter(product__sku__iexact=q)
    return queryset.order_by("account__name", "asin", "id")


def mapping_get(*, tenant, mapping_id: int) -> SkuMapping | None:
    return (
        SkuMapping.objects.filter(tenant=tenant, pk=mapping_id)
        .select_related("account", "product")
        .first()
    )


def account_setup_status(*, tenant) -> dict[str, bool]:
    """Done-or-not of the Amazon-side steps before a first PO can ship."""
    return {
        "amazon_account_tested": AmazonVendorAccount.objects.filter(
            tenant=tenant, last_connection_test_ok=True
        ).exists(),
        "skus_mapped": SkuMapping.objects.filter(tenant=tenant).exists(),
        "gs1_prefix": Gs1Settings.objects.filter(tenant=tenant).exists(),
    }
