"""Invoice and credit-note pages: list, detail, create from shipments (one
or in bulk), check, issue, credit notes."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import Role
from acorn.views import TenantViewMixin
from channels.selectors.invoicing import (
    shipment_for_invoicing_get,
    shipped_purchase_orders,
)
from invoicing import selectors, services
from invoicing.models import CreditReason, DocumentKind, InvoiceStatus
from invoicing.services.credit_notes import REFERENCE_RULES


class InvoiceFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, label=gettext_lazy("Status"),
                               choices=[("", "—"), *InvoiceStatus.choices])
    purchase_order_number = forms.CharField(required=False, max_length=20,
                                            label=gettext_lazy("PO"))
    number = forms.CharField(required=False, max_length=40, label=gettext_lazy("Number"))
    issued_from = forms.DateField(required=False, label=gettext_lazy("Issued from"),
                                  widget=forms.DateInput(attrs={"type": "date"}))
    issued_to = forms.DateField(required=False, label=gettext_lazy("Issued to"),
                                widget=forms.DateInput(attrs={"type": "date"}))


def _check_state(invoice) -> str:
    levels = {f.get("level") for f in invoice.check_results or []}
    if invoice.checked_at is None:
        return "unchecked"
    if "block" in levels:
        return "block"
    return "warn" if "warn" in levels else "ok"


class InvoiceListView(TenantViewMixin, View):
    kind = DocumentKind.INVOICE
    template = "invoicing/invoice_list.html"

    def get(self, request, tenant_slug):
        form = InvoiceFilterForm(request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        page = self.paginate(request, selectors.invoice_list(tenant=self.tenant, filters=filters,
                                                             kind=self.kind))
        for invoice in page:
            invoice.check_state = _check_state(invoice)
        return render(request, self.template, {"form": form, "page": page, "kind": self.kind})


class CreditNoteListView(InvoiceListView):
    kind = DocumentKind.CREDIT_NOTE
    template = "invoicing/credit_note_list.html"


def _invoice_or_404(tenant, invoice_id):
    invoice = selectors.invoice_get(tenant=tenant, invoice_id=invoice_id)
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


class InvoiceDetailView(TenantViewMixin, View):
    def get(self, request, tenant_slug, invoice_id):
        invoice = _invoice_or_404(self.tenant, invoice_id)
        findings = [{**f, "text": services.finding_text(f)} for f in invoice.check_results]
        return render(request, "invoicing/invoice_detail.html", {
            "invoice": invoice, "findings": findings, "check_state": _check_state(invoice),
            "can_act": request.membership.allows(Role.OPERATIONS),
        })


class InvoiceCheckView(TenantViewMixin, View):
    """POST: run the pre-send check again."""

    def post(self, request, tenant_slug, invoice_id):
        invoice = _invoice_or_404(self.tenant, invoice_id)
        services.invoice_check(tenant=self.tenant, invoice_id=invoice.pk)
        messages.success(request, _("Checked."))
        return redirect("invoicing:invoice_detail", tenant_slug=tenant_slug,
                        invoice_id=invoice.pk)


class InvoiceIssueView(TenantViewMixin, View):
    """POST: check, then issue with the next number of the series."""

    def post(self, request, tenant_slug, invoice_id):
        invoice = _invoice_or_404(self.tenant, invoice_id)
        try:
            issued = services.invoice_issue_checked(tenant=self.tenant, invoice_id=invoice.pk,
                                                    actor=request.user)
        except NotFoundError:
            raise Http404("No such invoice.") from None
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Issued as %(number)s.") % {"number": issued.number})
        return redirect("invoicing:invoice_detail", tenant_slug=tenant_slug,
                        invoice_id=invoice.pk)


def _result_messages(request, results) -> None:
    for result in results:
        if result.error:
            messages.error(request, _("PO %(po)s: %(error)s") % {
                "po": result.purchase_order_number or result.purchase_order_id,
                "error": result.error})
        elif result.created:
            messages.success(request, _("Draft invoice for PO %(po)s created.") % {
                "po": result.purchase_order_number})
        else:
            messages.info(request, _("PO %(po)s already has an invoice for this shipment.") % {
                "po": result.purchase_order_number})


class InvoiceFromShipmentView(TenantViewMixin, View):
    """One shipment: its POs, their invoices, and a button that drafts one
    invoice per PO (the shipment page links here)."""

    def get(self, request, tenant_slug, shipment_id):
        shipment = shipment_for_invoicing_get(tenant=self.tenant, shipment_id=shipment_id)
        if shipment is None:
            raise Http404("No such shipment.")
        rows = [row for row in shipped_purchase_orders(tenant=self.tenant)
                if row["shipment_id"] == shipment.pk]
        return render(request, "invoicing/invoice_from_shipment.html", {
            "shipment": shipment, "rows": rows,
            "invoices": selectors.invoices_of_shipment(tenant=self.tenant,
                                                       shipment_id=shipment.pk),
        })

    def post(self, request, tenant_slug, shipment_id):
        try:
            results = services.invoices_from_shipment(tenant=self.tenant,
                                                      shipment_id=shipment_id,
                                                      actor=request.user)
        except NotFoundError:
            raise Http404("No such shipment.") from None
        except ApplicationError as exc:
            messages.error(request, exc.message)
            results = []
        _result_messages(request, results)
        return redirect("invoicing:invoice_from_shipment", tenant_slug=tenant_slug,
                        shipment_id=shipment_id)


class InvoiceBulkCreateView(TenantViewMixin, View):
    """Every shipped PO without an invoice; tick many, draft them at once,
    with one result per PO."""

    def get(self, request, tenant_slug, results=None):
        return render(request, "invoicing/invoice_bulk.html", {
            "rows": selectors.uninvoiced_shipped_purchase_orders(tenant=self.tenant),
            "results": results or [],
        })

    def post(self, request, tenant_slug):
        pairs = []
        for value in request.POST.getlist("pair"):
            shipment_id, _sep, po_id = value.partition(":")
            if shipment_id.isdigit() and po_id.isdigit():
                pairs.append((int(shipment_id), int(po_id)))
        if not pairs:
            messages.error(request, _("Tick at least one shipped PO."))
            return redirect("invoicing:invoice_bulk", tenant_slug=tenant_slug)
        results = services.invoices_draft_bulk(tenant=self.tenant, pairs=pairs,
                                               actor=request.user)
        return self.get(request, tenant_slug, results=results)


class CreditNoteForm(forms.Form):
    reason = forms.ChoiceField(choices=CreditReason.choices, label=gettext_lazy("Reason"))
    amount = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2,
                                label=gettext_lazy("Co-op amount (net)"))
    returnsReferenceNumber = forms.CharField(  # noqa: N815 (Amazon's key)
        required=False, max_length=100, label=gettext_lazy("Returns reference number"))
    goodsReturnDate = forms.DateField(  # noqa: N815
        required=False, label=gettext_lazy("Goods return date"),
        widget=forms.DateInput(attrs={"type": "date"}))
    rmaId = forms.CharField(required=False, max_length=100,  # noqa: N815
                            label=gettext_lazy("RMA id"))
    consignorsReferenceNumber = forms.CharField(  # noqa: N815
        required=False, max_length=100, label=gettext_lazy("Consignor's reference (VRET)"))
    coopReferenceNumber = forms.CharField(  # noqa: N815
        required=False, max_length=100, label=gettext_lazy("Co-op reference number"))
    debitNoteNumber = forms.CharField(  # noqa: N815
        required=False, max_length=100, label=gettext_lazy("Amazon debit note number"))
    note = forms.CharField(required=False, max_length=500, label=gettext_lazy("Note"))


REFERENCE_FIELDS = ("returnsReferenceNumber", "goodsReturnDate", "rmaId",
                    "consignorsReferenceNumber", "coopReferenceNumber", "debitNoteNumber")


class CreditNoteCreateView(TenantViewMixin, View):
    """A credit note for an issued invoice: per line the quantity (returns,
    PQV) or quantity and credit per unit (PPV), or an amount (co-op)."""

    def get(self, request, tenant_slug, invoice_id, form=None):
        invoice = _invoice_or_404(self.tenant, invoice_id)
        if invoice.kind != DocumentKind.INVOICE or invoice.status != InvoiceStatus.ISSUED:
            raise Http404("Only issued invoices are credited.")
        return render(request, "invoicing/credit_note_form.html", {
            "invoice": invoice, "form": form or CreditNoteForm(),
            "reference_rules": REFERENCE_RULES, "posted": request.POST,
        })

    def post(self, request, tenant_slug, invoice_id):
        invoice = _invoice_or_404(self.tenant, invoice_id)
        form = CreditNoteForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, invoice_id, form=form)
        data = form.cleaned_data
        lines = []
        for line in invoice.lines.all():
            quantity = request.POST.get(f"qty_{line.pk}", "").strip()
            if quantity and quantity != "0":
                spec = {"invoice_line_id": line.pk, "quantity": quantity}
                if data["reason"] == CreditReason.PRICE:
                    spec["unit_amount"] = request.POST.get(f"unit_{line.pk}", "").strip()
                lines.append(spec)
        references = {key: data[key].isoformat() if hasattr(data[key], "isoformat")
                      else data[key] for key in REFERENCE_FIELDS if data.get(key)}
        allowed = REFERENCE_RULES[data["reason"]]["allowed"]
        references = {k: v for k, v in references.items() if k in allowed}
        try:
            credit = services.credit_note_create(
                tenant=self.tenant, original_invoice_id=invoice.pk, reason=data["reason"],
                lines=lines, amount=data.get("amount"), references=references,
                note=data.get("note") or "", actor=request.user,
            )
        except NotFoundError:
            raise Http404("No such invoice.") from None
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self.get(request, tenant_slug, invoice_id, form=form)
        messages.success(request, _("Draft credit note created."))
        return redirect("invoicing:invoice_detail", tenant_slug=tenant_slug,
                        invoice_id=credit.pk)
