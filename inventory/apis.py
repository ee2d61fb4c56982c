"""Read endpoints for BI tools (API keys; decimals as strings)."""

from __future__ import annotations

from django.http import Http404
from rest_framework import serializers
from rest_framework.response import Response

from acorn.api import TenantAPIView, TenantListAPIView
from inventory import selectors
from inventory.models import MovementKind, PlanStatus


class ProductOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    gtin = serializers.CharField()
    asin = serializers.CharField()
    case_pack = serializers.IntegerField()
    unit_size = serializers.CharField()
    weight_grams = serializers.DecimalField(max_digits=12, decimal_places=3, allow_null=True)
    hs_code = serializers.CharField()
    country_of_origin = serializers.CharField()
    is_lot_tracked = serializers.BooleanField()
    safety_stock = serializers.IntegerField()
    supplier_code = serializers.CharField(source="supplier.code", default="")
    moq_units = serializers.IntegerField(allow_null=True)
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ProductListApi(TenantListAPIView):
    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False)
        sku = serializers.CharField(required=False)
        asin = serializers.CharField(required=False)
        supplier = serializers.CharField(required=False)
        is_active = serializers.BooleanField(required=False, default=None, allow_null=True)
        updated_after = serializers.DateTimeField(required=False)

    OutputSerializer = ProductOutputSerializer

    def scoped_queryset(self, filters):
        return selectors.product_list(tenant=self.tenant, filters=filters)


class ProductDetailApi(TenantAPIView):
    OutputSerializer = ProductOutputSerializer

    def get(self, request, product_id: int):
        product = selectors.product_get(tenant=self.tenant, product_id=product_id)
        if product is None:
            raise Http404
        return Response(self.OutputSerializer(product).data)


class StockListApi(TenantListAPIView):
    """On hand and promised units per product (all locations)."""

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False)
        sku = serializers.CharField(required=False)
        supplier = serializers.CharField(required=False)
        warehouse = serializers.CharField(required=False)
        state = serializers.ChoiceField(choices=["in", "out", "held"], required=False)

    class OutputSerializer(serializers.Serializer):
        # The stock row's own id: incremental loads resume from (updated_at, id).
        id = serializers.IntegerField()
        product_id = serializers.IntegerField()
        sku = serializers.CharField(source="product.sku")
        name = serializers.CharField(source="product.name")
        on_hand = serializers.IntegerField()
        held = serializers.IntegerField()
        reserved = serializers.IntegerField()
        safety_stock = serializers.IntegerField(source="product.safety_stock")
        free = serializers.SerializerMethodField()
        updated_at = serializers.DateTimeField()

        def get_free(self, level) -> int:
            return max(level.on_hand - level.held - level.reserved - level.product.safety_stock, 0)

    def scoped_queryset(self, filters):
        return selectors.stock_level_list(tenant=self.tenant, filters=filters)


class MovementListApi(TenantListAPIView):
    class FilterSerializer(serializers.Serializer):
        sku = serializers.CharField(required=False)
        product_id = serializers.IntegerField(required=False)
        warehouse = serializers.CharField(required=False)
        kind = serializers.ChoiceField(choices=MovementKind.choices, required=False)
        source_ref = serializers.CharField(required=False)
        created_after = serializers.DateTimeField(required=False)
        created_before = serializers.DateTimeField(required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        sku = serializers.CharField(source="product.sku")
        warehouse = serializers.CharField(source="warehouse.code")
        lot = serializers.CharField(source="lot.number", default="")
        kind = serializers.CharField()
        quantity = serializers.IntegerField()
        counted_quantity = serializers.IntegerField(allow_null=True)
        source_type = serializers.CharField()
        source_ref = serializers.CharField()
        reason = serializers.CharField()
        actor = serializers.CharField(source="actor_label")
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

    def scoped_queryset(self, filters):
        return selectors.movement_list(tenant=self.tenant, filters=filters)


class PurchasePlanListApi(TenantListAPIView):
    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=PlanStatus.choices, required=False)
        supplier = serializers.CharField(required=False)
        sku = serializers.CharField(required=False)
        to_order = serializers.BooleanField(required=False, default=None, allow_null=True)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        sku = serializers.CharField(source="product.sku")
        supplier_code = serializers.CharField(source="product.supplier.code", default="")
        status = serializers.CharField()
        weekly_demand = serializers.DecimalField(max_digits=14, decimal_places=4)
        weekly_sigma = serializers.DecimalField(max_digits=14, decimal_places=4)
        lead_time_days = serializers.IntegerField()
        safety_stock = serializers.IntegerField()
        reorder_point = serializers.IntegerField()
        stock_position = serializers.IntegerField()
        suggested_quantity = serializers.IntegerField()
        suggested_order_on = serializers.DateField(allow_null=True)
        reasoning = serializers.CharField()
        updated_at = serializers.DateTimeField()

    def scoped_queryset(self, filters):
        return selectors.purchase_plan_list(tenant=self.tenant, filters=filters)
