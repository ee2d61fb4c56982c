"""Vendor KPIs per account for BI tools (rates as decimal strings).

``start``/``end`` are exact instants; ``start_date``/``end_date`` are the
tenant's business days (local midnight in ``Tenant.timezone``), and with
``granularity`` (day, week, month) one row per period and account.
"""

from __future__ import annotations

import datetime

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response

from acorn.api import TenantAPIView
from channels.selectors.kpis import (
    KpiGranularity,
    tenant_midnight,
    tenant_today,
    vendor_kpis,
    vendor_kpis_by_period,
)

DEFAULT_PERIOD_DAYS = 30


def _rate():
    return serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)


@extend_schema_serializer(component_name="VendorKpi")
class VendorKpiOutputSerializer(serializers.Serializer):
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


@extend_schema_serializer(component_name="VendorKpiResults")
class VendorKpiResultsSerializer(serializers.Serializer):
    """The answer: one row per account (and per period with granularity)."""

    results = VendorKpiOutputSerializer(many=True)


class VendorKpiApi(TenantAPIView):
    class FilterSerializer(serializers.Serializer):
        start = serializers.DateTimeField(required=False)
        end = serializers.DateTimeField(required=False)
        start_date = serializers.DateField(required=False)
        end_date = serializers.DateField(required=False)
        granularity = serializers.ChoiceField(choices=[g.value for g in KpiGranularity],
                                              required=False)
        account = serializers.IntegerField(required=False)

    OutputSerializer = VendorKpiOutputSerializer

    @extend_schema(parameters=[FilterSerializer], responses=VendorKpiResultsSerializer)
    def get(self, request):
        """KPIs per account over a period (default: the last 30 days)."""
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        tenant = self.tenant
        if data.get("granularity") or data.get("start_date") or data.get("end_date"):
            end_day = data.get("end_date") or tenant_today(tenant=tenant) + datetime.timedelta(
                days=1)
            start_day = data.get("start_date") or end_day - datetime.timedelta(
                days=DEFAULT_PERIOD_DAYS)
            if data.get("granularity"):
                rows = vendor_kpis_by_period(tenant=tenant, start=start_day, end=end_day,
                                             granularity=data["granularity"],
                                             account_id=data.get("account"))
            else:
                rows = vendor_kpis(tenant=tenant,
                                   period_start=tenant_midnight(tenant=tenant, day=start_day),
                                   period_end=tenant_midnight(tenant=tenant, day=end_day),
                                   account_id=data.get("account"))
            return Response({"results": self.OutputSerializer(rows, many=True).data})
        end = data.get("end") or datetime.datetime.now(tz=datetime.UTC)
        start = data.get("start") or end - datetime.timedelta(days=DEFAULT_PERIOD_DAYS)
        rows = vendor_kpis(tenant=self.tenant, period_start=start, period_end=end,
                           account_id=data.get("account"))
        return Response({"results": self.OutputSerializer(rows, many=True).data})
