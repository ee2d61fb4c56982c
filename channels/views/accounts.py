"""Amazon vendor accounts (admins): list, create, edit, test connection."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

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
from channels.services.accounts import account_create, account_test_connection, account_update
from channels.views.forms import AccountForm


class AdminOnlyMixin(TenantViewMixin):
    required_role = Role.ADMIN
    action_role = Role.ADMIN


class AccountListView(AdminOnlyMixin, View):
    def get(self, request, tenant_slug):
        return render(request, "channels/account_list.html",
                      {"accounts": account_list(tenant=self.tenant)})


class AccountCreateView(AdminOnlyMixin, View):
    def get(self, request, tenant_slug, form=None):
        return render(request, "channels/account_form.html",
                      {"form": form or AccountForm(), "account": None})

    def post(self, request, tenant_slug):
        form = AccountForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        try:
            account = account_create(tenant=self.tenant, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self.get(request, tenant_slug, form=form)
        messages.success(request, _("Amazon vendor account created."))
        return redirect("channels:account_edit", tenant_slug=tenant_slug, account_id=account.pk)


class AccountEditView(AdminOnlyMixin, View):
    def _account(self, account_id):
        account = account_get(tenant=self.tenant, account_id=account_id)
        if account is None:
            raise Http404("No such account.")
        return account

    def get(self, request, tenant_slug, account_id, form=None):
        account = self._account(account_id)
        form = form or AccountForm(initial=AccountForm.initial_for(account))
        window = api_health_window()
        return render(request, "channels/account_form.html", {
            "form": form, "account": account,
            # API health over the window, per operation (one query).
            "api_stats": api_call_stats(tenant=self.tenant, account=account,
                                        since=timezone.now() - window),
            "api_alerts": api_health_open_alerts(tenant=self.tenant, account=account),
            "api_window_minutes": int(window.total_seconds() // 60),
        })

    def post(self, request, tenant_slug, account_id):
        account = self._account(account_id)
        form = AccountForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, account_id, form=form)
        try:
            _account, changed = account_update(tenant=self.tenant, account=account,
                                               data=form.cleaned_data, actor=request.user)
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self.get(request, tenant_slug, account_id, form=form)
        if changed:
            messages.success(request, _("Account saved."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("channels:account_edit", tenant_slug=tenant_slug, account_id=account_id)


class AccountTestConnectionView(AdminOnlyMixin, View):
    def post(self, request, tenant_slug, account_id):
        account = account_get(tenant=self.tenant, account_id=account_id)
        if account is None:
            raise Http404("No such account.")
        run = account_test_connection(tenant=self.tenant, account=account, actor=request.user)
        if run.status == SyncStatus.SUCCEEDED:
            messages.success(request, _("Connection OK (request id %(request_id)s).")
                             % {"request_id": run.request_id or "-"})
        else:
            messages.error(request, _("Connection failed: %(code)s %(message)s "
                                      "(request id %(request_id)s).")
                           % {"code": run.error_code, "message": run.error_message[:200],
                              "request_id": run.request_id or "-"})
        return redirect("channels:account_edit", tenant_slug=tenant_slug, account_id=account_id)
