"""Deductions and disputes for BI tools (read-only; decimals as strings)."""

from __future__ import annotations

from rest_framework import serializers

from acorn.api import TenantListAPIView
from reconciliation import deduction_selectors as selectors
from reconciliation.deduction_models import DeductionStatus, DeductionType


def _money(**kwargs):
    return serializers.DecimalField(max_digits=18, decimal_places=4, **kwargs)


class DeductionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    deduction_type = serializers.CharField()
    chargeback_type = serializers.CharField(source="chargeback_type.code", default=None)
    status = serializers.CharField()
    currency = serializers.CharField()
    amount = _money()
    amount_disputed = _money()
    amount_recovered = _money()
    amount_open = _money()
    invoice_id = serializers.IntegerField(allow_null=True)
    invoice_number = serializers.CharField()
    purchase_order_number = serializers.CharField()
    remittance_line_id = serializers.IntegerField(allow_null=True)
    claim_date = serializers.DateField()
    invoice_due_date = serializers.DateField(allow_null=True)
    dispute_opens_on = serializers.DateField(allow_null=True)
    dispute_due_date = serializers.DateField()
    lookback_until = serializers.DateField(allow_null=True)
    dispute_reference = serializers.CharField()
    disputed_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class _Filters(serializers.Serializer):
    deduction_type = serializers.ChoiceField(choices=DeductionType.choices, required=False)
    status = serializers.ChoiceField(choices=DeductionStatus.choices, required=False)
    currency = serializers.CharField(required=False, max_length=3)
    invoice_number = serializers.CharField(required=False, max_length=120)
    updated_since = serializers.DateTimeField(required=False)


class DeductionListApi(TenantListAPIView):
    FilterSerializer = _Filters
    OutputSerializer = DeductionOutputSerializer

    def scoped_queryset(self, filters):
        return selectors.deduction_list(tenant=self.tenant, filters=filters)


class DisputeListApi(TenantListAPIView):
    """Deductions that were disputed (any outcome), with amounts recovered."""

    FilterSerializer = _Filters
    OutputSerializer = DeductionOutputSerializer

    def scoped_queryset(self, filters):
        return selectors.dispute_list(tenant=self.tenant, filters=filters)
