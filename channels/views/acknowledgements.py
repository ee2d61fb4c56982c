"""Acknowledgement review queue and the per-PO review page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.exceptions import ApplicationError
from acorn.models import Role
from acorn.money import MONEY_MAX_DIGITS
from acorn.views import TenantViewMixin
from channels.models import RejectionReason
from channels.selectors.acknowledgements import (
    QUEUE_STATUSES,
    ack_queue_list,
    acknowledgement_review_get,
    acknowledgement_submissions,
)
from channels.selectors.purchase_orders import purchase_order_line_atp
from channels.services.acknowledgements import (
    acknowledgement_edit,
    acknowledgement_send,
    acknowledgements_send_bulk,
)


class AckQueueFilterForm(forms.Form):
    ack_status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("All waiting"))] + [(s.value, s.label) for s in QUEUE_STATUSES],
    )


class AckQueueView(TenantViewMixin, View):
    """POs waiting for review or sending, most urgent first; bulk send."""

    required_role = Role.OPERATIONS

    def get(self, request, tenant_slug):
        form = AckQueueFilterForm(request.GET)
        filters = form.cleaned_data if form.is_valid() else {}
        page = self.paginate(request, ack_queue_list(tenant=self.tenant, filters=filters))
        return render(request, "channels/acknowledgement_queue.html",
                      {"form": form, "page": page, "now": timezone.now()})

    def post(self, request, tenant_slug):
        ids = [int(pk) for pk in request.POST.getlist("purchase_order") if pk.isdigit()]
        if not ids:
            messages.error(request, _("Select at least one purchase order."))
            return redirect("channels:ack_queue", tenant_slug=tenant_slug)
        result = acknowledgements_send_bulk(tenant=self.tenant, purchase_order_ids=ids,
                                            actor=request.user)
        if result["sent"]:
            messages.success(request, _("Queued for sending: %(numbers)s")
                             % {"numbers": ", ".join(result["sent"])})
        for number, reason in result["refused"].items():
            messages.error(request, f"{number}: {reason}")
        return redirect("channels:ack_queue", tenant_slug=tenant_slug)


# Quantities are PostgreSQL integers: a larger number is a form error, not
# a database error.
MAX_LINE_QUANTITY = 2_147_483_647


def _edit_form_class(lines):
    """A form with accept/backorder/reject/price fields per PO line."""
    fields = {}
    for line in lines:
        for name in ("accept", "backorder", "reject"):
            fields[f"{name}_{line.pk}"] = forms.IntegerField(
                min_value=0, max_value=MAX_LINE_QUANTITY,
                initial=getattr(line, f"planned_{name}"),
                widget=forms.NumberInput(attrs={"class": "qty"}),
            )
        fields[f"net_cost_{line.pk}"] = forms.DecimalField(
            required=False, min_value=0, decimal_places=4, max_digits=MONEY_MAX_DIGITS,
            initial=line.ack_net_cost if line.ack_net_cost is not None else line.net_cost,
            widget=forms.NumberInput(attrs={"class": "money", "step": "0.0001"}))
        fields[f"rejection_reason_{line.pk}"] = forms.ChoiceField(
            required=False, choices=[("", "-")] + list(RejectionReason.choices),
            initial=line.rejection_reason)
        fields[f"scheduled_ship_date_{line.pk}"] = forms.DateField(
            required=False, initial=line.scheduled_ship_date,
            widget=forms.DateInput(attrs={"type": "date"}))
        fields[f"scheduled_delivery_date_{line.pk}"] = forms.DateField(
            required=False, initial=line.scheduled_delivery_date,
            widget=forms.DateInput(attrs={"type": "date"}))
    return type("AcknowledgementEditForm", (forms.Form,), fields)


class AcknowledgementReviewView(TenantViewMixin, View):
    """Edit the planned acknowledgement of one PO, then send it."""

    required_role = Role.OPERATIONS

    def _po(self, purchase_order_id):
        po = acknowledgement_review_get(tenant=self.tenant, purchase_order_id=purchase_order_id)
        if po is None:
            raise Http404("No such purchase order.")
        return po

    def _render(self, request, po, form, status=200):
        lines = list(po.lines.all())
        atp = purchase_order_line_atp(tenant=self.tenant, purchase_order=po)
        rows = [{
            "line": line, "atp": atp.get(line.product_id),
            "accept": form[f"accept_{line.pk}"], "backorder": form[f"backorder_{line.pk}"],
            "reject": form[f"reject_{line.pk}"], "net_cost": form[f"net_cost_{line.pk}"],
            "reason": form[f"rejection_reason_{line.pk}"],
            "ship_date": form[f"scheduled_ship_date_{line.pk}"],
            "delivery_date": form[f"scheduled_delivery_date_{line.pk}"],
        } for line in lines]
        return render(request, "channels/acknowledgement_review.html", {
            "po": po, "rows": rows, "form": form, "now": timezone.now(),
            "submissions": acknowledgement_submissions(tenant=self.tenant, purchase_order=po),
        }, status=status)

    def get(self, request, tenant_slug, purchase_order_id):
        po = self._po(purchase_order_id)
        return self._render(request, po, _edit_form_class(po.lines.all())())

    def post(self, request, tenant_slug, purchase_order_id):
        po = self._po(purchase_order_id)
        back = redirect("channels:ack_review", tenant_slug=tenant_slug,
                        purchase_order_id=po.pk)
        if "send" in request.POST:
            try:
                submission = acknowledgement_send(tenant=self.tenant, purchase_order=po,
                                                  actor=request.user)
            except ApplicationError as error:
                messages.error(request, error.message)
                return back
            messages.success(request, _("Acknowledgement version %(version)s queued.")
                             % {"version": submission.document_version})
            return back
        lines = list(po.lines.all())
        form = _edit_form_class(lines)(request.POST)
        if not form.is_valid():
            return self._render(request, po, form, status=400)
        data = form.cleaned_data
        changes = [{
            "line_id": line.pk,
            "accept": data[f"accept_{line.pk}"], "backorder": data[f"backorder_{line.pk}"],
            "reject": data[f"reject_{line.pk}"], "net_cost": data[f"net_cost_{line.pk}"],
            "rejection_reason": data[f"rejection_reason_{line.pk}"],
            "scheduled_ship_date": data[f"scheduled_ship_date_{line.pk}"],
            "scheduled_delivery_date": data[f"scheduled_delivery_date_{line.pk}"],
        } for line in lines]
        try:
            acknowledgement_edit(tenant=self.tenant, purchase_order=po, lines=changes,
                                 actor=request.user)
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self._render(request, po, form, status=400)
        messages.success(request, _("Plan saved."))
        return back
