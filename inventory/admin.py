"""Platform admin: every tenant's rows (``all_tenants``), ledger read-only."""

from django.contrib import admin

from inventory.models import (
    AmazonForecast,
    ChannelRule,
    Hold,
    HoldLine,
    Product,
    PurchasePlanLine,
    StockLevel,
    StockMovement,
    Supplier,
    Warehouse,
)


class AllTenantsAdmin(admin.ModelAdmin):
    list_select_related = ("tenant",)

    def get_queryset(self, request):
        return self.model.all_tenants.select_related("tenant")


class ReadOnlyAdmin(AllTenantsAdmin):
    """Stock figures change only through services (ledger + locks)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(AllTenantsAdmin):
    list_display = ("sku", "name", "tenant", "gtin", "asin", "is_active")
    list_filter = ("tenant", "is_active", "is_lot_tracked")
    search_fields = ("sku", "name", "gtin", "asin")


@admin.register(Warehouse)
class WarehouseAdmin(AllTenantsAdmin):
    list_display = ("code", "name", "tenant", "is_active")
    list_filter = ("tenant",)


@admin.register(Supplier)
class SupplierAdmin(AllTenantsAdmin):
    list_display = ("code", "name", "tenant", "lead_time_days", "moq_units")
    list_filter = ("tenant",)


@admin.register(ChannelRule)
class ChannelRuleAdmin(AllTenantsAdmin):
    list_display = ("channel", "product", "tenant", "allocation_percent", "keep_back",
                    "max_listed", "zero_at")
    list_filter = ("tenant", "channel")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "tenant", "product", "warehouse", "kind", "quantity",
                    "source_ref")
    list_filter = ("tenant", "kind")
    list_select_related = ("tenant", "product", "warehouse")


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ("product", "tenant", "on_hand", "held", "reserved")
    list_select_related = ("tenant", "product")


class HoldLineInline(admin.TabularInline):
    model = HoldLine
    extra = 0
    can_delete = False
    readonly_fields = ("product", "line_ref", "quantity", "open_quantity", "consumed_quantity",
                       "released_quantity")

    def get_queryset(self, request):
        return HoldLine.all_tenants.select_related("product")


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "tenant", "kind", "source_type", "source_ref", "status")
    list_filter = ("tenant", "kind", "status")
    inlines = [HoldLineInline]


@admin.register(AmazonForecast)
class AmazonForecastAdmin(AllTenantsAdmin):
    list_display = ("asin", "week_start", "tenant", "mean", "p90")
    list_filter = ("tenant",)


@admin.register(PurchasePlanLine)
class PurchasePlanLineAdmin(ReadOnlyAdmin):
    list_display = ("product", "tenant", "status", "suggested_quantity", "suggested_order_on")
    list_filter = ("tenant", "status")
