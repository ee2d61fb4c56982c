"""Sync runs, the API call log and SKU mappings for BI tools."""

from __future__ import annotations

from rest_framework import serializers

from acorn.api import TenantListAPIView
from channels.models import ArchiveDataset, ArchiveStatus, SyncKind, SyncStatus
from channels.selectors.accounts import mapping_list
from channels.selectors.archives import archive_run_list
from channels.selectors.observability import api_call_list, sync_run_list


class SyncRunListApi(TenantListAPIView):
    class FilterSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=SyncKind.choices, required=False)
        status = serializers.ChoiceField(choices=SyncStatus.choices, required=False)
        account = serializers.IntegerField(required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        account = serializers.CharField(source="account.name")
        kind = serializers.CharField()
        status = serializers.CharField()
        started_at = serializers.DateTimeField()
        finished_at = serializers.DateTimeField(allow_null=True)
        window_start = serializers.DateTimeField(allow_null=True)
        window_end = serializers.DateTimeField(allow_null=True)
        counts = serializers.JSONField()
        error_code = serializers.CharField()
        error_message = serializers.CharField()
        request_id = serializers.CharField()
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

    def scoped_queryset(self, filters):
        return sync_run_list(tenant=self.tenant, filters=filters)


class ApiCallListApi(TenantListAPIView):
    class FilterSerializer(serializers.Serializer):
        operation = serializers.CharField(required=False)
        status = serializers.RegexField(r"^(\d{3}|error)$", required=False)
        request_id = serializers.CharField(required=False)
        account = serializers.IntegerField(required=False)
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        account = serializers.CharField(source="account.name")
        operation = serializers.CharField()
        method = serializers.CharField()
        path = serializers.CharField()
        status_code = serializers.IntegerField(allow_null=True)
        request_id = serializers.CharField()
        duration_ms = serializers.IntegerField()
        attempts = serializers.IntegerField()
        error_code = serializers.CharField()
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

    def scoped_queryset(self, filters):
        return api_call_list(tenant=self.tenant, filters=filters)


class SkuMappingListApi(TenantListAPIView):
    class FilterSerializer(serializers.Serializer):
        account = serializers.IntegerField(required=False)
        q = serializers.CharField(required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        account = serializers.CharField(source="account.name")
        asin = serializers.CharField()
        vendor_product_id = serializers.CharField()
        product_sku = serializers.CharField(source="product.sku")
        order_unit = serializers.CharField()
        units_per_order_unit = serializers.IntegerField()
        is_active = serializers.BooleanField()
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

    def scoped_queryset(self, filters):
        return mapping_list(tenant=self.tenant, filters=filters)


class ArchiveRunListApi(TenantListAPIView):
    """Data-retention archives: what was exported, with row count and
    checksum (the files themselves are downloaded from the dashboard)."""

    class FilterSerializer(serializers.Serializer):
        dataset = serializers.ChoiceField(choices=ArchiveDataset.choices, required=False)
        status = serializers.ChoiceField(choices=ArchiveStatus.choices, required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        dataset = serializers.CharField()
        cutoff = serializers.DateTimeField()
        status = serializers.CharField()
        row_count = serializers.IntegerField()
        deleted_count = serializers.IntegerField()
        file_size = serializers.IntegerField()
        sha256 = serializers.CharField()
        started_at = serializers.DateTimeField()
        finished_at = serializers.DateTimeField(allow_null=True)
        error_message = serializers.CharField()
        created_at = serializers.DateTimeField()

    def scoped_queryset(self, filters):
        return archive_run_list(tenant=self.tenant, filters=filters)
