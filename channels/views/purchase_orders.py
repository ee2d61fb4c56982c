"""PO board and PO detail pages."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views import View

from acorn.views import TenantViewMixin
from channels.selectors.accounts import account_list
from channels.selectors.acknowledgements import acknowledgement_submissions
from channels.selectors.purchase_orders import (
    purchase_order_get,
    purchase_order_line_atp,
    purchase_order_list,
)
from channels.selectors.shipments import shipments_for_purchase_order
from channels.views.forms import PurchaseOrderFilterForm


class PurchaseOrderListView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        form = PurchaseOrderFilterForm(request.GET)
        filters = form.cleaned_data if form.is_valid() else {}
        page = self.paginate(request, purchase_order_list(tenant=self.tenant, filters=filters))
        return render(request, "channels/purchase_order_list.html", {
            "form": form, "page": page, "accounts": account_list(tenant=self.tenant),
        })


class PurchaseOrderDetailView(TenantViewMixin, View):
    def get(self, request, tenant_slug, purchase_order_id):
        purchase_order = purchase_order_get(tenant=self.tenant,
                                            purchase_order_id=purchase_order_id)
        if purchase_order is None:
            raise Http404("No such purchase order.")
        atp = purchase_order_line_atp(tenant=self.tenant, purchase_order=purchase_order)
        lines = [
            {"line": line, "atp": atp.get(line.product_id)} for line in purchase_order.lines.all()
        ]
        return render(request, "channels/purchase_order_detail.html", {
            "po": purchase_order, "lines": lines,
            "events": purchase_order.events.all(),
            "exceptions": purchase_order.exceptions.all(),
            "ack_submissions": acknowledgement_submissions(tenant=self.tenant,
                                                           purchase_order=purchase_order),
            "po_shipments": shipments_for_purchase_order(tenant=self.tenant,
                                                         purchase_order=purchase_order),
        })
