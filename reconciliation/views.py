"""Dashboard pages: remittance import (upload, history, errors, progress),
payments with lines and matches, the review queue, open items and ageing."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.exceptions import ApplicationError
from acorn.models import Role
from acorn.views import TenantViewMixin
from channels.selectors.accounts import account_list
from reconciliation import selectors, services
from reconciliation.models import RemittanceSource
from reconciliation.parsers import bounds


class RemittanceUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Remittance file"), required=False,
        help_text=_("Vendor Central export (CSV/XLSX), remittance e-mail (.eml), "
                    "EDIFACT REMADV or X12 820."))
    pasted = forms.CharField(
        label=_("Or paste the remittance e-mail"), required=False,
        widget=forms.Textarea(attrs={"rows": 6}), max_length=200_000)
    source_type = forms.ChoiceField(
        label=_("Format"), required=False,
        choices=[("", _("Detect from the content"))] + list(RemittanceSource.choices))
    account = forms.TypedChoiceField(label=_("Amazon account"), required=False, coerce=int,
                                     empty_value=None)

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", "-")] + [(a.pk, a.name) for a in accounts]

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is not None and upload.size > bounds.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)d MB."),
                params={"limit": bounds.MAX_UPLOAD_BYTES // (1024 * 1024)})
        return upload

    def clean(self):
        data = super().clean()
        if not data.get("file") and not (data.get("pasted") or "").strip():
            raise forms.ValidationError(_("Choose a file or paste the e-mail text."))
        return data


class RemittanceListView(TenantViewMixin, View):
    """Upload a remittance and see every import with its outcome."""

    required_role = Role.VIEWER
    action_role = Role.OPERATIONS

    def get(self, request, tenant_slug, form=None):
        accounts = list(account_list(tenant=self.tenant))
        return render(request, "reconciliation/remittance_list.html", {
            "form": form or RemittanceUploadForm(accounts=accounts),
            "page": self.paginate(request, selectors.remittance_import_list(tenant=self.tenant)),
            "totals": selectors.ledger_totals(tenant=self.tenant),
            "max_mb": bounds.MAX_UPLOAD_BYTES // (1024 * 1024),
        })

    def post(self, request, tenant_slug):
        accounts = {a.pk: a for a in account_list(tenant=self.tenant)}
        form = RemittanceUploadForm(request.POST, request.FILES, accounts=accounts.values())
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        upload = form.cleaned_data.get("file")
        if upload is not None:
            data, name = upload.read(bounds.MAX_UPLOAD_BYTES + 1), upload.name
        else:
            data, name = form.cleaned_data["pasted"].encode("utf-8"), "pasted.txt"
        source = form.cleaned_data.get("source_type") or None
        if upload is None and source is None:
            source = RemittanceSource.EMAIL
        try:
            remittance_import, created = services.remittance_import_create(
                tenant=self.tenant, data=data, filename=name, source_type=source,
                account=accounts.get(form.cleaned_data.get("account")), actor=request.user)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self.get(request, tenant_slug, form=form)
        if not created:
            messages.info(request, _("This file was imported before; nothing was added."))
        return redirect("reconciliation:import_detail", tenant_slug=tenant_slug,
                        import_id=remittance_import.pk)


class RemittanceImportDetailView(TenantViewMixin, View):
    def get(self, request, tenant_slug, import_id):
        remittance_import = selectors.remittance_import_get(tenant=self.tenant,
                                                            import_id=import_id)
        if remittance_import is None:
            raise Http404
        payments = selectors.payment_list(tenant=self.tenant).filter(
            remittance_import=remittance_import)
        return render(request, "reconciliation/import_detail.html", {
            "remittance_import": remittance_import,
            "page": self.paginate(request, payments),
        })


class PaymentListView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        currency = (request.GET.get("currency") or "")[:3]
        unbalanced = request.GET.get("unbalanced") == "1"
        payments = selectors.payment_list(tenant=self.tenant, currency=currency,
                                          unbalanced=unbalanced)
        return render(request, "reconciliation/payment_list.html", {
            "page": self.paginate(request, payments), "currency": currency,
            "unbalanced": unbalanced,
        })


class PaymentDetailView(TenantViewMixin, View):
    def get(self, request, tenant_slug, payment_id):
        payment = selectors.payment_get(tenant=self.tenant, payment_id=payment_id)
        if payment is None:
            raise Http404
        lines = list(payment.lines.all())
        numbers = selectors.invoice_numbers_by_id(
            tenant=self.tenant, ids=[m.invoice_id for line in lines for m in line.live_matches])
        for line in lines:
            for match in line.live_matches:
                match.invoice_number = numbers.get(match.invoice_id, "")
        return render(request, "reconciliation/payment_detail.html", {
            "payment": payment, "lines": lines,
        })


class ReviewQueueView(TenantViewMixin, View):
    """Suggested matches to confirm, reassign or reject."""

    required_role = Role.OPERATIONS
    action_role = Role.OPERATIONS

    def get(self, request, tenant_slug):
        page = self.paginate(request, selectors.review_queue(tenant=self.tenant))
        numbers = selectors.invoice_numbers_by_id(tenant=self.tenant,
                                                  ids=[m.invoice_id for m in page])
        for match in page:
            match.invoice_number = numbers.get(match.invoice_id, "")
        return render(request, "reconciliation/review_queue.html", {"page": page})

    def post(self, request, tenant_slug):
        action = request.POST.get("action")
        try:
            match_id = int(request.POST.get("match_id", ""))
        except ValueError:
            raise Http404 from None
        try:
            if action == "confirm":
                services.match_confirm(tenant=self.tenant, match_id=match_id,
                                       actor=request.user)
                messages.success(request, _("Match confirmed."))
            elif action == "reject":
                services.match_reject(tenant=self.tenant, match_id=match_id,
                                      actor=request.user)
                messages.success(request, _("Suggestion rejected; the line is unmatched."))
            elif action == "reassign":
                match = selectors.review_queue(tenant=self.tenant).filter(pk=match_id).first()
                if match is None:
                    raise Http404
                services.match_reassign(
                    tenant=self.tenant, line_id=match.line_id,
                    invoice_number=(request.POST.get("invoice_number") or "")[:120],
                    actor=request.user)
                messages.success(request, _("Line applied to the document you named."))
            else:
                raise Http404
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("reconciliation:review_queue", tenant_slug=tenant_slug)


class OpenItemsView(TenantViewMixin, View):
    """Open items with ageing buckets per account and currency."""

    def get(self, request, tenant_slug):
        currency = (request.GET.get("currency") or "")[:3]
        items = selectors.open_items(tenant=self.tenant, currency=currency)
        accounts = {a.pk: a.name for a in account_list(tenant=self.tenant)}
        ageing = selectors.open_items_ageing(items=items)
        for row in ageing:
            row["account_name"] = accounts.get(row["account_id"], "")
        return render(request, "reconciliation/open_items.html", {
            "ageing": ageing, "page": self.paginate(request, items), "currency": currency,
        })
