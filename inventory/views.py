"""Dashboard pages: stock, products, adjustments, imports, purchase plan."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.dataio import dataset_response, export_dataset
from acorn.dataio.jobs import import_upload
from acorn.dataio.uploads import BoundedUploadMixin, upload_too_large_message
from acorn.exceptions import ApplicationError
from acorn.models import ImportJob, Role
from acorn.views import TenantViewMixin
from inventory import selectors, services
from inventory.models import HoldKind, HoldStatus, InboundStatus, PlanStatus

CHANNELS = ("amazon_vendor", "web_store")


class StockFilterForm(forms.Form):
    q = forms.CharField(required=False, label=_("Search"))
    state = forms.ChoiceField(
        required=False, label=_("State"),
        choices=[("", _("Any")), ("in", _("In stock")), ("out", _("Out of stock")),
                 ("held", _("Held or reserved"))],
    )
    warehouse = forms.CharField(required=False, label=_("Warehouse"))
    supplier = forms.CharField(required=False, label=_("Supplier"))


class StockListView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        form = StockFilterForm(request.GET)
        filters = form.cleaned_data if form.is_valid() else {}
        page = self.paginate(
            request, selectors.stock_level_list(tenant=self.tenant, filters=filters)
        )
        ids = [level.product_id for level in page]
        atp = {
            channel: selectors.atp_for_products(
                tenant=self.tenant, channel=channel, product_ids=ids
            )
            for channel in CHANNELS
        }
        rows = [
            {"level": level, "amazon": atp["amazon_vendor"].get(level.product_id),
             "store": atp["web_store"].get(level.product_id)}
            for level in page
        ]
        return render(request, "inventory/stock_list.html", {
            "form": form, "page": page, "rows": rows,
            "warehouses": selectors.warehouse_list(tenant=self.tenant),
        })


class ProductForm(forms.Form):
    sku = forms.CharField(max_length=64, label=_("SKU"))
    name = forms.CharField(max_length=300, label=_("Name"))
    gtin = forms.CharField(max_length=14, required=False, label=_("GTIN / EAN / UPC"))
    asin = forms.CharField(max_length=10, required=False, label=_("ASIN"))
    case_pack = forms.IntegerField(min_value=1, initial=1, label=_("Case pack"))
    safety_stock = forms.IntegerField(min_value=0, initial=0, label=_("Safety stock"))
    is_lot_tracked = forms.BooleanField(required=False, label=_("Lot-tracked"))


class ProductListView(TenantViewMixin, View):
    def get(self, request, tenant_slug, form=None):
        filters = {"q": request.GET.get("q", "")}
        page = self.paginate(request, selectors.product_list(tenant=self.tenant, filters=filters))
        return render(request, "inventory/product_list.html", {
            "page": page, "filters": filters, "form": form or ProductForm(),
        })

    def post(self, request, tenant_slug):
        form = ProductForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        try:
            product = services.product_create(
                tenant=self.tenant, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, "; ".join(exc.messages))
            return self.get(request, tenant_slug, form=form)
        messages.success(request, _("Product created."))
        return redirect("inventory:product_detail", tenant_slug=tenant_slug, product_id=product.pk)


class MovementForm(forms.Form):
    warehouse = forms.CharField(label=_("Warehouse"))
    quantity = forms.IntegerField(label=_("Quantity"))
    # Not "lot_number": the input-cleaning layer reads "lot_<id>" fields as
    # the shipment form's per-line fields and refuses a non-numeric id.
    lot = forms.CharField(required=False, max_length=100, label=_("Lot"))
    reason = forms.CharField(max_length=300, required=False, label=_("Reason"))
    # A hidden key generated with the form makes a double submit harmless.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)


class HoldForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, label=_("Quantity"))
    note = forms.CharField(max_length=300, label=_("Reason"))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)


class ProductDetailView(TenantViewMixin, View):
    def get(self, request, tenant_slug, product_id):
        product = selectors.product_get(tenant=self.tenant, product_id=product_id)
        if product is None:
            raise Http404("No such product.")
        atp = [
            (channel, selectors.atp_get(tenant=self.tenant, channel=channel, product_id=product.pk))
            for channel in CHANNELS
        ]
        key = uuid.uuid4().hex
        return render(request, "inventory/product_detail.html", {
            "product": product,
            "level": selectors.stock_level_get(tenant=self.tenant, product_id=product.pk),
            "balances": selectors.stock_balance_list(tenant=self.tenant, product_id=product.pk),
            "movements": selectors.movement_list(
                tenant=self.tenant, filters={"product_id": product.pk}
            )[:50],
            "hold_lines": selectors.hold_line_list(
                tenant=self.tenant, product_id=product.pk
            )[:50],
            "atp": atp,
            "movement_form": MovementForm(initial={"idempotency_key": key}),
            "hold_form": HoldForm(initial={"idempotency_key": key}),
            "warehouses": selectors.warehouse_list(tenant=self.tenant),
        })


class ProductMovementView(TenantViewMixin, View):
    """POST an adjustment, a count or a receipt (operations role)."""

    kind: str = "adjustment"

    def post(self, request, tenant_slug, product_id):
        product = selectors.product_get(tenant=self.tenant, product_id=product_id)
        if product is None:
            raise Http404("No such product.")
        form = MovementForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Check the quantity and warehouse."))
            return redirect("inventory:product_detail", tenant_slug=tenant_slug,
                            product_id=product.pk)
        data = form.cleaned_data
        key = f"dashboard:{data['idempotency_key']}" if data["idempotency_key"] else ""
        common = {"tenant": self.tenant, "product": product, "warehouse": data["warehouse"],
                  "lot_number": data["lot"], "idempotency_key": key,
                  "actor": request.user}
        try:
            if self.kind == "count":
                services.stock_count(
                    counted_quantity=data["quantity"], reason=data["reason"], **common
                )
            elif self.kind == "receipt":
                services.stock_receive(
                    quantity=data["quantity"], reason=data["reason"], source_type="dashboard",
                    **common,
                )
            else:
                services.stock_adjust(
                    quantity=data["quantity"], reason=data["reason"] or "manual", **common
                )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Stock updated."))
        return redirect("inventory:product_detail", tenant_slug=tenant_slug, product_id=product.pk)


class ProductHoldView(TenantViewMixin, View):
    """Place a manual hold on a product."""

    def post(self, request, tenant_slug, product_id):
        product = selectors.product_get(tenant=self.tenant, product_id=product_id)
        if product is None:
            raise Http404("No such product.")
        form = HoldForm(request.POST)
        if form.is_valid():
            key = form.cleaned_data["idempotency_key"] or uuid.uuid4().hex
            try:
                services.stock_hold_place(
                    tenant=self.tenant, lines=[{"product": product,
                                                "quantity": form.cleaned_data["quantity"]}],
                    source_type="manual", source_ref=f"manual:{key}",
                    idempotency_key=f"manual:{key}", kind=HoldKind.MANUAL,
                    note=form.cleaned_data["note"], actor=request.user,
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Hold placed."))
        else:
            messages.error(request, _("Give a quantity and a reason."))
        return redirect("inventory:product_detail", tenant_slug=tenant_slug, product_id=product.pk)


class HoldListView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        filters = {key: request.GET.get(key, "") for key in ("status", "kind", "source_ref")}
        page = self.paginate(request, selectors.hold_list(tenant=self.tenant, filters=filters))
        return render(request, "inventory/hold_list.html", {
            "page": page, "filters": filters, "kinds": HoldKind.choices,
            "statuses": HoldStatus.choices,
        })


class HoldReleaseView(TenantViewMixin, View):
    def post(self, request, tenant_slug, hold_id):
        try:
            services.hold_release(
                tenant=self.tenant, hold_id=hold_id, reason="released in the dashboard",
                actor=request.user,
            )
        except ApplicationError as exc:
            raise Http404(exc.message) from None
        messages.success(request, _("Hold released."))
        return redirect("inventory:hold_list", tenant_slug=tenant_slug)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))
    apply = forms.BooleanField(required=False, label=_("Apply (otherwise a dry run)"))


class _ImportView(BoundedUploadMixin, TenantViewMixin, View):
    """Upload a file: small files are imported now, large ones become a
    job on the worker whose page shows progress."""

    kind: str
    template_name: str

    def get(self, request, tenant_slug, form=None, result=None):
        return render(request, self.template_name, {
            "form": form or UploadForm(), "result": result,
        })

    def post(self, request, tenant_slug):
        form = UploadForm(request.POST, request.FILES)
        if too_large := upload_too_large_message(request):
            form = UploadForm(request.POST)
            form.add_error(None, too_large)
            return self.get(request, tenant_slug, form=form)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        try:
            outcome = import_upload(
                tenant=self.tenant, kind=self.kind, upload=form.cleaned_data["file"],
                apply=form.cleaned_data["apply"], actor=request.user,
            )
        except ApplicationError as exc:
            form.add_error("file", exc.message)
            return self.get(request, tenant_slug, form=form)
        if isinstance(outcome, ImportJob):
            messages.info(request, _("The file is large: the import runs in the background."))
            return redirect("import_job_detail", tenant_slug=tenant_slug, job_id=outcome.pk)
        if outcome.applied:
            messages.success(request, _("Import applied."))
        return self.get(request, tenant_slug, form=UploadForm(), result=outcome)


class ProductImportView(_ImportView):
    kind = "inventory.products"
    template_name = "inventory/product_import.html"


class ProductExportView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        dataset = services.product_export_dataset(tenant=self.tenant)
        return dataset_response(dataset, name="products",
                                file_format=request.GET.get("format", "csv"))


class InboundSupplyImportView(_ImportView):
    kind = "inventory.inbound"
    template_name = "inventory/inbound_supply_import.html"


class ForecastImportView(_ImportView):
    kind = "inventory.forecast"
    template_name = "inventory/forecast_import.html"


class PurchasePlanView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        filters = {"status": request.GET.get("status", ""),
                   "to_order": request.GET.get("to_order", ""),
                   "supplier": request.GET.get("supplier", "")}
        page = self.paginate(
            request, selectors.purchase_plan_list(tenant=self.tenant, filters=filters)
        )
        return render(request, "inventory/purchase_plan.html", {
            "page": page, "filters": filters, "statuses": PlanStatus.choices,
        })

    def post(self, request, tenant_slug):
        services.purchase_plan_refresh(tenant=self.tenant, actor=request.user)
        messages.success(request, _("Purchase plan refreshed."))
        return redirect("inventory:purchase_plan", tenant_slug=tenant_slug)


class PurchasePlanReviewView(TenantViewMixin, View):
    def post(self, request, tenant_slug, line_id):
        status = request.POST.get("status", "")
        line = selectors.purchase_plan_list(tenant=self.tenant).filter(pk=line_id).first()
        if line is None or status not in PlanStatus.values:
            raise Http404("No such plan line.")
        services.purchase_plan_review(
            tenant=self.tenant, line_id=line.pk, status=status, actor=request.user
        )
        return redirect("inventory:purchase_plan", tenant_slug=tenant_slug)


class PurchasePlanExportView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        dataset = export_dataset(headers=[
            "sku", "supplier", "status", "weekly_demand", "safety_stock", "reorder_point",
            "stock_position", "suggested_quantity", "suggested_order_on", "reasoning",
        ], rows=(
            [
                line.product.sku, line.product.supplier.code if line.product.supplier else "",
                line.status, line.weekly_demand, line.safety_stock, line.reorder_point,
                line.stock_position, line.suggested_quantity,
                line.suggested_order_on.isoformat() if line.suggested_order_on else "",
                line.reasoning,
            ]
            for line in selectors.purchase_plan_list(tenant=self.tenant)
        ))
        stamp = timezone.now().strftime("%Y%m%d")
        return dataset_response(dataset, name=f"purchase-plan-{stamp}",
                                file_format=request.GET.get("format", "csv"))


class WarehouseForm(forms.Form):
    code = forms.CharField(max_length=30, label=_("Code"))
    name = forms.CharField(max_length=200, label=_("Name"))
    country = forms.CharField(max_length=2, required=False, label=_("Country"))


class WarehouseListView(TenantViewMixin, View):
    action_role = Role.ADMIN

    def get(self, request, tenant_slug, form=None):
        return render(request, "inventory/warehouse_list.html", {
            "warehouses": selectors.warehouse_list(tenant=self.tenant),
            "form": form or WarehouseForm(),
        })

    def post(self, request, tenant_slug):
        form = WarehouseForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        try:
            services.warehouse_create(
                tenant=self.tenant, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, "; ".join(exc.messages))
            return self.get(request, tenant_slug, form=form)
        messages.success(request, _("Warehouse created."))
        return redirect("inventory:warehouse_list", tenant_slug=tenant_slug)


# --- Settings: suppliers, channel buffer rules, inbound supply ------------

CHANNEL_CHOICES = [("amazon_vendor", _("Amazon Vendor")), ("web_store", _("Web store"))]


class SupplierForm(forms.Form):
    code = forms.CharField(max_length=50, label=_("Code"))
    name = forms.CharField(max_length=200, label=_("Name"))
    lead_time_days = forms.IntegerField(
        min_value=0, max_value=3650, initial=30, label=_("Lead time (days)")
    )
    moq_units = forms.IntegerField(
        min_value=0, max_value=10_000_000, initial=0, label=_("Minimum order (units)")
    )
    case_pack = forms.IntegerField(
        min_value=1, max_value=100_000, initial=1, label=_("Case pack (units)")
    )


class SupplierListView(TenantViewMixin, View):
    """Suppliers with the terms purchase planning uses (admins edit)."""

    action_role = Role.ADMIN

    def get(self, request, tenant_slug, form=None, editing=None):
        return render(request, "inventory/supplier_list.html", {
            "suppliers": selectors.supplier_list(tenant=self.tenant),
            "form": form or SupplierForm(),
            "editing": editing,
        })

    def post(self, request, tenant_slug):
        form = SupplierForm(request.POST)
        supplier_id = request.POST.get("supplier_id", "")
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form, editing=supplier_id)
        data = form.cleaned_data
        try:
            if supplier_id:
                if not supplier_id.isdigit():
                    raise Http404("No such supplier.")
                data.pop("code")
                services.supplier_update(
                    tenant=self.tenant, supplier_id=int(supplier_id), data=data,
                    actor=request.user,
                )
                messages.success(request, _("Supplier saved."))
            else:
                services.supplier_create(tenant=self.tenant, actor=request.user, **data)
                messages.success(request, _("Supplier created."))
        except ApplicationError as exc:
            raise Http404(exc.message) from None
        except ValidationError as exc:
            form.add_error(None, "; ".join(exc.messages))
            return self.get(request, tenant_slug, form=form, editing=supplier_id)
        return redirect("inventory:supplier_list", tenant_slug=tenant_slug)


class ChannelRuleForm(forms.Form):
    channel = forms.ChoiceField(choices=CHANNEL_CHOICES, label=_("Channel"))
    product_sku = forms.CharField(
        required=False, max_length=64, label=_("Product SKU"),
        help_text=_("Empty: the channel's default rule for every product."),
    )
    allocation_percent = forms.DecimalField(
        min_value=0, max_value=100, max_digits=5, decimal_places=2, initial=100,
        label=_("Share of free stock (%)"),
    )
    keep_back = forms.IntegerField(min_value=0, max_value=10_000_000, initial=0,
                                   label=_("Keep back (units)"))
    max_listed = forms.IntegerField(required=False, min_value=0, max_value=10_000_000,
                                    label=_("At most (units)"))
    zero_at = forms.IntegerField(min_value=0, max_value=10_000_000, initial=0,
                                 label=_("List nothing at or below (units)"))
    include_inbound = forms.BooleanField(required=False,
                                         label=_("Promise inbound stock (backorders)"))
    inbound_horizon_days = forms.IntegerField(min_value=0, max_value=365, initial=0,
                                              label=_("Backorder horizon (days)"))


class ChannelRuleListView(TenantViewMixin, View):
    """Channel buffer rules, with a preview of the ATP they give."""

    action_role = Role.ADMIN
    PREVIEW_ROWS = 20  # enough to judge a rule; the stock page shows all

    def get(self, request, tenant_slug, form=None):
        channel = request.GET.get("preview", "amazon_vendor")
        if channel not in dict(CHANNEL_CHOICES):
            channel = "amazon_vendor"
        levels = list(selectors.stock_level_list(tenant=self.tenant)[: self.PREVIEW_ROWS])
        atp = selectors.atp_for_products(
            tenant=self.tenant, channel=channel, product_ids=[lv.product_id for lv in levels]
        )
        preview = [atp[lv.product_id] for lv in levels if lv.product_id in atp]
        return render(request, "inventory/channel_rule_list.html", {
            "rules": selectors.channel_rule_list(tenant=self.tenant),
            "form": form or ChannelRuleForm(),
            "preview": preview,
            "preview_channel": channel,
            "channels": CHANNEL_CHOICES,
        })

    def post(self, request, tenant_slug):
        if "delete" in request.POST:
            rule_id = request.POST["delete"]
            if not rule_id.isdigit():
                raise Http404("No such channel rule.")
            try:
                services.channel_rule_delete(
                    tenant=self.tenant, rule_id=int(rule_id), actor=request.user
                )
            except ApplicationError as exc:
                raise Http404(exc.message) from None
            messages.success(request, _("Rule removed."))
            return redirect("inventory:channel_rule_list", tenant_slug=tenant_slug)
        form = ChannelRuleForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        data = dict(form.cleaned_data)
        sku = data.pop("product_sku").strip()
        try:
            services.channel_rule_set(
                tenant=self.tenant, product=sku or None, actor=request.user, **data
            )
        except (ApplicationError, ValidationError) as exc:
            message = exc.message if isinstance(exc, ApplicationError) else "; ".join(exc.messages)
            form.add_error("product_sku" if sku else None, message)
            return self.get(request, tenant_slug, form=form)
        messages.success(request, _("Rule saved."))
        return redirect(
            f"{request.path}?preview={data['channel']}"
        )


class InboundSupplyForm(forms.Form):
    reference = forms.CharField(max_length=200, label=_("Reference (supplier PO)"))
    product_sku = forms.CharField(max_length=64, label=_("Product SKU"))
    warehouse_code = forms.CharField(max_length=30, label=_("Warehouse code"))
    quantity = forms.IntegerField(min_value=1, max_value=10_000_000, label=_("Quantity"))
    expected_on = forms.DateField(
        label=_("Expected on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class InboundSupplyListView(TenantViewMixin, View):
    """Expected receipts from suppliers: planning and backorders count them."""

    class FilterForm(forms.Form):
        status = forms.ChoiceField(
            required=False, choices=[("", _("Any")), *InboundStatus.choices], label=_("Status")
        )
        q = forms.CharField(required=False, max_length=100, label=_("Search"))

    def get(self, request, tenant_slug, form=None):
        filters_form = self.FilterForm(request.GET or {"status": InboundStatus.OPEN})
        filters = filters_form.cleaned_data if filters_form.is_valid() else {}
        page = self.paginate(
            request, selectors.inbound_supply_list(tenant=self.tenant, filters=filters)
        )
        return render(request, "inventory/inbound_supply_list.html", {
            "page": page,
            "filters": filters_form,
            "form": form or InboundSupplyForm(),
            "statuses": InboundStatus,
        })

    def post(self, request, tenant_slug):
        if "status" in request.POST:
            inbound_id = request.POST.get("inbound_id", "")
            status = request.POST["status"]
            if not inbound_id.isdigit() or status not in InboundStatus.values:
                raise Http404("No such inbound supply.")
            try:
                services.inbound_supply_status_set(
                    tenant=self.tenant, inbound_id=int(inbound_id), status=status,
                    actor=request.user,
                )
            except ApplicationError as exc:
                raise Http404(exc.message) from None
            messages.success(request, _("Inbound supply updated."))
            return redirect("inventory:inbound_supply_list", tenant_slug=tenant_slug)
        form = InboundSupplyForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        data = form.cleaned_data
        try:
            services.inbound_supply_upsert(
                tenant=self.tenant, product=data["product_sku"], warehouse=data["warehouse_code"],
                quantity=data["quantity"], expected_on=data["expected_on"],
                reference=data["reference"], actor=request.user,
            )
        except (ApplicationError, ValidationError) as exc:
            message = exc.message if isinstance(exc, ApplicationError) else "; ".join(exc.messages)
            form.add_error(None, message)
            return self.get(request, tenant_slug, form=form)
        messages.success(request, _("Inbound supply recorded."))
        return redirect("inventory:inbound_supply_list", tenant_slug=tenant_slug)
