"""GS1 settings: the company prefix SSCCs are built from (admins)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.exceptions import ApplicationError
from acorn.models import Role
from acorn.views import TenantViewMixin
from channels.gs1 import sscc_build, sscc_human_readable
from channels.selectors.shipments import gs1_settings_get
from channels.services.gs1_settings import gs1_settings_set


class Gs1SettingsForm(forms.Form):
    company_prefix = forms.RegexField(
        regex=r"^\d{6,12}$", label=_("GS1 company prefix"),
        help_text=_("6 to 12 digits, from your GS1 member organisation."),
        error_messages={"invalid": _("The GS1 company prefix must be 6 to 12 digits.")},
    )
    extension_digit = forms.IntegerField(
        min_value=0, max_value=9, initial=0, label=_("SSCC extension digit")
    )
    next_serial = forms.IntegerField(
        min_value=1, max_value=10**16, required=False, label=_("Next serial"),
        help_text=_("Raise it to continue after serials another system already used."),
    )


class Gs1SettingsView(TenantViewMixin, View):
    required_role = Role.ADMIN
    action_role = Role.ADMIN

    def get(self, request, tenant_slug, form=None):
        row = gs1_settings_get(tenant=self.tenant)
        initial = (
            {"company_prefix": row.company_prefix, "extension_digit": row.extension_digit,
             "next_serial": row.next_serial} if row else {}
        )
        example = ""
        if row:
            example = sscc_human_readable(sscc_build(
                extension_digit=row.extension_digit, company_prefix=row.company_prefix,
                serial=row.next_serial,
            ))
        return render(request, "channels/gs1_settings.html", {
            "form": form or Gs1SettingsForm(initial=initial), "settings_row": row,
            "example": example,
        })

    def post(self, request, tenant_slug):
        form = Gs1SettingsForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        try:
            gs1_settings_set(tenant=self.tenant, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self.get(request, tenant_slug, form=form)
        messages.success(request, _("GS1 settings saved."))
        return redirect("channels:gs1_settings", tenant_slug=tenant_slug)
