"""Dashboard pages of the invoicing app: the legal entity and tax numbers."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.exceptions import ApplicationError
from acorn.models import Role
from acorn.views import TenantViewMixin
from invoicing import selectors, services
from invoicing.models import LegalEntity, TaxScheme


class LegalEntityForm(forms.ModelForm):
    class Meta:
        model = LegalEntity
        fields = services.LEGAL_ENTITY_FIELDS
        labels = {
            "legal_name": _("Legal name"), "trading_name": _("Trading name"),
            "registration_number": _("Company registration number"),
            "address_line1": _("Address line 1"), "address_line2": _("Address line 2"),
            "city": _("City"), "state_or_region": _("State or region"),
            "postal_code": _("Postal code"), "country_code": _("Country code"),
            "email": _("Invoice e-mail"), "phone": _("Phone"), "bank_name": _("Bank"),
            "iban": _("IBAN"), "bic": _("BIC"),
        }

    def clean_country_code(self):
        return self.cleaned_data["country_code"].strip().upper()


class TaxRegistrationForm(forms.Form):
    scheme = forms.ChoiceField(choices=TaxScheme.choices, label=_("Scheme"))
    country_code = forms.RegexField(
        regex=r"^[A-Za-z]{2}$", label=_("Country code"),
        error_messages={"invalid": _("Use the two-letter ISO country code.")},
    )
    state = forms.CharField(required=False, max_length=2, label=_("US state"))
    number = forms.CharField(max_length=40, label=_("Number"))
    valid_from = forms.DateField(required=False, label=_("Valid from"),
                                 widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(required=False, label=_("Valid until"),
                                  widget=forms.DateInput(attrs={"type": "date"}))


class LegalEntityView(TenantViewMixin, View):
    """The seller on every invoice: name, address, bank, tax numbers."""

    required_role = Role.ADMIN
    action_role = Role.ADMIN

    def get(self, request, tenant_slug, entity_form=None, tax_form=None):
        entity = selectors.legal_entity_get(tenant=self.tenant)
        return render(request, "invoicing/legal_entity.html", {
            "entity_form": entity_form or LegalEntityForm(instance=entity),
            "tax_form": tax_form or TaxRegistrationForm(),
            "registrations": selectors.tax_registration_list(tenant=self.tenant),
            "entity": entity,
        })

    def post(self, request, tenant_slug):
        if "remove_registration" in request.POST:
            return self._remove(request, tenant_slug)
        if "add_registration" in request.POST:
            return self._add(request, tenant_slug)
        form = LegalEntityForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, entity_form=form)
        try:
            services.legal_entity_set(
                tenant=self.tenant, data=form.cleaned_data, actor=request.user
            )
        except ValidationError as exc:
            _form_errors(form, exc)
            return self.get(request, tenant_slug, entity_form=form)
        messages.success(request, _("Legal entity saved."))
        return redirect("invoicing:legal_entity", tenant_slug=tenant_slug)

    def _add(self, request, tenant_slug):
        form = TaxRegistrationForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, tax_form=form)
        try:
            services.tax_registration_add(
                tenant=self.tenant, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors(form, exc, default_field="number")
            return self.get(request, tenant_slug, tax_form=form)
        messages.success(request, _("Tax registration added."))
        return redirect("invoicing:legal_entity", tenant_slug=tenant_slug)

    def _remove(self, request, tenant_slug):
        registration_id = request.POST["remove_registration"]
        if not registration_id.isdigit():
            raise Http404("No such tax registration.")
        try:
            services.tax_registration_remove(
                tenant=self.tenant, registration_id=int(registration_id), actor=request.user
            )
        except ApplicationError as exc:
            raise Http404(exc.message) from None
        messages.success(request, _("Tax registration removed."))
        return redirect("invoicing:legal_entity", tenant_slug=tenant_slug)


def _form_errors(form, exc: ValidationError, default_field=None) -> None:
    """Put a service's ValidationError on the form, by field where it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else default_field, errors)
    else:
        form.add_error(default_field, exc.messages)
