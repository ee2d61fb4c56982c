"""Platform admin: tenants, with their memberships and API keys.

Tenant-owned data is not administered here: row-level security shows the
admin no tenant's rows without a tenant context, by design. Tenant data is
read and changed through the dashboard, where every change is audited.

Memberships and API keys are tenant rows too (acorn/rls.py), so they are
edited inline on their tenant's page, which the admin opens inside that
tenant's scope: platform staff bootstrap a tenant's first admin there.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.utils.translation import gettext_lazy as _

from acorn import services
from acorn.models import Membership, PlatformTaskFailure, Tenant, TenantAPIKey
from acorn.tenancy import tenant_scope


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)


class TenantAPIKeyInline(admin.TabularInline):
    """Keys are created (the plaintext shown once) and revoked, with an
    audit entry, on the tenant's API keys page; here they are listed."""

    model = TenantAPIKey
    extra = 0
    can_delete = False
    fields = ("name", "prefix", "scopes", "created", "last_used_at", "expiry_date", "revoked")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "timezone", "default_currency", "is_active", "created_at")
    search_fields = ("slug", "name")
    inlines = [MembershipInline, TenantAPIKeyInline]
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

    def _in_tenant_scope(self, request, object_id, view):
        tenant = self.get_object(request, unquote(object_id)) if object_id else None
        if tenant is None:
            return view()
        with tenant_scope(tenant):
            response = view()
            # Inline rows are read while the template renders: render here.
            if hasattr(response, "render"):
                response.render()
            return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._in_tenant_scope(
            request,
            object_id,
            lambda: super(TenantAdmin, self).changeform_view(
                request, object_id, form_url, extra_context
            ),
        )

    def delete_view(self, request, object_id, extra_context=None):
        return self._in_tenant_scope(
            request,
            object_id,
            lambda: super(TenantAdmin, self).delete_view(request, object_id, extra_context),
        )

    def save_related(self, request, form, formsets, change):
        # A tenant added with its first members: their rows need its scope.
        with tenant_scope(form.instance):
            super().save_related(request, form, formsets, change)


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
