"""Platform admin: tenants, memberships and API keys.

Tenant-owned data is not administered here: row-level security shows the
admin no tenant's rows without a tenant context, by design. Tenant data is
read and changed through the dashboard, where every change is audited.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.admin import APIKeyModelAdmin

from acorn import services
from acorn.models import Membership, Tenant, TenantAPIKey


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "timezone", "default_currency", "is_active", "created_at")
    search_fields = ("slug", "name")
    # Enabling and disabling go through the service, which audits the
    # change inside the tenant; the checkbox on the form is read-only.
    readonly_fields = ("is_active",)
    actions = ["disable_tenants", "enable_tenants"]

    @admin.action(description=_("Disable the selected tenants"))
    def disable_tenants(self, request, queryset):
        for tenant in queryset:
            services.tenant_set_active(tenant=tenant, active=False, actor=request.user)

    @admin.action(description=_("Enable the selected tenants"))
    def enable_tenants(self, request, queryset):
        for tenant in queryset:
            services.tenant_set_active(tenant=tenant, active=True, actor=request.user)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role", "tenant")
    autocomplete_fields = ("tenant",)


@admin.register(TenantAPIKey)
class TenantAPIKeyAdmin(APIKeyModelAdmin):
    list_display = (*APIKeyModelAdmin.list_display, "tenant", "scopes")
    list_filter = ("tenant", "revoked")
