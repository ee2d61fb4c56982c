"""Web-store orders and listings for BI tools (read-only, cursor pages)."""

from __future__ import annotations

from rest_framework import serializers

from acorn.api import TenantListAPIView
from channels.models import ListingMatch, StoreOrderStatus
from channels.selectors.stores import listing_list, store_order_list


class StoreOrderListApi(TenantListAPIView):
    """Store orders with their lines and what inventory holds for them."""

    class FilterSerializer(serializers.Serializer):
        connection = serializers.IntegerField(required=False, min_value=1)
        status = serializers.ChoiceField(choices=StoreOrderStatus.choices, required=False)
        updated_since = serializers.DateTimeField(required=False)

    class OutputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            line_id = serializers.CharField()
            sku = serializers.CharField()
            product_sku = serializers.CharField(source="product.sku", allow_null=True,
                                                default=None)
            quantity = serializers.IntegerField()
            quantity_cancelled = serializers.IntegerField()
            quantity_shipped = serializers.IntegerField()
            reserved_quantity = serializers.IntegerField()
            released_quantity = serializers.IntegerField()
            consumed_quantity = serializers.IntegerField()

        id = serializers.IntegerField()
        connection = serializers.CharField(source="connection.name")
        platform = serializers.CharField(source="connection.platform")
        platform_order_id = serializers.CharField()
        name = serializers.CharField()
        status = serializers.CharField()
        raw_status = serializers.CharField()
        is_test = serializers.BooleanField()
        placed_at = serializers.DateTimeField()
        platform_updated_at = serializers.DateTimeField()
        status_detail = serializers.CharField()
        lines = LineSerializer(many=True)
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

    def scoped_queryset(self, filters):
        return store_order_list(tenant=self.tenant, filters=filters)


class ListingListApi(TenantListAPIView):
    """Store listings, their matched products and the last push."""

    class FilterSerializer(serializers.Serializer):
        connection = serializers.IntegerField(required=False, min_value=1)
        match_state = serializers.ChoiceField(choices=ListingMatch.choices, required=False)
        updated_since = serializers.DateTimeField(required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        connection = serializers.CharField(source="connection.name")
        platform = serializers.CharField(source="connection.platform")
        item_id = serializers.CharField()
        variant_id = serializers.CharField()
        sku = serializers.CharField()
        gtin = serializers.CharField()
        product_sku = serializers.CharField(source="product.sku", allow_null=True, default=None)
        match_state = serializers.CharField()
        last_pushed_ats = serializers.IntegerField(allow_null=True)
        last_pushed_at = serializers.DateTimeField(allow_null=True)
        last_seen_ats = serializers.IntegerField(allow_null=True)
        push_pending = serializers.BooleanField()
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

    def scoped_queryset(self, filters):
        return listing_list(tenant=self.tenant, filters=filters)
