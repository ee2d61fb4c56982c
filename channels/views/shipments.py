"""Shipments: list, builder, detail (ship, correct and resend the ASN),
carton and pallet labels."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.exceptions import ApplicationError
from acorn.models import Role
from acorn.views import TenantViewMixin
from channels.models import ShipmentStatus
from channels.selectors.shipments import (
    shipment_candidate_lines,
    shipment_get,
    shipment_list,
    shipment_submissions,
)
from channels.services.labels import shipment_labels_pdf
from channels.services.shipments import (
    shipment_asn_resend,
    shipment_create,
    shipment_ship,
    shipment_transport_update,
)
from inventory.selectors import warehouse_list
from vendor_api.operations.shipments import ShipmentType


class ShipmentFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All"))] + list(ShipmentStatus.choices))
    ship_to_party_id = forms.CharField(label=_("Ship to"), required=False, max_length=20)


class ShipmentListView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        form = ShipmentFilterForm(request.GET)
        filters = form.cleaned_data if form.is_valid() else {}
        page = self.paginate(request, shipment_list(tenant=self.tenant, filters=filters))
        return render(request, "channels/shipment_list.html", {"form": form, "page": page})


class ShipmentBuildForm(forms.Form):
    warehouse = forms.IntegerField(label=_("Ship from warehouse"))
    shipment_type = forms.ChoiceField(label=_("Shipment type"),
                                      choices=[(t.value, t.value) for t in ShipmentType])
    carrier_scac = forms.CharField(label=_("Carrier SCAC"), required=False, max_length=10)
    bill_of_lading_number = forms.CharField(label=_("Bill of lading"), required=False,
                                            max_length=40)
    carrier_reference_number = forms.CharField(label=_("PRO number"), required=False,
                                               max_length=40)
    carton_mode = forms.ChoiceField(label=_("Cartons"), choices=[
        ("one", _("Everything in one carton")), ("per_line", _("One carton per line")),
    ])
    cartons_per_pallet = forms.IntegerField(
        label=_("Cartons per pallet"), required=False, min_value=1,
        help_text=_("Leave empty for loose cartons (small parcel)."),
    )


class ShipmentCreateView(TenantViewMixin, View):
    """Choose accepted lines going to one FC, quantities, lots; create a draft."""

    required_role = Role.OPERATIONS

    def _render(self, request, form, status=200):
        ship_to = request.GET.get("ship_to") or request.POST.get("ship_to", "")
        lines = shipment_candidate_lines(tenant=self.tenant,
                                         filters={"ship_to_party_id": ship_to})
        return render(request, "channels/shipment_create.html", {
            "form": form, "ship_to": ship_to, "lines": lines,
            "warehouses": warehouse_list(tenant=self.tenant),
            "destinations": sorted({ln.purchase_order.ship_to_party_id for ln in
                                    shipment_candidate_lines(tenant=self.tenant)}),
        }, status=status)

    def get(self, request, tenant_slug):
        return self._render(request, ShipmentBuildForm(initial={"shipment_type": "SmallParcel"}))

    def post(self, request, tenant_slug):
        form = ShipmentBuildForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        warehouse = warehouse_list(tenant=self.tenant).filter(
            pk=form.cleaned_data["warehouse"]).first()
        if warehouse is None:
            form.add_error("warehouse", _("Choose a warehouse."))
            return self._render(request, form, status=400)
        specs = []
        for key, value in request.POST.items():
            if not key.startswith("qty_") or not value.strip():
                continue
            line_id = key[4:]
            try:
                quantity = int(value)
            except ValueError:
                form.add_error(None, _("Quantities must be whole numbers."))
                return self._render(request, form, status=400)
            if quantity <= 0:
                continue
            specs.append({
                "po_line_id": int(line_id), "quantity": quantity,
                "lot_number": request.POST.get(f"lot_{line_id}", ""),
                "expiry_date": request.POST.get(f"expiry_{line_id}") or None,
                "country_of_origin": request.POST.get(f"coo_{line_id}", ""),
            })
        cartons = None
        if form.cleaned_data["carton_mode"] == "per_line":
            cartons = [{"items": [{"line": i, "quantity": s["quantity"]}]}
                       for i, s in enumerate(specs)]
        try:
            shipment = shipment_create(
                tenant=self.tenant, warehouse=warehouse, lines=specs, cartons=cartons,
                carrier_scac=form.cleaned_data["carrier_scac"],
                bill_of_lading_number=form.cleaned_data["bill_of_lading_number"],
                carrier_reference_number=form.cleaned_data["carrier_reference_number"],
                shipment_type=form.cleaned_data["shipment_type"],
                cartons_per_pallet=form.cleaned_data["cartons_per_pallet"], actor=request.user,
            )
        except (ApplicationError, ValueError) as error:
            form.add_error(None, getattr(error, "message", str(error)))
            return self._render(request, form, status=400)
        return redirect("channels:shipment_detail", tenant_slug=tenant_slug,
                        shipment_id=shipment.pk)


class ShipForm(forms.Form):
    shipped_at = forms.DateTimeField(label=_("Shipped at (UTC)"), required=False)


class TransportForm(forms.Form):
    carrier_scac = forms.CharField(label=_("Carrier SCAC"), required=False, max_length=10)
    bill_of_lading_number = forms.CharField(label=_("Bill of lading"), required=False,
                                            max_length=40)
    carrier_reference_number = forms.CharField(label=_("PRO number"), required=False,
                                               max_length=40)


class ShipmentDetailView(TenantViewMixin, View):
    def _shipment(self, shipment_id):
        shipment = shipment_get(tenant=self.tenant, shipment_id=shipment_id)
        if shipment is None:
            raise Http404("No such shipment.")
        return shipment

    def get(self, request, tenant_slug, shipment_id):
        shipment = self._shipment(shipment_id)
        return render(request, "channels/shipment_detail.html", {
            "shipment": shipment, "ship_form": ShipForm(),
            "transport_form": TransportForm(initial={
                name: getattr(shipment, name) for name in TransportForm.base_fields}),
            "submissions": shipment_submissions(tenant=self.tenant, shipment=shipment),
        })

    def post(self, request, tenant_slug, shipment_id):
        shipment = self._shipment(shipment_id)
        back = redirect("channels:shipment_detail", tenant_slug=tenant_slug,
                        shipment_id=shipment.pk)
        try:
            if "resend" in request.POST:
                transport = TransportForm(request.POST)
                if transport.is_valid() and any(
                    name in request.POST for name in TransportForm.base_fields
                ):
                    shipment_transport_update(tenant=self.tenant, shipment_id=shipment.pk,
                                              actor=request.user, **transport.cleaned_data)
                shipment_asn_resend(tenant=self.tenant, shipment_id=shipment.pk,
                                    actor=request.user)
                messages.success(request, _("A new ASN version is queued."))
                return back
            form = ShipForm(request.POST)
            shipped_at = form.cleaned_data["shipped_at"] if form.is_valid() else None
            _shipment, warnings = shipment_ship(tenant=self.tenant, shipment_id=shipment.pk,
                                                shipped_at=shipped_at, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
            return back
        messages.success(request, _("Shipped; the ASN is queued."))
        for warning in warnings:
            messages.warning(request, warning)
        return back


class ShipmentLabelsView(TenantViewMixin, View):
    """The carton and pallet labels PDF, rendered on request (never stored)."""

    def get(self, request, tenant_slug, shipment_id):
        shipment = shipment_get(tenant=self.tenant, shipment_id=shipment_id)
        if shipment is None:
            raise Http404("No such shipment.")
        items = list(shipment.items.all())
        numbers = sorted({item.po_line.purchase_order.number for item in items})
        ship_to = items[0].po_line.purchase_order.ship_to if items else {}
        pdf = shipment_labels_pdf(shipment=shipment, cartons=list(shipment.cartons.all()),
                                  pallets=list(shipment.pallets.all()),
                                  purchase_order_numbers=numbers, ship_to=ship_to)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="labels-{shipment.shipment_identifier}.pdf"'
        )
        return response
