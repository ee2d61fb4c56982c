"""Dashboard plumbing: the tenant mixin, navigation, and kernel pages."""

from __future__ import annotations

import logging
import smtplib

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn import selectors, services
from acorn.dataio.jobs import import_job_get, importer_get
from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction, Role, Tenant
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
    (_("Inbound supply"), "inventory:inbound_supply_list", Role.VIEWER),
    (_("Purchase plan"), "inventory:purchase_plan", Role.VIEWER),
    (_("Invoices"), "invoicing:invoice_list", Role.VIEWER),
    (_("Credit notes"), "invoicing:credit_note_list", Role.VIEWER),
    (_("Remittances"), "reconciliation:remittance_list", Role.VIEWER),
    (_("Reconciliation overview"), "reconciliation:reconciliation_overview", Role.VIEWER),
    (_("Dispute queue"), "reconciliation:dispute_queue", Role.VIEWER),
    (_("Deductions"), "reconciliation:deduction_list", Role.VIEWER),
    (_("Returns"), "reconciliation:return_list", Role.VIEWER),
    (_("Notifications"), "notification_list", Role.VIEWER),
    (_("Sync runs"), "channels:sync_run_list", Role.VIEWER),
    (_("API call log"), "channels:api_call_list", Role.OPERATIONS),
    (_("Amazon accounts"), "channels:account_list", Role.ADMIN),
    (_("SKU mappings"), "channels:mapping_list", Role.ADMIN),
    (_("GS1 settings"), "channels:gs1_settings", Role.ADMIN),
    (_("Web stores"), "channels:store_list", Role.ADMIN),
    (_("Store listings"), "channels:store_listing_list", Role.VIEWER),
    (_("Store orders"), "channels:store_order_list", Role.VIEWER),
    (_("Legal entity"), "invoicing:legal_entity", Role.ADMIN),
    (_("Dispute settings"), "reconciliation:dispute_settings", Role.ADMIN),
    (_("Tax profiles"), "invoicing:tax_profile_list", Role.ADMIN),
    (_("Number series"), "invoicing:series_list", Role.ADMIN),
    (_("Suppliers"), "inventory:supplier_list", Role.VIEWER),
    (_("Channel buffer rules"), "inventory:channel_rule_list", Role.VIEWER),
    (_("Members"), "member_list", Role.ADMIN),
    (_("API keys"), "api_key_list", Role.ADMIN),
    (_("Audit log"), "audit_log", Role.ADMIN),
    (_("Data retention"), "channels:archive_list", Role.ADMIN),
]


def navigation_context(request):
    """Template context: the user's tenants and the menu for this tenant."""
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {"signup_enabled": settings.ACORN_SIGNUP_ENABLED}
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
    """Members and open invitations: invite, change role, remove, revoke."""

    required_role = Role.ADMIN
    action_role = Role.ADMIN

    class RoleForm(forms.Form):
        membership_id = forms.IntegerField(min_value=1)
        role = forms.ChoiceField(choices=Role.choices)

    class RemoveForm(forms.Form):
        remove = forms.IntegerField(min_value=1)

    class RevokeForm(forms.Form):
        revoke_invitation = forms.IntegerField(min_value=1)

    class InviteForm(forms.Form):
        email = forms.EmailField(label=_("E-mail"))
        role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER, label=_("Role"))

    def get(self, request, tenant_slug, invite_form=None):
        context = {
            "members": selectors.membership_list(tenant=self.tenant),
            "invitations": selectors.invitation_list_open(tenant=self.tenant),
            "roles": Role.choices,
            "invite_form": invite_form or self.InviteForm(),
        }
        return render(request, "acorn/member_list.html", context)

    def post(self, request, tenant_slug):
        try:
            if "invite" in request.POST:
                return self._invite(request, tenant_slug)
            if "remove" in request.POST:
                form = self.RemoveForm(request.POST)
                if not form.is_valid():
                    raise NotFoundError(_("No such member."))
                services.membership_remove(
                    tenant=self.tenant,
                    membership_id=form.cleaned_data["remove"],
                    actor=request.user,
                )
                messages.success(request, _("Member removed."))
            elif "revoke_invitation" in request.POST:
                form = self.RevokeForm(request.POST)
                if not form.is_valid():
                    raise NotFoundError(_("No such invitation."))
                services.invitation_revoke(
                    tenant=self.tenant,
                    invitation_id=form.cleaned_data["revoke_invitation"],
                    actor=request.user,
                )
                messages.success(request, _("Invitation revoked."))
            else:
                self._change_role(request)
        except NotFoundError as exc:
            raise Http404(exc.message) from None
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("member_list", tenant_slug=tenant_slug)

    def _change_role(self, request):
        form = self.RoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a valid role."))
            return
        membership = (
            selectors.membership_list(tenant=self.tenant)
            .filter(pk=form.cleaned_data["membership_id"])
            .first()
        )
        if membership is None:
            raise NotFoundError(_("No such member."))
        services.membership_set(
            tenant=self.tenant,
            user=membership.user,
            role=form.cleaned_data["role"],
            actor=request.user,
        )
        messages.success(request, _("Role updated."))

    def _invite(self, request, tenant_slug):
        form = self.InviteForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, invite_form=form)

        def accept_url_for(token):
            return request.build_absolute_uri(
                reverse("invitation_accept", kwargs={"tenant_slug": tenant_slug, "token": token})
            )

        try:
            invitation = services.invitation_create(
                tenant=self.tenant,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=request.user,
                accept_url_for=accept_url_for,
            )
        except ApplicationError as exc:
            form.add_error("email", exc.message)
            return self.get(request, tenant_slug, invite_form=form)
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
        return redirect("member_list", tenant_slug=tenant_slug)


