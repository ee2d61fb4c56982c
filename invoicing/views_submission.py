"""Submit invoices and credit notes to Amazon (one, or in bulk).

Thin: the service decides (drafts, blocked checks and payloads Amazon would
refuse are refused with the reason; US credit notes are recorded, not
submitted). The status block is ``templates/invoicing/_invoice_submission.html``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.exceptions import ApplicationError
from acorn.views import TenantViewMixin
from invoicing.services.submission import SubmissionState, invoice_submit, invoices_submit

MAX_BULK = 500


def _posted_ids(request) -> list[int] | None:
    """The chosen invoice ids, or None when there are none, too many, or
    not numbers (ids of other tenants are refused by the service as not found)."""
    raw = request.POST.getlist("invoice_ids")
    if not raw or len(raw) > MAX_BULK or not all(v.isdigit() and len(v) < 12 for v in raw):
        return None
    return [int(v) for v in raw]


def _back(request, default):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


class InvoiceSubmitView(TenantViewMixin, View):
    """POST: send one issued invoice or credit note to Amazon."""

    def post(self, request, tenant_slug, invoice_id):
        try:
            outcome = invoice_submit(tenant=self.tenant, invoice_id=invoice_id,
                                     actor=request.user)
        except ApplicationError as error:
            if error.status_code == 404:
                raise Http404("No such invoice.") from None
            messages.error(request, error.message)
        else:
            if outcome.state == SubmissionState.RECORDED_NOT_SUBMITTED:
                messages.info(request, outcome.message)
            elif outcome.created:
                messages.success(request, _("%(number)s queued for Amazon.")
                                 % {"number": outcome.number})
            else:
                messages.info(request, _("%(number)s was already submitted; not sent again.")
                              % {"number": outcome.number})
        return _back(request, request.path.rsplit("/submit/", 1)[0] + "/")


class InvoiceBulkSubmitView(TenantViewMixin, View):
    """POST: send the chosen invoices; each refusal is reported, none stops the rest."""

    def post(self, request, tenant_slug):
        invoice_ids = _posted_ids(request)
        if invoice_ids is None:
            messages.error(request, _("Choose between 1 and %(count)s invoices to submit.")
                           % {"count": MAX_BULK})
            return _back(request, f"/t/{tenant_slug}/")
        outcomes = invoices_submit(tenant=self.tenant, invoice_ids=invoice_ids,
                                   actor=request.user)
        sent = [o for o in outcomes if o.created]
        for outcome in outcomes:
            if outcome.state == SubmissionState.REFUSED:
                messages.error(request, f"{outcome.number or outcome.invoice_id}: "
                                        f"{outcome.message}")
            elif outcome.state == SubmissionState.RECORDED_NOT_SUBMITTED:
                messages.info(request, f"{outcome.number}: {outcome.message}")
        messages.success(request, _("%(count)s submitted to Amazon.") % {"count": len(sent)})
        return _back(request, f"/t/{tenant_slug}/")
