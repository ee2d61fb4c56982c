"""Dashboard pages for deductions, disputes, evidence, returns and the
dispute settings (thin: selectors read, services write)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from acorn.exceptions import ApplicationError
from acorn.models import Role
from acorn.views import TenantViewMixin
from reconciliation import deduction_selectors as selectors
from reconciliation.deduction_models import (
    DeductionStatus,
    DeductionType,
    DisputeSettings,
    EvidenceKind,
    ReturnSource,
)
from reconciliation.services import deductions as deduction_services
from reconciliation.services import disputes as dispute_services
from reconciliation.services import evidence as evidence_services
from reconciliation.services import returns as return_services


class ReconciliationOverviewView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        return render(request, "reconciliation/overview.html", {
            "months": selectors.reconciliation_overview(tenant=self.tenant),
            "open_totals": selectors.open_deductions_totals(tenant=self.tenant),
            "by_type": selectors.deductions_by_type(tenant=self.tenant),
        })


class DeductionFilterForm(forms.Form):
    deduction_type = forms.ChoiceField(
        label=gettext_lazy("Type"), required=False,
        choices=[("", gettext_lazy("Any"))] + DeductionType.choices)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False,
                               choices=[("", gettext_lazy("Any"))] + DeductionStatus.choices)
    currency = forms.CharField(label=gettext_lazy("Currency"), required=False, max_length=3)


class DeductionListView(TenantViewMixin, View):
    template = "reconciliation/deduction_list.html"
    queue = False

    def get(self, request, tenant_slug):
        form = DeductionFilterForm(request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        reader = selectors.dispute_queue if self.queue else selectors.deduction_list
        queryset = reader(tenant=self.tenant, filters=filters)
        if not self.queue:
            queryset = queryset.order_by("-claim_date", "-id")
        return render(request, self.template, {"form": form, "queue": self.queue,
                                               "page": self.paginate(request, queryset)})


class DisputeQueueView(DeductionListView):
    queue = True


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("New status"), choices=DeductionStatus.choices)
    amount_disputed = forms.DecimalField(label=gettext_lazy("Amount disputed"), required=False,
                                         min_value=0, max_digits=18, decimal_places=4)
    amount_recovered = forms.DecimalField(label=gettext_lazy("Amount recovered"), required=False,
                                          min_value=0, max_digits=18, decimal_places=4)
    dispute_reference = forms.CharField(label=gettext_lazy("Case / dispute ID"), required=False,
                                        max_length=80)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=EvidenceKind.choices)
    file = forms.FileField(label=gettext_lazy("File (PDF, PNG, JPEG, TIFF; at most 10 MB)"))


class _DeductionMixin(TenantViewMixin):
    def _deduction(self, deduction_id):
        deduction = selectors.deduction_get(tenant=self.tenant, deduction_id=deduction_id)
        if deduction is None:
            raise Http404("No such deduction.")
        return deduction


class DeductionDetailView(_DeductionMixin, View):

    def get(self, request, tenant_slug, deduction_id, status_form=None, evidence_form=None):
        deduction = self._deduction(deduction_id)
        return render(request, "reconciliation/deduction_detail.html", {
            "deduction": deduction,
            "pack": selectors.evidence_pack(tenant=self.tenant, deduction=deduction),
            "status_form": status_form or StatusForm(initial={"status": deduction.status}),
            "evidence_form": evidence_form or EvidenceForm(),
        })

    def post(self, request, tenant_slug, deduction_id):
        form = StatusForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, deduction_id, status_form=form)
        try:
            dispute_services.deduction_status_set(tenant=self.tenant, deduction_id=deduction_id,
                                                  actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
            return self.get(request, tenant_slug, deduction_id, status_form=form)
        messages.success(request, _("Status saved."))
        return redirect("reconciliation:deduction_detail", tenant_slug=tenant_slug,
                        deduction_id=deduction_id)


class EvidenceUploadView(DeductionDetailView):
    def get(self, request, tenant_slug, deduction_id, **kwargs):
        return redirect("reconciliation:deduction_detail", tenant_slug=tenant_slug,
                        deduction_id=deduction_id)

    def post(self, request, tenant_slug, deduction_id):
        deduction = self._deduction(deduction_id)
        form = EvidenceForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > evidence_services.MAX_EVIDENCE_BYTES:
                form.add_error("file", _("The file is larger than %(limit)d MB.") % {
                    "limit": evidence_services.MAX_EVIDENCE_BYTES // (1024 * 1024)})
            else:
                try:
                    evidence_services.evidence_upload(
                        tenant=self.tenant, deduction_id=deduction.pk,
                        kind=form.cleaned_data["kind"], data=upload.read(),
                        filename=upload.name, actor=request.user)
                except ApplicationError as exc:
                    form.add_error("file", str(exc))
        if form.errors:
            return DeductionDetailView.get(self, request, tenant_slug, deduction_id,
                                           evidence_form=form)
        messages.success(request, _("Evidence uploaded."))
        return redirect("reconciliation:deduction_detail", tenant_slug=tenant_slug,
                        deduction_id=deduction_id)


class EvidenceDownloadView(_DeductionMixin, View):
    http_method_names = ["get", "head"]

    def get(self, request, tenant_slug, deduction_id, document_id):
        deduction = self._deduction(deduction_id)
        document = next((d for d in deduction.evidence.all() if d.pk == document_id), None)
        if document is None:
            raise Http404("No such document.")
        return FileResponse(document.file.open("rb"), as_attachment=True,
                            filename=document.original_name, content_type=document.content_type)


class EvidencePackZipView(_DeductionMixin, View):
    http_method_names = ["get", "head"]

    def get(self, request, tenant_slug, deduction_id):
        deduction = self._deduction(deduction_id)
        pack = selectors.evidence_pack(tenant=self.tenant, deduction=deduction,
                                       with_pdf_bytes=True)
        data = evidence_services.evidence_zip(pack=pack, documents=list(deduction.evidence.all()))
        response = HttpResponse(data, content_type="application/zip")
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in deduction.reference)
        response["Content-Disposition"] = f'attachment; filename="evidence-{safe}.zip"'
        return response


class DisputeSettingsForm(forms.ModelForm):
    class Meta:
        model = DisputeSettings
        fields = ["shortage_window_days", "shortage_wait_days", "price_claim_window_days",
                  "chargeback_window_days", "coop_window_days", "other_window_days",
                  "lookback_months", "alert_days_before", "alert_threshold",
                  "default_payment_days"]


class ChargebackTypeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=40)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    category = forms.CharField(label=gettext_lazy("Category"), max_length=60, required=False)
    keywords = forms.CharField(
        label=gettext_lazy("Keywords in remittance descriptions (comma-separated)"),
        max_length=300, required=False)


class MarketplaceLookbackForm(forms.Form):
    marketplace_id = forms.CharField(label=gettext_lazy("Marketplace ID"), max_length=20)
    lookback_months = forms.IntegerField(
        label=gettext_lazy("Lookback (months; empty removes it)"), required=False,
        min_value=1, max_value=120)


class DisputeSettingsView(TenantViewMixin, View):
    required_role = Role.ADMIN
    action_role = Role.ADMIN

    def get(self, request, tenant_slug, form=None, type_form=None, lookback_form=None):
        instance = selectors.dispute_settings_read(tenant=self.tenant)
        return render(request, "reconciliation/dispute_settings.html", {
            "form": form or DisputeSettingsForm(instance=instance),
            "lookback_form": lookback_form or MarketplaceLookbackForm(),
            "lookbacks": selectors.marketplace_lookback_list(tenant=self.tenant),
            "type_form": type_form or ChargebackTypeForm(),
            "chargeback_types": selectors.chargeback_type_list(tenant=self.tenant),
        })

    def post(self, request, tenant_slug):
        if request.POST.get("marketplace_lookback") == "1":
            lookback_form = MarketplaceLookbackForm(request.POST)
            if lookback_form.is_valid():
                try:
                    deduction_services.marketplace_lookback_set(
                        tenant=self.tenant, actor=request.user, **lookback_form.cleaned_data)
                except ApplicationError as exc:
                    lookback_form.add_error(None, str(exc))
            if lookback_form.errors:
                return self.get(request, tenant_slug, lookback_form=lookback_form)
            messages.success(request, _("Marketplace lookback saved."))
            return redirect("reconciliation:dispute_settings", tenant_slug=tenant_slug)
        if request.POST.get("chargeback_type") == "1":
            type_form = ChargebackTypeForm(request.POST)
            if type_form.is_valid():
                try:
                    deduction_services.chargeback_type_save(
                        tenant=self.tenant, actor=request.user, **type_form.cleaned_data)
                except ApplicationError as exc:
                    type_form.add_error(None, str(exc))
            if type_form.errors:
                return self.get(request, tenant_slug, type_form=type_form)
            messages.success(request, _("Chargeback type saved."))
            return redirect("reconciliation:dispute_settings", tenant_slug=tenant_slug)
        form = DisputeSettingsForm(request.POST, instance=selectors.dispute_settings_read(
            tenant=self.tenant))
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        deduction_services.dispute_settings_update(
            tenant=self.tenant, actor=request.user,
            data={field: form.cleaned_data[field] for field in DisputeSettingsForm.Meta.fields})
        messages.success(request, _("Dispute settings saved. New deductions use them."))
        return redirect("reconciliation:dispute_settings", tenant_slug=tenant_slug)


class ReturnForm(forms.Form):
    return_reference = forms.CharField(label=gettext_lazy("Return ID / RMA"), max_length=80)
    purchase_order_number = forms.CharField(label=gettext_lazy("PO number"), max_length=40,
                                            required=False)
    asin = forms.CharField(label=gettext_lazy("ASIN"), max_length=10)
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1,
                                  max_value=1_000_000)
    amount = forms.DecimalField(label=gettext_lazy("Amount"), min_value=0, max_digits=18,
                                decimal_places=4)
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, min_length=3)
    return_date = forms.DateField(label=gettext_lazy("Return date"))


class ReturnReportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Vendor Central return report (CSV)"))


class ReturnListView(TenantViewMixin, View):
    def get(self, request, tenant_slug, form=None, report_form=None, report_errors=None):
        from inventory.selectors import warehouse_list

        return render(request, "reconciliation/return_list.html", {
            "page": self.paginate(request, selectors.return_list(tenant=self.tenant)),
            "form": form or ReturnForm(initial={"currency": self.tenant.default_currency}),
            "report_form": report_form or ReturnReportForm(),
            "report_errors": report_errors or [],
            "warehouses": list(warehouse_list(tenant=self.tenant)),
        })

    def post(self, request, tenant_slug):
        if "file" in request.FILES:
            report_form = ReturnReportForm(request.POST, request.FILES)
            if not report_form.is_valid():
                return self.get(request, tenant_slug, report_form=report_form)
            try:
                result = return_services.returns_report_import(
                    tenant=self.tenant, data=report_form.cleaned_data["file"].read(),
                    actor=request.user, currency_default=self.tenant.default_currency)
            except ApplicationError as exc:
                report_form.add_error("file", str(exc))
                return self.get(request, tenant_slug, report_form=report_form)
            if result["errors"]:
                return self.get(request, tenant_slug, report_errors=result["errors"])
            messages.success(request, _("%(created)d returns imported, %(skipped)d already "
                                        "known.") % result)
            return redirect("reconciliation:return_list", tenant_slug=tenant_slug)
        form = ReturnForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        try:
            return_services.return_record(tenant=self.tenant, source=ReturnSource.MANUAL,
                                          actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
            return self.get(request, tenant_slug, form=form)
        messages.success(request, _("Return recorded."))
        return redirect("reconciliation:return_list", tenant_slug=tenant_slug)


class ReturnActionView(TenantViewMixin, View):
    def post(self, request, tenant_slug, return_id, action):
        from inventory.selectors import warehouse_list

        if not selectors.return_list(tenant=self.tenant).filter(pk=return_id).exists():
            raise Http404("No such return.")
        try:
            if action == "receive":
                warehouse = warehouse_list(tenant=self.tenant).filter(
                    pk=request.POST.get("warehouse") or 0).first()
                if warehouse is None:
                    raise ApplicationError(_("Choose the warehouse the goods came back to."))
                return_services.return_receive(tenant=self.tenant, return_id=return_id,
                                               warehouse=warehouse, actor=request.user)
                messages.success(request, _("Return received into stock."))
            elif action == "credit-note":
                return_services.return_credit_note(tenant=self.tenant, return_id=return_id,
                                                   actor=request.user)
                messages.success(request, _("Credit note drafted."))
            else:
                raise Http404("No such action.")
        except ApplicationError as exc:
            messages.error(request, str(exc))
        return redirect("reconciliation:return_list", tenant_slug=tenant_slug)
