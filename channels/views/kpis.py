"""Vendor KPI page (the same selector as the API).

Dates are the tenant's business days: a period starts at local midnight
in ``Tenant.timezone``.
"""

from __future__ import annotations

import datetime

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.exceptions import ApplicationError
from acorn.views import TenantViewMixin
from channels.selectors.kpis import (
    KpiGranularity,
    tenant_midnight,
    tenant_today,
    vendor_kpis,
    vendor_kpis_by_period,
)

DEFAULT_PERIOD_DAYS = 30


class KpiPeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("Until (exclusive)"), required=False)
    granularity = forms.ChoiceField(label=_("Per"), required=False, choices=[
        ("", _("Whole range")), (KpiGranularity.DAY, _("Day")),
        (KpiGranularity.WEEK, _("Week")), (KpiGranularity.MONTH, _("Month")),
    ])


def kpi_period(data, *, tenant) -> tuple[datetime.date, datetime.date, str]:
    """Start and end dates (tenant-local days, end exclusive) and the
    granularity; by default the last 30 days up to today, whole range."""
    form = KpiPeriodForm(data)
    start = end = None
    granularity = ""
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        granularity = form.cleaned_data["granularity"]
    end = end or tenant_today(tenant=tenant) + datetime.timedelta(days=1)
    start = start or end - datetime.timedelta(days=DEFAULT_PERIOD_DAYS)
    return start, end, granularity


class VendorKpiView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        start, end, granularity = kpi_period(request.GET, tenant=self.tenant)
        error = ""
        try:
            if granularity:
                rows = vendor_kpis_by_period(tenant=self.tenant, start=start, end=end,
                                             granularity=granularity)
            else:
                rows = vendor_kpis(tenant=self.tenant,
                                   period_start=tenant_midnight(tenant=self.tenant, day=start),
                                   period_end=tenant_midnight(tenant=self.tenant, day=end))
        except ApplicationError as failure:
            rows, error = [], failure.message
        return render(request, "channels/vendor_kpis.html", {
            "form": KpiPeriodForm(request.GET or None), "rows": rows, "error": error,
            "start": start, "end": end, "granularity": granularity,
            "timezone_name": self.tenant.timezone or "UTC",
        })
