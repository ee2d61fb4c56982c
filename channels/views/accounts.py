"""Amazon vendor accounts (admins): list, create, edit, switch environment,
test connection.

Every view that receives the LWA secrets marks them sensitive, so a debug
error page or an error report never shows them (Django's
``sensitive_post_parameters``; the services mark their locals with
``sensitive_variables``).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from acorn.exceptions import ApplicationError
from acorn.models import Role
from acorn.views import TenantViewMixin
from channels.models import SyncStatus
from channels.selectors.accounts import account_get, account_list
from channels.selectors.api_health import (
    api_call_stats,
    api_health_open_alerts,
    api_health_window,
)
from channels.services.accounts import (
    account_create,
    account_destination_change,
    account_secret_due_on,
    account_test_connection,
    account_update,
)
from channels.services.clients import account_endpoint_unchecked
from channels.views.forms import (
    AccountDestinationConfirmForm,
    AccountDestinationForm,
    AccountEditForm,
    AccountForm,
    ShipFromForm,
)

SECRET_PARAMETERS = ("lwa_client_secret", "lwa_refresh_token")
sensitive_secrets = method_decorator(sensitive_post_parameters(*SECRET_PARAMETERS),
                                     name="dispatch")


class AdminOnlyMixin(TenantViewMixin):
    required_role = Role.ADMIN
    action_role = Role.ADMIN

    def _account(self, account_id):
        account = account_get(tenant=self.tenant, account_id=account_id)
        if account is None:
            raise Http404("No such account.")
        return account


def _add_service_error(form, error: ApplicationError) -> None:
    field = error.extra.get("field")
    form.add_error(field if field in form.fields else None, error.message)


def _ship_from(previous: dict | None, ship_from_form: ShipFromForm) -> dict:
    """The posted party and address, keeping other keys already stored."""
    kept = {k: v for k, v in (previous or {}).items() if k not in ("partyId", "address")}
    return {**kept, **ship_from_form.ship_from()}


class AccountListView(AdminOnlyMixin, View):
    def get(self, request, tenant_slug):
        return render(request, "channels/account_list.html",
                      {"accounts": account_list(tenant=self.tenant)})


@sensitive_secrets
class AccountCreateView(AdminOnlyMixin, View):
    def get(self, request, tenant_slug, form=None, ship_from_form=None):
        return render(request, "channels/account_form.html", {
            "form": form or AccountForm(), "account": None,
            "ship_from_form": ship_from_form or ShipFromForm(prefix="ship_from"),
        })

    @sensitive_variables()
    def post(self, request, tenant_slug):
        form = AccountForm(request.POST)
        ship_from_form = ShipFromForm(request.POST, prefix="ship_from")
        if not (form.is_valid() & ship_from_form.is_valid()):
            return self.get(request, tenant_slug, form=form, ship_from_form=ship_from_form)
        data = {**form.cleaned_data, "ship_from": _ship_from({}, ship_from_form)}
        try:
            account = account_create(tenant=self.tenant, actor=request.user, **data)
        except ApplicationError as error:
            _add_service_error(form, error)
            return self.get(request, tenant_slug, form=form, ship_from_form=ship_from_form)
        messages.success(request, _("Amazon vendor account created."))
        return redirect("channels:account_edit", tenant_slug=tenant_slug, account_id=account.pk)


@sensitive_secrets
class AccountEditView(AdminOnlyMixin, View):
    def get(self, request, tenant_slug, account_id, form=None, ship_from_form=None):
        account = self._account(account_id)
        form = form or AccountEditForm(initial=AccountEditForm.initial_for(account))
        ship_from_form = ship_from_form or ShipFromForm(
            prefix="ship_from", initial=ShipFromForm.initial_for(account.ship_from))
        endpoint = account_endpoint_unchecked(
            environment=account.environment, region=account.region,
            endpoint_override=account.endpoint_override)
        window = api_health_window()
        return render(request, "channels/account_form.html", {
            "form": form, "account": account, "ship_from_form": ship_from_form,
            "api_base_url": endpoint.api_base_url, "lwa_token_url": endpoint.lwa_token_url,
            "secret_due_on": account_secret_due_on(account=account),
            # API health over the window, per operation (one query).
            "api_stats": api_call_stats(tenant=self.tenant, account=account,
                                        since=timezone.now() - window),
            "api_alerts": api_health_open_alerts(tenant=self.tenant, account=account),
            "api_window_minutes": int(window.total_seconds() // 60),
        })

    @sensitive_variables()
    def post(self, request, tenant_slug, account_id):
        account = self._account(account_id)
        form = AccountEditForm(request.POST)
        ship_from_form = ShipFromForm(request.POST, prefix="ship_from")
        if not (form.is_valid() & ship_from_form.is_valid()):
            return self.get(request, tenant_slug, account_id, form=form,
                            ship_from_form=ship_from_form)
        data = {**form.cleaned_data, "ship_from": _ship_from(account.ship_from, ship_from_form)}
        try:
            _account, changed = account_update(tenant=self.tenant, account=account,
                                               data=data, actor=request.user)
        except ApplicationError as error:
            _add_service_error(form, error)
            return self.get(request, tenant_slug, account_id, form=form,
                            ship_from_form=ship_from_form)
        if changed:
            messages.success(request, _("Account saved."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("channels:account_edit", tenant_slug=tenant_slug, account_id=account_id)


@sensitive_secrets
class AccountDestinationView(AdminOnlyMixin, View):
    """Switch between the local sandbox, Amazon's sandbox and production
    (or change region / endpoint): choose, review, re-enter the secrets and
    confirm. GET without ``step`` shows the choice; GET with
    ``step=review`` the confirmation page; POST applies."""

    template_name = "channels/account_destination.html"

    def _render(self, request, account, form, *, review: bool, target: dict | None = None,
                status: int = 200):
        current = account_endpoint_unchecked(
            environment=account.environment, region=account.region,
            endpoint_override=account.endpoint_override)
        context = {"account": account, "form": form, "review": review,
                   "current_api_base_url": current.api_base_url,
                   "current_lwa_token_url": current.lwa_token_url}
        if target and all(key in target for key in ("environment", "region", "endpoint_override")):
            new = account_endpoint_unchecked(
                environment=target["environment"], region=target["region"],
                endpoint_override=target.get("endpoint_override") or "")
            context.update({
                "new_api_base_url": new.api_base_url, "new_lwa_token_url": new.lwa_token_url,
                "new_environment": target["environment"],
            })
        return render(request, self.template_name, context, status=status)

    def get(self, request, tenant_slug, account_id):
        account = self._account(account_id)
        if request.GET.get("step") == "review":
            choice = AccountDestinationForm(request.GET)
            if choice.is_valid():
                form = AccountDestinationConfirmForm(initial=choice.cleaned_data)
                return self._render(request, account, form, review=True,
                                    target=choice.cleaned_data)
            return self._render(request, account, choice, review=False)
        form = AccountDestinationForm(initial={
            "environment": account.environment, "region": account.region,
            "endpoint_override": account.endpoint_override})
        return self._render(request, account, form, review=False)

    @sensitive_variables()
    def post(self, request, tenant_slug, account_id):
        account = self._account(account_id)
        form = AccountDestinationConfirmForm(request.POST)
        if not form.is_valid():
            return self._render(request, account, form, review=True,
                                target=form.cleaned_data, status=400)
        try:
            account_destination_change(
                tenant=self.tenant, account=account, actor=request.user,
                environment=form.cleaned_data["environment"],
                region=form.cleaned_data["region"],
                endpoint_override=form.cleaned_data.get("endpoint_override", ""),
                lwa_client_secret=form.cleaned_data["lwa_client_secret"],
                lwa_refresh_token=form.cleaned_data["lwa_refresh_token"],
            )
        except ApplicationError as error:
            _add_service_error(form, error)
            return self._render(request, account, form, review=True,
                                target=form.cleaned_data, status=400)
        messages.success(request, _("Environment switched. Test the connection now."))
        return redirect("channels:account_edit", tenant_slug=tenant_slug, account_id=account_id)


class AccountTestConnectionView(AdminOnlyMixin, View):
    @sensitive_variables()
    def post(self, request, tenant_slug, account_id):
        account = self._account(account_id)
        run = account_test_connection(tenant=self.tenant, account=account, actor=request.user)
        if run.status == SyncStatus.SUCCEEDED:
            messages.success(request, _("Connection OK (request id %(request_id)s).")
                             % {"request_id": run.request_id or "-"})
        else:
            messages.error(request, _("Connection failed: %(code)s %(message)s "
                                      "(request id %(request_id)s).")
                           % {"code": run.error_code, "message": run.error_message[:300],
                              "request_id": run.request_id or "-"})
        return redirect("channels:account_edit", tenant_slug=tenant_slug, account_id=account_id)
