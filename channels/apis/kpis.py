"""Vendor KPIs per account for BI tools (rates as decimal strings)."""

from __future__ import annotations

import datetime

from rest_framework import serializers
from rest_framework.response import Response

from acorn.api import TenantAPIView
from channels.selectors.kpis import vendor_kpis

DEFAULT_PERIOD_DAYS = 30


def _rate():
    return serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)


class VendorKpiApi(TenantAPIView):
    class FilterSerializer(serializers.Serializer):
        start = serializers.DateTimeField(required=False)
        end = serializers.DateTimeField(required=False)
        account = serializers.IntegerField(required=False)

    class OutputSerializer(serializers.Serializer):
        account_id = serializers.IntegerField()
        account_name = serializers.CharField()
        period_start = serializers.DateTimeField()
        period_end = serializers.DateTimeField()
        pos_due = serializers.IntegerField()
        pos_acknowledged = serializers.IntegerField()
        pos_acknowledged_on_time = serializers.IntegerField()
        confirmation_rate = _rate()
        on_time_acknowledgement_rate = _rate()
        units_ordered = serializers.IntegerField()
        units_accepted = serializers.IntegerField()
        fill_rate = _rate()
        units_shipped_reported = serializers.IntegerField()
        units_received = serializers.IntegerField()
        receipt_rate = _rate()
        shipments = serializers.IntegerField()
        asns_on_time = serializers.IntegerField()
        asn_timeliness_rate = _rate()

    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        end = data.get("end") or datetime.datetime.now(tz=datetime.UTC)
        start = data.get("start") or end - datetime.timedelta(days=DEFAULT_PERIOD_DAYS)
        rows = vendor_kpis(tenant=self.tenant, period_start=start, period_end=end,
                           account_id=data.get("account"))
        return Response({"results": self.OutputSerializer(rows, many=True).data})
