"""Vendor KPI page (the same selector as the API)."""

from __future__ import annotations

import datetime

from django import forms
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.views import TenantViewMixin
from channels.selectors.kpis import vendor_kpis

DEFAULT_PERIOD_DAYS = 30


class KpiPeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("Until (exclusive)"), required=False)


def kpi_period(data) -> tuple[datetime.datetime, datetime.datetime]:
    """The period from start/end dates (UTC days), default the last 30 days."""
    form = KpiPeriodForm(data)
    today = timezone.now().date()
    start = end = None
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    end = end or today + datetime.timedelta(days=1)
    start = start or end - datetime.timedelta(days=DEFAULT_PERIOD_DAYS)

    def at(day):
        return datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=datetime.UTC)

    return at(start), at(end)


class VendorKpiView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        start, end = kpi_period(request.GET)
        return render(request, "channels/vendor_kpis.html", {
            "form": KpiPeriodForm(request.GET or None),
            "rows": vendor_kpis(tenant=self.tenant, period_start=start, period_end=end),
            "start": start, "end": end,
        })
