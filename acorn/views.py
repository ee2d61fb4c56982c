"""Dashboard plumbing: the tenant mixin, navigation, and kernel pages."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn import selectors, services
from acorn.dataio.jobs import import_job_get, importer_get
from acorn.exceptions import ApplicationError
from acorn.models import AuditAction, Role
from acorn.tenancy import TenantRef, _current_tenant

# The navigation, in order: (label, URL name, lowest role that sees it).
# Entries whose URL does not exist (an app not built yet) are skipped.
NAVIGATION = [
    (_("Overview"), "tenant_home", Role.VIEWER),
    (_("Purchase orders"), "channels:po_list", Role.VIEWER),
    (_("Acknowledgements"), "channels:ack_queue", Role.OPERATIONS),
    (_("Shipments"), "channels:shipment_list", Role.VIEWER),
    (_("Exceptions"), "channels:exception_list", Role.OPERATIONS),
    (_("Submissions"), "channels:submission_list", Role.VIEWER),
    (_("Vendor KPIs"), "channels:vendor_kpis", Role.VIEWER),
    (_("Stock"), "inventory:stock_list", Role.VIEWER),
    (_("Products"), "inventory:product_list", Role.VIEWER),
    (_("Holds"), "inventory:hold_list", Role.VIEWER),
    (_("Warehouses"), "inventory:warehouse_list", Role.VIEWER),
    (_("Purchase plan"), "inventory:purchase_plan", Role.VIEWER),
    (_("Invoices"), "invoicing:invoice_list", Role.VIEWER),
    (_("Remittances"), "reconciliation:remittance_list", Role.VIEWER),
    (_("Sync runs"), "channels:sync_run_list", Role.VIEWER),
    (_("API call log"), "channels:api_call_list", Role.OPERATIONS),
    (_("Amazon accounts"), "channels:account_list", Role.ADMIN),
    (_("SKU mappings"), "channels:mapping_list", Role.ADMIN),
    (_("Members"), "member_list", Role.ADMIN),
    (_("API keys"), "api_key_list", Role.ADMIN),
    (_("Audit log"), "audit_log", Role.ADMIN),
]


def navigation_context(request):
    """Template context: the user's tenants and the menu for this tenant."""
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    context = {"memberships": list(selectors.membership_list_for_user(user=user))}
    if membership is None:
        return context
    items = []
    for label, url_name, role in NAVIGATION:
        if not membership.allows(role):
            continue
        try:
            url = reverse(url_name, kwargs={"tenant_slug": membership.tenant.slug})
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "active": request.path.startswith(url)})
    # The overview is a prefix of every page: mark it only when exact.
    if items and items[0]["url"] != request.path:
        items[0]["active"] = False
    context.update({"navigation": items, "tenant": membership.tenant, "membership": membership})
    return context


class TenantViewMixin(LoginRequiredMixin):
    """Every dashboard page under /t/<tenant_slug>/.

    Checks membership (404 for a tenant the user is not in, never a hint
    that it exists), checks the role (403), enters the tenant context and
    always leaves it. ``required_role`` reads; ``action_role`` guards POST.
    """

    required_role: str = Role.VIEWER
    action_role: str = Role.OPERATIONS

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        membership = selectors.membership_get(user=request.user, tenant_slug=kwargs["tenant_slug"])
        if membership is None:
            raise Http404("No such tenant.")
        needed = (
            self.action_role
            if request.method not in ("GET", "HEAD", "OPTIONS")
            else self.required_role
        )
        if not membership.allows(needed):
            raise PermissionDenied("Your role does not allow this.")
        request.membership = membership
        self.tenant = membership.tenant
        token = _current_tenant.set(TenantRef(id=membership.tenant_id, slug=membership.tenant.slug))
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            _current_tenant.reset(token)

    def paginate(self, request, queryset, per_page: int = 50):
        return Paginator(queryset, per_page).get_page(request.GET.get("page"))


