"""Platform admin: tenants, memberships and API keys.

Tenant-owned data is not administered here: row-level security shows the
admin no tenant's rows without a tenant context, by design. Tenant data is
read and changed through the dashboard, where every change is audited.
"""

from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin

from acorn.models import Membership, PlatformTaskFailure, Tenant, TenantAPIKey


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


@admin.register(PlatformTaskFailure)
class PlatformTaskFailureAdmin(admin.ModelAdmin):
    """Failed platform tasks (no tenant): what operators must look at."""

    list_display = ("task_name", "status", "failure_count", "last_failed_at", "last_error_type")
    list_filter = ("status",)
    search_fields = ("task_name", "last_error_message")
    readonly_fields = (
        "task_name", "failure_count", "first_failed_at", "last_failed_at", "last_task_id",
        "last_error_type", "last_error_message", "tenant_ref", "created_at", "updated_at",
    )
