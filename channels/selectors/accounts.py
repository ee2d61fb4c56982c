"""Reads of Amazon vendor accounts and SKU mappings."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from channels.models import AccountStatus, AmazonVendorAccount, Gs1Settings, SkuMapping
from channels.services.accounts import (
    SECRET_EXPIRY_REMINDER_DAYS,
    SECRET_ROTATION_REMINDER_DAY,
)


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
def account_secret_rotation_due_count(*, tenant, today=None) -> int:
    """Accounts whose LWA client secret is at day 150 of Amazon's 180 or
    later (the same rule as ``account_secret_expiry_check``), one query."""



    today = today or timezone.now().date()
    remind_after = today - datetime.timedelta(days=SECRET_ROTATION_REMINDER_DAY)
    due = (
        Q(lwa_client_secret_expires_on__lte=today + datetime.timedelta(
            days=SECRET_EXPIRY_REMINDER_DAYS))
        | Q(lwa_client_secret_expires_on__isnull=True,
            lwa_client_secret_entered_on__lte=remind_after)
        | Q(lwa_client_secret_expires_on__isnull=True, lwa_client_secret_entered_on__isnull=True,
            created_at__date__lte=remind_after)
    )
    return (
        AmazonVendorAccount.objects.filter(tenant=tenant).filter(due)
        .exclude(status=AccountStatus.DISABLED).count()
    )