class RootView(LoginRequiredMixin, View):
    """``/``: straight into the only tenant, or the picker."""

    def get(self, request):
        memberships = list(selectors.membership_list_for_user(user=request.user))
        if len(memberships) == 1:
            return redirect("tenant_home", tenant_slug=memberships[0].tenant.slug)
        return render(request, "acorn/tenant_picker.html", {"memberships": memberships})


class AuditLogView(TenantViewMixin, View):
    required_role = Role.ADMIN

    def get(self, request, tenant_slug):
        filters = {key: request.GET.get(key, "") for key in ("object_type", "action", "actor")}
        entries = selectors.audit_entry_list(tenant=self.tenant, filters=filters)
        return render(
            request,
            "acorn/audit_log.html",
            {
                "page": self.paginate(request, entries),
                "filters": filters,
                "actions": AuditAction.choices,
            },
        )


class MemberListView(TenantViewMixin, View):
    required_role = Role.ADMIN
    action_role = Role.ADMIN

    class RoleForm(forms.Form):
        membership_id = forms.IntegerField()
        role = forms.ChoiceField(choices=Role.choices)

    def get(self, request, tenant_slug):
        members = selectors.membership_list(tenant=self.tenant)
        return render(
            request, "acorn/member_list.html", {"members": members, "roles": Role.choices}
        )

    def post(self, request, tenant_slug):
        form = self.RoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a valid role."))
            return redirect("member_list", tenant_slug=tenant_slug)
        membership = (
            selectors.membership_list(tenant=self.tenant)
            .filter(pk=form.cleaned_data["membership_id"])
            .first()
        )
        if membership is None:
            raise Http404("No such member.")
        services.membership_set(
            tenant=self.tenant,
            user=membership.user,
            role=form.cleaned_data["role"],
            actor=request.user,
        )
        messages.success(request, _("Role updated."))
        return redirect("member_list", tenant_slug=tenant_slug)


class ApiKeyListView(TenantViewMixin, View):
    required_role = Role.ADMIN
    action_role = Role.ADMIN

    class CreateForm(forms.Form):
        name = forms.CharField(max_length=50, label=_("Name"))

    def get(self, request, tenant_slug, new_key: str | None = None, form=None):
        keys = selectors.api_key_list(tenant=self.tenant)
        return render(
            request,
            "acorn/api_key_list.html",
            {"keys": keys, "form": form or self.CreateForm(), "new_key": new_key},
        )

    def post(self, request, tenant_slug):
        if "revoke" in request.POST:
            try:
                services.api_key_revoke(
                    tenant=self.tenant, api_key_id=int(request.POST["revoke"]), actor=request.user
                )
            except (ApplicationError, ValueError):
                raise Http404("No such API key.") from None
            messages.success(request, _("API key revoked."))
            return redirect("api_key_list", tenant_slug=tenant_slug)
        form = self.CreateForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        _api_key, plaintext = services.api_key_create(
            tenant=self.tenant, name=form.cleaned_data["name"], actor=request.user
        )
        # Shown once, on this response only: the key is stored hashed.
        return self.get(request, tenant_slug, new_key=plaintext)


# A running import's page reloads this often: progress is written every
# 1,000 rows, a few times a second on a busy file.
JOB_PAGE_REFRESH_S = 2


class ImportJobDetailView(TenantViewMixin, View):
    """A large import running on the worker: progress while it runs (the
    page refreshes itself), then the result, or the reason it failed."""

    def get(self, request, tenant_slug, job_id):
        job = import_job_get(tenant=self.tenant, job_id=job_id)
        if job is None:
            raise Http404("No such import.")
        try:
            importer = importer_get(job.kind)
        except ApplicationError:
            raise Http404("No such import.") from None
        if not request.membership.allows(importer.role):
            raise PermissionDenied("Your role does not allow this.")
        response = render(request, "acorn/import_job_detail.html", {
            "job": job, "importer": importer, "result": job.result or None,
            "page_url": reverse(importer.page_url_name, kwargs={"tenant_slug": tenant_slug}),
        })
        if not job.is_done:
            # The Refresh header reloads the page without any script (CSP).
            response["Refresh"] = str(JOB_PAGE_REFRESH_S)
        return response