class ApiKeyListView(TenantViewMixin, View):
    required_role = Role.ADMIN
    action_role = Role.ADMIN

    class CreateForm(forms.Form):
        name = forms.CharField(max_length=50, label=_("Name"))

    class RevokeForm(forms.Form):
        # The key's public prefix (the library's generator makes 8 characters).
        revoke = forms.RegexField(regex=r"^[A-Za-z0-9]{1,16}$")

    def get(self, request, tenant_slug, new_key: str | None = None, form=None):
        keys = selectors.api_key_list(tenant=self.tenant)
        return render(
            request,
            "acorn/api_key_list.html",
            {"keys": keys, "form": form or self.CreateForm(), "new_key": new_key},
        )

    def post(self, request, tenant_slug):
        if "revoke" in request.POST:
            revoke = self.RevokeForm(request.POST)
            if not revoke.is_valid():
                raise Http404("No such API key.")
            try:
                services.api_key_revoke(
                    tenant=self.tenant, prefix=revoke.cleaned_data["revoke"], actor=request.user
                )
            except ApplicationError:
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


# --- Sign-up and invitations (no tenant in the URL's context yet) ----------

logger = logging.getLogger(__name__)
# What a mail server can raise when it is down or refuses the message.
MAIL_ERRORS = (smtplib.SMTPException, OSError)


class SignupForm(forms.Form):
    company_name = forms.CharField(max_length=200, label=_("Company name"))
    email = forms.EmailField(label=_("Work e-mail"))
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password_confirm = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") != cleaned.get("password_confirm"):
            self.add_error("password_confirm", _("The two passwords differ."))
        return cleaned


