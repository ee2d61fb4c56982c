"""Admin pages: tax profiles and number series."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import Role
from acorn.views import TenantViewMixin
from invoicing import selectors
from invoicing.models import DocumentKind, TaxCategory, TaxScheme
from invoicing.services.series import number_series_create, number_series_update
from invoicing.services.tax_profiles import (
    tax_profile_create,
    tax_profile_delete,
    tax_profile_update,
)
from invoicing.views.legal_entity import _form_errors


class TaxProfileForm(forms.Form):
    name = forms.CharField(max_length=100, label=gettext_lazy("Name"))
    marketplace_id = forms.CharField(max_length=20, required=False,
                                     label=gettext_lazy("Marketplace id"))
    ship_to_country = forms.CharField(
        max_length=2, required=False, label=gettext_lazy("Ship-to country"),
        help_text=gettext_lazy("Empty: any ship-to country of the marketplace."))
    category = forms.ChoiceField(choices=TaxCategory.choices,
                                 label=gettext_lazy("VAT category"))
    rate = forms.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100,
                              initial=0, label=gettext_lazy("Rate (%)"))
    exemption_reason_code = forms.CharField(max_length=30, required=False,
                                            label=gettext_lazy("VATEX exemption code"))
    exemption_reason = forms.CharField(max_length=200, required=False,
                                       label=gettext_lazy("Exemption reason"))
    seller_tax_scheme = forms.ChoiceField(
        choices=[("", gettext_lazy("All of the seller's numbers")), *TaxScheme.choices],
        required=False, label=gettext_lazy("Seller tax number to print"))


class TaxProfileListView(TenantViewMixin, View):
    required_role = Role.ADMIN
    action_role = Role.ADMIN

    def get(self, request, tenant_slug, form=None):
        return render(request, "invoicing/tax_profile_list.html", {
            "profiles": selectors.tax_profile_list(tenant=self.tenant),
            "form": form or TaxProfileForm(),
        })

    def post(self, request, tenant_slug):
        form = TaxProfileForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        try:
            tax_profile_create(tenant=self.tenant, data=form.cleaned_data, actor=request.user)
        except ValidationError as exc:
            _form_errors(form, exc)
            return self.get(request, tenant_slug, form=form)
        messages.success(request, _("Tax profile added."))
        return redirect("invoicing:tax_profile_list", tenant_slug=tenant_slug)


class TaxProfileEditView(TenantViewMixin, View):
    required_role = Role.ADMIN
    action_role = Role.ADMIN

    def _profile(self, profile_id):
        profile = selectors.tax_profile_get(tenant=self.tenant, profile_id=profile_id)
        if profile is None:
            raise Http404("No such tax profile.")
        return profile

    def get(self, request, tenant_slug, profile_id, form=None):
        profile = self._profile(profile_id)
        initial = {k: getattr(profile, k) for k in TaxProfileForm.base_fields}
        return render(request, "invoicing/tax_profile_form.html", {
            "profile": profile, "form": form or TaxProfileForm(initial=initial),
        })

    def post(self, request, tenant_slug, profile_id):
        profile = self._profile(profile_id)
        if "delete" in request.POST:
            try:
                tax_profile_delete(tenant=self.tenant, profile_id=profile.pk, actor=request.user)
            except NotFoundError:
                raise Http404("No such tax profile.") from None
            except ApplicationError as exc:
                messages.error(request, exc.message)
                return redirect("invoicing:tax_profile_edit", tenant_slug=tenant_slug,
                                profile_id=profile.pk)
            messages.success(request, _("Tax profile deleted."))
            return redirect("invoicing:tax_profile_list", tenant_slug=tenant_slug)
        form = TaxProfileForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, profile_id, form=form)
        try:
            tax_profile_update(tenant=self.tenant, profile_id=profile.pk,
                               data=form.cleaned_data, actor=request.user)
        except ValidationError as exc:
            _form_errors(form, exc)
            return self.get(request, tenant_slug, profile_id, form=form)
        messages.success(request, _("Tax profile saved."))
        return redirect("invoicing:tax_profile_list", tenant_slug=tenant_slug)


class NumberSeriesForm(forms.Form):
    prefix = forms.CharField(max_length=20, required=False, label=gettext_lazy("Prefix"))
    padding = forms.IntegerField(min_value=1, max_value=12, initial=6,
                                 label=gettext_lazy("Digits"))
    is_default = forms.BooleanField(required=False, label=gettext_lazy("Default for its kind"))


class NumberSeriesCreateForm(NumberSeriesForm):
    code = forms.CharField(max_length=20, label=gettext_lazy("Code"))
    kind = forms.ChoiceField(choices=DocumentKind.choices, label=gettext_lazy("Document kind"))
    field_order = ["code", "kind", "prefix", "padding", "is_default"]


class NumberSeriesListView(TenantViewMixin, View):
    required_role = Role.ADMIN
    action_role = Role.ADMIN

    def get(self, request, tenant_slug, form=None):
        series = list(selectors.number_series_list(tenant=self.tenant))
        for item in series:
            item.next_formatted = item.format(item.next_number)
        return render(request, "invoicing/number_series_list.html", {
            "series_list": series, "form": form or NumberSeriesCreateForm(),
        })

    def post(self, request, tenant_slug):
        form = NumberSeriesCreateForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        try:
            number_series_create(tenant=self.tenant, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc, default_field="code")
            return self.get(request, tenant_slug, form=form)
        messages.success(request, _("Number series added."))
        return redirect("invoicing:series_list", tenant_slug=tenant_slug)


class NumberSeriesEditView(TenantViewMixin, View):
    """Prefix, digits and default; the next number is shown, never edited."""

    required_role = Role.ADMIN
    action_role = Role.ADMIN

    def _series(self, series_id):
        series = selectors.number_series_get(tenant=self.tenant, series_id=series_id)
        if series is None:
            raise Http404("No such number series.")
        return series

    def get(self, request, tenant_slug, series_id, form=None):
        series = self._series(series_id)
        initial = {"prefix": series.prefix, "padding": series.padding,
                   "is_default": series.is_default}
        return render(request, "invoicing/number_series_form.html", {
            "series": series, "next_formatted": series.format(series.next_number),
            "form": form or NumberSeriesForm(initial=initial),
        })

    def post(self, request, tenant_slug, series_id):
        series = self._series(series_id)
        form = NumberSeriesForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, series_id, form=form)
        try:
            number_series_update(tenant=self.tenant, series_id=series.pk, actor=request.user,
                                 **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc, default_field="prefix")
            return self.get(request, tenant_slug, series_id, form=form)
        messages.success(request, _("Number series saved."))
        return redirect("invoicing:series_list", tenant_slug=tenant_slug)
