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
from rest_framework.utils.urls import replace_query_param

from acorn.api import TenantAPIView
from channels.selectors.kpis import (
    KpiGranularity,
    kpi_periods_window,
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
    next = serializers.CharField(
        allow_null=True, help_text="The next window of a range longer than 750 periods.")


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
        """KPIs per account over a period (default: the last 30 days).

        With ``granularity``, at most 750 periods per answer; ``next`` reads
        the rest of a longer range. An empty range has no periods."""
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        tenant = self.tenant
        account_id = data.get("account")
        if data.get("granularity") or data.get("start_date") or data.get("end_date"):
            end_day = _clamp_day(data.get("end_date")
                                 or _shift_day(tenant_today(tenant=tenant), days=1))
            start_day = _clamp_day(data.get("start_date")
                                   or _shift_day(end_day, days=-DEFAULT_PERIOD_DAYS))
            if not data.get("granularity"):
                rows = vendor_kpis(tenant=tenant,
                                   period_start=tenant_midnight(tenant=tenant, day=start_day),
                                   period_end=tenant_midnight(tenant=tenant, day=end_day),
                                   account_id=account_id)
                return Response({"results": self.OutputSerializer(rows, many=True).data,
                                 "next": None})
            if end_day <= start_day:
                return Response({"results": [], "next": None})
            window_end, next_start = kpi_periods_window(
                start=start_day, end=end_day, granularity=data["granularity"])
            rows = vendor_kpis_by_period(tenant=tenant, start=start_day, end=window_end,
                                         granularity=data["granularity"], account_id=account_id)
            next_link = None
            if next_start is not None:
                next_link = replace_query_param(
                    replace_query_param(request.build_absolute_uri(), "start_date",
                                        next_start.isoformat()),
                    "end_date", end_day.isoformat())
            return Response({"results": self.OutputSerializer(rows, many=True).data,
                             "next": next_link})
        end = data.get("end") or datetime.datetime.now(tz=datetime.UTC)
        start = data.get("start") or _shift_instant(end, days=-DEFAULT_PERIOD_DAYS)
        rows = vendor_kpis(tenant=self.tenant, period_start=start, period_end=end,
                           account_id=account_id)
        return Response({"results": self.OutputSerializer(rows, many=True).data, "next": None})


# Dates near the ends of the calendar: period arithmetic must not overflow.
FIRST_DAY = datetime.date(1, 1, 1)  # a Monday: weeks and months start there
LAST_DAY = datetime.date(9999, 11, 1)


def _clamp_day(day: datetime.date) -> datetime.date:
    return min(max(day, FIRST_DAY), LAST_DAY)


def _shift_day(day: datetime.date, *, days: int) -> datetime.date:
    try:
        return day + datetime.timedelta(days=days)
    except OverflowError:
        return FIRST_DAY if days < 0 else LAST_DAY


def _shift_instant(moment: datetime.datetime, *, days: int) -> datetime.datetime:
    try:
        return moment + datetime.timedelta(days=days)
    except OverflowError:
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)
