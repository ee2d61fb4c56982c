"""Platform admin: tenants, memberships and API keys.

Tenant-owned data is not administered here: row-level security shows the
admin no tenant's rows without a tenant context, by design. Tenant data is
read and changed through the dashboard, where every change is audited.
"""

from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin

from acorn.models import Membership, Tenant, TenantAPIKey


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "timezone", "default_currency", "is_active", "created_at")
    search_fields = ("slug", "name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role", "tenant")
    autocomplete_fields = ("tenant",)


@admin.register(TenantAPIKey)
class TenantAPIKeyAdmin(APIKeyModelAdmin):
    list_display = (*APIKeyModelAdmin.list_display, "tenant", "scopes")
    list_filter = ("tenant", "revoked")
