"""Sync runs and the API call log (with CSV export for support)."""

from __future__ import annotations

from django.shortcuts import render
from django.views import View

from acorn.dataio import dataset_response, export_dataset
from acorn.models import Role
from acorn.views import TenantViewMixin
from channels.selectors.observability import api_call_list, api_call_operations, sync_run_list
from channels.views.forms import ApiCallFilterForm, SyncRunFilterForm

# One export holds at most this many rows: a support ticket needs the
# failing calls, not a year of history.
EXPORT_MAX_ROWS = 10_000
EXPORT_COLUMNS = ["created_at", "account", "operation", "method", "path", "status_code",
                  "request_id", "duration_ms", "attempts", "error_code"]


class SyncRunListView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        form = SyncRunFilterForm(request.GET)
        filters = form.cleaned_data if form.is_valid() else {}
        page = self.paginate(request, sync_run_list(tenant=self.tenant, filters=filters))
        return render(request, "channels/sync_run_list.html", {"form": form, "page": page})


class ApiCallListView(TenantViewMixin, View):
    required_role = Role.OPERATIONS

    def get(self, request, tenant_slug):
        form = ApiCallFilterForm(request.GET)
        filters = form.cleaned_data if form.is_valid() else {}
        calls = api_call_list(tenant=self.tenant, filters=filters)
        if request.GET.get("format") == "csv":
            return self._export(calls)
        query = request.GET.copy()
        query.pop("page", None)
        return render(request, "channels/api_call_list.html", {
            "form": form, "page": self.paginate(request, calls),
            "operations": api_call_operations(tenant=self.tenant),
            "query": query.urlencode(),
        })

    def _export(self, calls):
        dataset = export_dataset(headers=EXPORT_COLUMNS, rows=(
            [
                call.created_at.isoformat(), call.account.name, call.operation, call.method,
                call.path, "" if call.status_code is None else call.status_code,
                call.request_id, call.duration_ms, call.attempts, call.error_code,
            ]
            for call in calls[:EXPORT_MAX_ROWS]
        ))
        return dataset_response(dataset, name="amazon-api-calls", file_format="csv")
