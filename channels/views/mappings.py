"""SKU mappings (admins): list + create, edit/delete, import, export."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.dataio import dataset_response
from acorn.dataio.jobs import import_upload
from acorn.dataio.uploads import BoundedUploadMixin, upload_too_large_message
from acorn.exceptions import ApplicationError
from acorn.models import ImportJob
from channels.selectors.accounts import account_get, account_list, mapping_get, mapping_list
from channels.services.mappings import (
    mapping_create,
    mapping_delete,
    mapping_export_dataset,
    mapping_update,
)
from channels.views.accounts import AdminOnlyMixin
from channels.views.forms import ImportForm, MappingForm


class MappingListView(AdminOnlyMixin, View):
    def get(self, request, tenant_slug, form=None):
        filters = {"q": request.GET.get("q", ""), "account": request.GET.get("account") or None}
        accounts = account_list(tenant=self.tenant)
        return render(request, "channels/mapping_list.html", {
            "page": self.paginate(request, mapping_list(tenant=self.tenant, filters=filters)),
            "filters": filters, "form": form or MappingForm(accounts=accounts),
        })

    def post(self, request, tenant_slug):
        accounts = account_list(tenant=self.tenant)
        form = MappingForm(request.POST, accounts=accounts)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        data = form.cleaned_data
        account = account_get(tenant=self.tenant, account_id=data["account"])
        if account is None:
            raise Http404("No such account.")
        try:
            mapping_create(
                tenant=self.tenant, account=account, asin=data["asin"], product=data["sku"],
                vendor_product_id=data["vendor_product_id"], order_unit=data["order_unit"],
                units_per_order_unit=data["units_per_order_unit"], actor=request.user,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self.get(request, tenant_slug, form=form)
        messages.success(request, _("SKU mapping created."))
        return redirect("channels:mapping_list", tenant_slug=tenant_slug)


class MappingEditView(AdminOnlyMixin, View):
    def _mapping(self, mapping_id):
        mapping = mapping_get(tenant=self.tenant, mapping_id=mapping_id)
        if mapping is None:
            raise Http404("No such mapping.")
        return mapping

    def get(self, request, tenant_slug, mapping_id, form=None):
        mapping = self._mapping(mapping_id)
        accounts = [mapping.account]
        form = form or MappingForm(accounts=accounts, initial={
            "account": mapping.account_id, "asin": mapping.asin,
            "vendor_product_id": mapping.vendor_product_id, "sku": mapping.product.sku,
            "order_unit": mapping.order_unit,
            "units_per_order_unit": mapping.units_per_order_unit,
            "is_active": mapping.is_active,
        })
        return render(request, "channels/mapping_form.html", {"form": form, "mapping": mapping})

    def post(self, request, tenant_slug, mapping_id):
        mapping = self._mapping(mapping_id)
        if "delete" in request.POST:
            mapping_delete(tenant=self.tenant, mapping=mapping, actor=request.user)
            messages.success(request, _("SKU mapping deleted."))
            return redirect("channels:mapping_list", tenant_slug=tenant_slug)
        form = MappingForm(request.POST, accounts=[mapping.account])
        if not form.is_valid():
            return self.get(request, tenant_slug, mapping_id, form=form)
        data = form.cleaned_data
        try:
            mapping_update(tenant=self.tenant, mapping=mapping, actor=request.user, data={
                "asin": data["asin"], "vendor_product_id": data["vendor_product_id"],
                "product": data["sku"], "order_unit": data["order_unit"],
                "units_per_order_unit": data["units_per_order_unit"],
                "is_active": data["is_active"],
            })
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self.get(request, tenant_slug, mapping_id, form=form)
        messages.success(request, _("SKU mapping saved."))
        return redirect("channels:mapping_list", tenant_slug=tenant_slug)


class MappingImportView(BoundedUploadMixin, AdminOnlyMixin, View):
    def get(self, request, tenant_slug):
        return render(request, "channels/mapping_import.html", {"form": ImportForm()})

    def post(self, request, tenant_slug):
        form = ImportForm(request.POST, request.FILES)
        if too_large := upload_too_large_message(request):
            form = ImportForm(request.POST)
            form.add_error(None, too_large)
            return render(request, "channels/mapping_import.html", {"form": form})
        if not form.is_valid():
            return render(request, "channels/mapping_import.html", {"form": form})
        try:
            outcome = import_upload(
                tenant=self.tenant, kind="channels.sku_mappings", upload=form.cleaned_data["file"],
                apply=form.cleaned_data["apply"], actor=request.user,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
            return render(request, "channels/mapping_import.html", {"form": form})
        if isinstance(outcome, ImportJob):
            messages.info(request, _("The file is large: the import runs in the background."))
            return redirect("import_job_detail", tenant_slug=tenant_slug, job_id=outcome.pk)
        if outcome.applied:
            messages.success(request, _("Import applied."))
        elif outcome.has_errors:
            messages.error(request, _("Nothing was imported: fix the rows with errors."))
        else:
            messages.info(request, _("Dry run: nothing was written yet."))
        return render(request, "channels/mapping_import.html", {"form": form, "result": outcome})


class MappingExportView(AdminOnlyMixin, View):
    def get(self, request, tenant_slug):
        return dataset_response(mapping_export_dataset(tenant=self.tenant), name="sku-mappings",
                                file_format=request.GET.get("format", "csv"))
