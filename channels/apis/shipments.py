"""Shipments (with items, cartons and pallets) and submissions for BI tools."""

from __future__ import annotations

from rest_framework import serializers

from acorn.api import TenantListAPIView
from channels.models import DocumentType, ShipmentStatus, SubmissionStatus
from channels.selectors.shipments import shipment_list
from channels.selectors.submissions import submission_list


class ShipmentItemOutputSerializer(serializers.Serializer):
    item_sequence_number = serializers.IntegerField()
    purchase_order_number = serializers.CharField(source="po_line.purchase_order.number")
    po_item_sequence_number = serializers.CharField(source="po_line.item_sequence_number")
    asin = serializers.CharField(source="po_line.asin")
    product_sku = serializers.CharField(source="po_line.product.sku", default=None,
                                        allow_null=True)
    quantity = serializers.IntegerField()
    lot_number = serializers.CharField()
    expiry_date = serializers.DateField(allow_null=True)
    country_of_origin = serializers.CharField()


class CartonContentOutputSerializer(serializers.Serializer):
    item_sequence_number = serializers.IntegerField(source="shipment_item.item_sequence_number")
    quantity = serializers.IntegerField()


class CartonOutputSerializer(serializers.Serializer):
    sequence_number = serializers.IntegerField()
    sscc = serializers.CharField()
    pallet_sscc = serializers.CharField(source="pallet.sscc", default=None, allow_null=True)
    weight_kg = serializers.DecimalField(max_digits=10, decimal_places=3, allow_null=True)
    tracking_number = serializers.CharField()
    contents = CartonContentOutputSerializer(many=True, source="contents.all")


class PalletCartonOutputSerializer(serializers.Serializer):
    sequence_number = serializers.IntegerField()
    sscc = serializers.CharField()


class PalletOutputSerializer(serializers.Serializer):
    sequence_number = serializers.IntegerField()
    sscc = serializers.CharField()
    weight_kg = serializers.DecimalField(max_digits=10, decimal_places=3, allow_null=True)
    length_cm = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    width_cm = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    height_cm = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    is_stackable = serializers.BooleanField()
    tier = serializers.IntegerField(allow_null=True)
    block = serializers.IntegerField(allow_null=True)
    cartons = PalletCartonOutputSerializer(many=True, source="cartons.all")


class ShipmentListApi(TenantListAPIView):
    ordering = ("-created_at", "-id")

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ShipmentStatus.choices, required=False)
        ship_to_party_id = serializers.CharField(required=False)
        account = serializers.IntegerField(required=False)
        shipped_after = serializers.DateTimeField(required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        account = serializers.CharField(source="account.name")
        shipment_identifier = serializers.CharField()
        status = serializers.CharField()
        ship_to_party_id = serializers.CharField()
        warehouse = serializers.CharField(source="warehouse.code")
        shipment_type = serializers.CharField()
        shipment_structure = serializers.CharField()
        carrier_scac = serializers.CharField()
        bill_of_lading_number = serializers.CharField()
        carrier_reference_number = serializers.CharField()
        shipped_at = serializers.DateTimeField(allow_null=True)
        estimated_delivery_at = serializers.DateTimeField(allow_null=True)
        asn_version = serializers.IntegerField()
        items = ShipmentItemOutputSerializer(many=True, source="items.all")
        cartons = CartonOutputSerializer(many=True, source="cartons.all")
        pallets = PalletOutputSerializer(many=True, source="pallets.all")
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

    def scoped_queryset(self, *, filters):
        return shipment_list(tenant=self.tenant, filters=filters)


class SubmissionListApi(TenantListAPIView):
    ordering = ("-created_at", "-id")

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=SubmissionStatus.choices, required=False)
        document_type = serializers.ChoiceField(choices=DocumentType.choices, required=False)
        document_ref = serializers.CharField(required=False)
        account = serializers.IntegerField(required=False)
        created_after = serializers.DateTimeField(required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        account = serializers.CharField(source="account.name")
        document_type = serializers.CharField()
        document_ref = serializers.CharField()
        document_version = serializers.IntegerField()
        status = serializers.CharField()
        transaction_id = serializers.CharField()
        request_id = serializers.CharField()
        send_attempts = serializers.IntegerField()
        sent_at = serializers.DateTimeField(allow_null=True)
        completed_at = serializers.DateTimeField(allow_null=True)
        errors = serializers.JSONField()
        status_detail = serializers.CharField()
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

    def scoped_queryset(self, *, filters):
        return submission_list(tenant=self.tenant, filters=filters)
