"""The exceptions work queue: filter, resolve, map and retry."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.exceptions import ApplicationError
from acorn.models import Role
from acorn.views import TenantViewMixin
from channels.models import ExceptionKind, ExceptionStatus
from channels.selectors.exceptions import channel_exception_get, channel_exception_list
from channels.services.exceptions import channel_exception_resolve
from channels.services.mappings import exception_map_and_retry
from channels.views.forms import ExceptionFilterForm, MapAndRetryForm


class ChannelExceptionListView(TenantViewMixin, View):
    required_role = Role.OPERATIONS

    def get(self, request, tenant_slug):
        form = ExceptionFilterForm(request.GET)
        page = self.paginate(
            request, channel_exception_list(tenant=self.tenant, filters=form.filters())
        )
        return render(request, "channels/exception_list.html", {
            "form": form, "page": page, "unmapped": ExceptionKind.UNMAPPED_LINE,
            "open": ExceptionStatus.OPEN,
        })

    def post(self, request, tenant_slug):
        """Resolve one exception by hand."""
        try:
            exception_id = int(request.POST.get("exception_id", ""))
        except ValueError:
            raise Http404("No such exception.") from None
        if channel_exception_get(tenant=self.tenant, exception_id=exception_id) is None:
            raise Http404("No such exception.")
        try:
            channel_exception_resolve(
                tenant=self.tenant, exception_id=exception_id,
                resolution=request.POST.get("resolution", "")[:300], actor=request.user,
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Exception resolved."))
        return redirect("channels:exception_list", tenant_slug=tenant_slug)


class ChannelExceptionMapView(TenantViewMixin, View):
    """Map the unmapped line's ASIN to a product, then retry the PO."""

    required_role = Role.OPERATIONS
    action_role = Role.ADMIN

    def _get(self, exception_id):
        exception = channel_exception_get(tenant=self.tenant, exception_id=exception_id)
        if exception is None or exception.kind != ExceptionKind.UNMAPPED_LINE:
            raise Http404("No such unmapped-line exception.")
        return exception

    def get(self, request, tenant_slug, exception_id, form=None):
        exception = self._get(exception_id)
        return render(request, "channels/exception_map.html", {
            "exception": exception, "form": form or MapAndRetryForm(),
        })

    def post(self, request, tenant_slug, exception_id):
        exception = self._get(exception_id)
        form = MapAndRetryForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, exception_id, form=form)
        try:
            _mapping, unblocked = exception_map_and_retry(
                tenant=self.tenant, exception_id=exception.pk,
                product=form.cleaned_data["sku"], order_unit=form.cleaned_data["order_unit"],
                units_per_order_unit=form.cleaned_data["units_per_order_unit"],
                actor=request.user,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self.get(request, tenant_slug, exception_id, form=form)
        if unblocked:
            messages.success(request, _("Mapped; the purchase order is unblocked and planned."))
        else:
            messages.warning(request, _("Mapped; other lines of the purchase order still "
                                        "need a mapping."))
        return redirect("channels:exception_list", tenant_slug=tenant_slug)
