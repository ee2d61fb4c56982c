"""Purchase orders for BI tools (read-only; decimals as strings)."""

from __future__ import annotations

from django.http import Http404
from rest_framework import serializers
from rest_framework.response import Response

from acorn.api import TenantAPIView, TenantListAPIView
from acorn.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from channels.models import AckStatus, PurchaseOrderState
from channels.selectors.purchase_orders import (
    purchase_order_get,
    purchase_order_list_with_lines,
)


def _money(**kwargs):
    return serializers.DecimalField(max_digits=MONEY_MAX_DIGITS,
                                    decimal_places=MONEY_DECIMAL_PLACES, **kwargs)


class PurchaseOrderLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item_sequence_number = serializers.CharField()
    asin = serializers.CharField()
    vendor_product_id = serializers.CharField()
    product_sku = serializers.CharField(source="product.sku", default=None, allow_null=True)
    ordered_quantity = serializers.IntegerField()
    order_unit = serializers.CharField()
    units_per_order_unit = serializers.IntegerField()
    net_cost = _money(allow_null=True)
    currency = serializers.CharField()
    planned_accept = serializers.IntegerField()
    planned_backorder = serializers.IntegerField()
    planned_reject = serializers.IntegerField()
    amazon_accepted_quantity = serializers.IntegerField(allow_null=True)
    amazon_rejected_quantity = serializers.IntegerField(allow_null=True)
    cancelled_quantity = serializers.IntegerField()
    shipped_quantity = serializers.IntegerField()
    received_quantity = serializers.IntegerField(allow_null=True)
    receive_status = serializers.CharField()


class PurchaseOrderOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.CharField(source="account.name")
    number = serializers.CharField()
    state = serializers.CharField()
    order_type = serializers.CharField()
    ordered_at = serializers.DateTimeField()
    amazon_changed_at = serializers.DateTimeField(allow_null=True)
    ship_window_start = serializers.DateTimeField(allow_null=True)
    ship_window_end = serializers.DateTimeField(allow_null=True)
    ship_to_party_id = serializers.CharField()
    currency = serializers.CharField()
    total_cost = _money()
    amazon_status = serializers.CharField()
    ack_status = serializers.CharField()
    ack_deadline_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    has_unmapped_lines = serializers.BooleanField()
    changed_after_ack = serializers.BooleanField()
    lines = PurchaseOrderLineOutputSerializer(many=True, source="lines.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PurchaseOrderListApi(TenantListAPIView):
    ordering = ("-created_at", "-id")

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=PurchaseOrderState.choices, required=False)
        ack_status = serializers.ChoiceField(choices=AckStatus.choices, required=False)
        account = serializers.IntegerField(required=False)
        ordered_after = serializers.DateTimeField(required=False)
        ordered_before = serializers.DateTimeField(required=False)
        number = serializers.CharField(required=False)

    OutputSerializer = PurchaseOrderOutputSerializer

    def scoped_queryset(self, filters):
        return purchase_order_list_with_lines(tenant=self.tenant, filters=filters)


class PurchaseOrderDetailApi(TenantAPIView):
    OutputSerializer = PurchaseOrderOutputSerializer

    def get(self, request, purchase_order_id: int):
        purchase_order = purchase_order_get(tenant=self.tenant,
                                            purchase_order_id=purchase_order_id)
        if purchase_order is None:
            raise Http404
        return Response(self.OutputSerializer(purchase_order).data)