class SignupView(View):
    """``/accounts/signup/``: a company registers; its admin verifies."""

    def dispatch(self, request, *args, **kwargs):
        if not settings.ACORN_SIGNUP_ENABLED:
            raise Http404("Sign-up is off.")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, form=None):
        return render(request, "registration/signup.html", {"form": form or SignupForm()})

    def post(self, request):
        form = SignupForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form)
        try:
            _tenant, user = services.tenant_signup(
                company_name=form.cleaned_data["company_name"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
            )
            services.signup_verification_send(user=user, verify_url_for=self._verify_url(request))
        except ValidationError as exc:
            form.add_error("password", exc)
            return self.get(request, form=form)
        except ApplicationError as exc:
            form.add_error("email", exc.message)
            return self.get(request, form=form)
        except MAIL_ERRORS:
            # Nothing is kept: the same form can be sent again.
            logger.exception("Sign-up confirmation could not be sent")
            transaction.set_rollback(True)
            form.add_error(None, _("The confirmation e-mail could not be sent. Try again later."))
            return self.get(request, form=form)
        return redirect("signup_sent")

    @staticmethod
    def _verify_url(request):
        def build(uid, token):
            return request.build_absolute_uri(reverse("signup_verify", args=[uid, token]))

        return build


class SignupSentView(View):
    """Check your inbox; ask for the link again (same answer either way)."""

    class ResendForm(forms.Form):
        email = forms.EmailField(label=_("E-mail"))

    def get(self, request):
        return render(request, "registration/signup_sent.html", {"form": self.ResendForm()})

    def post(self, request):
        form = self.ResendForm(request.POST)
        if form.is_valid():
            user = selectors.user_unverified_get(email=form.cleaned_data["email"])
            if user is not None:
                try:
                    services.signup_verification_send(
                        user=user, verify_url_for=SignupView._verify_url(request)
                    )
                except MAIL_ERRORS:
                    logger.exception("Sign-up confirmation could not be re-sent")
            # The same words whether or not the address is known: the page
            # must not tell who has an account.
            messages.success(
                request, _("If that address waits for confirmation, a new link is on its way.")
            )
        return render(request, "registration/signup_sent.html", {"form": form})


class SignupVerifyView(View):
    """The link in the e-mail: confirm (POST, so link scanners do nothing)."""

    def get(self, request, uidb64, token):
        return render(request, "registration/signup_verify.html", {"valid": True})

    def post(self, request, uidb64, token):
        try:
            user = services.signup_verify(uid=uidb64, token=token)
        except NotFoundError as exc:
            return render(
                request,
                "registration/signup_verify.html",
                {"valid": False, "message": exc.message},
                status=404,
            )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Your e-mail address is confirmed. Welcome to ACORN."))
        return redirect("root")


class InvitationAcceptView(View):
    """``/invite/<tenant_slug>/<token>/``: join a tenant from an e-mailed link."""

    class PasswordForm(forms.Form):
        password = forms.CharField(
            label=_("Choose a password"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
            help_text=password_validators_help_text_html(),
        )
        password_confirm = forms.CharField(
            label=_("Password again"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        )

        def clean(self):
            cleaned = super().clean()
            if cleaned.get("password") != cleaned.get("password_confirm"):
                self.add_error("password_confirm", _("The two passwords differ."))
            return cleaned

    def _invitation(self, tenant_slug, token):
        tenant = Tenant.objects.filter(slug=tenant_slug, is_active=True).first()
        if tenant is None:
            raise NotFoundError(_(services.INVITATION_INVALID_MESSAGE))
        return tenant, services.invitation_open_get(tenant=tenant, token=token)

    def _render(self, request, tenant, invitation, form=None, status=200):
        context = {
            "invited_tenant": tenant,
            "invitation": invitation,
            "form": form or self.PasswordForm(),
            "account_exists": selectors.user_exists(email=invitation.email),
        }
        return render(request, "registration/invitation_accept.html", context, status=status)

    def _invalid(self, request, exc):
        return render(
            request,
            "registration/invitation_accept.html",
            {"invalid": exc.message},
            status=404,
        )

    def get(self, request, tenant_slug, token):
        try:
            tenant, invitation = self._invitation(tenant_slug, token)
        except NotFoundError as exc:
            return self._invalid(request, exc)
        return self._render(request, tenant, invitation)

    def post(self, request, tenant_slug, token):
        try:
            tenant, invitation = self._invitation(tenant_slug, token)
        except NotFoundError as exc:
            return self._invalid(request, exc)
        form = None
        password = ""
        if not request.user.is_authenticated:
            form = self.PasswordForm(request.POST)
            if not form.is_valid():
                return self._render(request, tenant, invitation, form=form, status=400)
            password = form.cleaned_data["password"]
        try:
            user = services.invitation_accept(
                tenant=tenant, token=token, user=request.user, password=password
            )
        except ValidationError as exc:
            form.add_error("password", exc)
            return self._render(request, tenant, invitation, form=form, status=400)
        except NotFoundError as exc:
            return self._invalid(request, exc)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return self._render(request, tenant, invitation, form=form, status=exc.status_code)
        if not request.user.is_authenticated:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("You joined %(tenant)s.") % {"tenant": tenant.name})
        return redirect("tenant_home", tenant_slug=tenant.slug)


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
