"""Remittances (payments with lines and matches) and open items for BI."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.response import Response

from acorn.api import TenantAPIView, TenantListAPIView
from reconciliation import selectors

MONEY = {"max_digits": 18, "decimal_places": 4, "coerce_to_string": True}


class RemittanceListApi(TenantListAPIView):
    """Payments with their lines and each line's live match (money as
    decimal strings; sums only ever per currency)."""

    class FilterSerializer(serializers.Serializer):
        currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False)
        account = serializers.IntegerField(required=False, min_value=1)

    class MatchSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        invoice_id = serializers.IntegerField()
        amount = serializers.DecimalField(**MONEY)
        method = serializers.CharField()
        confidence = serializers.DecimalField(max_digits=4, decimal_places=3,
                                              coerce_to_string=True)
        status = serializers.CharField()

    class LineSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        line_number = serializers.IntegerField()
        invoice_number = serializers.CharField(source="invoice_number_raw")
        base_invoice_number = serializers.CharField()
        kind = serializers.CharField()
        description = serializers.CharField()
        invoice_date = serializers.DateField(allow_null=True)
        purchase_order_number = serializers.CharField()
        amount_paid = serializers.DecimalField(**MONEY)
        discount_taken = serializers.DecimalField(**MONEY)
        gross_amount = serializers.DecimalField(allow_null=True, **MONEY)
        matches = serializers.SerializerMethodField()

        def get_matches(self, line) -> list[dict]:
            return RemittanceListApi.MatchSerializer(line.live_matches, many=True).data

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        payment_number = serializers.CharField()
        payment_date = serializers.DateField(allow_null=True)
        source_type = serializers.CharField()
        account_id = serializers.IntegerField(allow_null=True)
        currency = serializers.CharField()
        amount = serializers.DecimalField(**MONEY)
        lines_total = serializers.DecimalField(**MONEY)
        is_balanced = serializers.BooleanField()
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()
        lines = serializers.SerializerMethodField()

        def get_lines(self, payment) -> list[dict]:
            return RemittanceListApi.LineSerializer(payment.lines.all(), many=True).data

    def scoped_queryset(self, filters):
        queryset = selectors.payment_list(
            tenant=self.tenant, currency=filters.get("currency", ""),
            account_id=filters.get("account"))
        return selectors.payment_with_lines(tenant=self.tenant, payment_queryset=queryset)


class OpenItemSerializer(serializers.Serializer):
    invoice_id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.CharField()
    account_id = serializers.IntegerField()
    currency = serializers.CharField()
    issue_date = serializers.DateField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    amount = serializers.DecimalField(**MONEY)
    paid = serializers.DecimalField(**MONEY)
    deducted = serializers.DecimalField(**MONEY)
    discount = serializers.DecimalField(**MONEY)
    balance = serializers.DecimalField(**MONEY)
    age_days = serializers.IntegerField()
    bucket = serializers.CharField()


class OpenItemListApi(TenantAPIView):
    """Open items per invoice/credit note: amount, paid, deducted, discount,
    balance, age and ageing bucket. ``offset``/``limit`` page the list."""

    class FilterSerializer(serializers.Serializer):
        currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False)
        account = serializers.IntegerField(required=False, min_value=1)
        as_of = serializers.DateField(required=False)
        offset = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1,
                                          default=0)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=1000,
                                         default=200)

    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        next_offset = serializers.IntegerField(allow_null=True)
        results = OpenItemSerializer(many=True)

    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        items = selectors.open_items(tenant=self.tenant, account_id=data.get("account"),
                                     currency=data.get("currency", ""),
                                     as_of=data.get("as_of"))
        offset, limit = data["offset"], data["limit"]
        page = items[offset: offset + limit]
        return Response({
            "count": len(items),
            "next_offset": offset + limit if offset + limit < len(items) else None,
            "results": OpenItemSerializer(page, many=True).data,
        })
