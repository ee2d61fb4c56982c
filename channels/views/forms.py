"""Dashboard forms of the channels app (parsing only; services decide)."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from channels.models import (
    AccountEnvironment,
    AckAutoSend,
    AckStatus,
    ExceptionKind,
    ExceptionStatus,
    OrderUnit,
    PurchaseOrderState,
    Region,
    SyncKind,
    SyncStatus,
)

ANY = [("", _("Any"))]
SECRET_HELP = _("Write-only: leave blank to keep the stored value.")


class PurchaseOrderFilterForm(forms.Form):
    q = forms.CharField(required=False, label=_("PO number, ASIN or ship-to"))
    state = forms.ChoiceField(required=False, label=_("State"),
                              choices=ANY + PurchaseOrderState.choices)
    ack_status = forms.ChoiceField(required=False, label=_("Acknowledgement"),
                                   choices=ANY + AckStatus.choices)
    account = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ExceptionFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, label=_("Status"),
                               choices=[("open", _("Open")), ("resolved", _("Resolved")),
                                        ("all", _("All"))])
    kind = forms.ChoiceField(required=False, label=_("Kind"), choices=ANY + ExceptionKind.choices)
    q = forms.CharField(required=False, label=_("Search"))

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or ExceptionStatus.OPEN
        return {"status": "" if status == "all" else status, "kind": data.get("kind", ""),
                "q": data.get("q", "")}


class SyncRunFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, label=_("Kind"), choices=ANY + SyncKind.choices)
    status = forms.ChoiceField(required=False, label=_("Status"),
                               choices=ANY + SyncStatus.choices)


class ApiCallFilterForm(forms.Form):
    operation = forms.CharField(required=False, label=_("Operation"))
    status = forms.CharField(required=False, label=_("Status"),
                             help_text=_("An HTTP status, or \"error\"."))
    request_id = forms.CharField(required=False, label=_("Request id"))
    date_from = forms.DateField(required=False, label=_("From"),
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label=_("To"),
                              widget=forms.DateInput(attrs={"type": "date"}))

    def clean_status(self):
        status = self.cleaned_data["status"].strip()
        if status and status != "error" and not status.isdigit():
            raise forms.ValidationError(_("Enter an HTTP status or \"error\"."))
        return status


class AccountForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"))
    region = forms.ChoiceField(choices=Region.choices, label=_("Region"))
    marketplace_id = forms.CharField(max_length=20, label=_("Marketplace id"))
    vendor_codes = forms.CharField(label=_("Vendor codes"),
                                   help_text=_("Comma-separated selling party ids."))
    ship_from = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                label=_("Ship-from party (JSON)"),
                                help_text=_('e.g. {"partyId": "ABCD", "address": {...}}'))
    environment = forms.ChoiceField(choices=AccountEnvironment.choices, label=_("Environment"))
    endpoint_override = forms.URLField(required=False, label=_("Endpoint override"),
                                       assume_scheme="https")
    lwa_client_id = forms.CharField(max_length=200, label=_("LWA client id"))
    lwa_client_secret = forms.CharField(
        required=False, label=_("LWA client secret"), help_text=SECRET_HELP,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    lwa_refresh_token = forms.CharField(
        required=False, label=_("LWA refresh token"), help_text=SECRET_HELP,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    lwa_client_secret_expires_on = forms.DateField(
        required=False, label=_("Client secret expires on"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    poll_interval_minutes = forms.IntegerField(min_value=1, max_value=1440, initial=15,
                                               label=_("Poll interval (minutes)"))
    initial_lookback_days = forms.IntegerField(min_value=1, max_value=180, initial=7,
                                               label=_("First sync looks back (days)"))
    ack_auto_send = forms.ChoiceField(choices=AckAutoSend.choices,
                                      label=_("Send acknowledgements"))

    def clean_vendor_codes(self):
        codes = [c.strip() for c in self.cleaned_data["vendor_codes"].split(",") if c.strip()]
        if not codes:
            raise forms.ValidationError(_("Enter at least one vendor code."))
        return codes

    def clean_ship_from(self):
        raw = self.cleaned_data["ship_from"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError(_("Enter valid JSON.")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Enter a JSON object."))
        return value

    @classmethod
    def initial_for(cls, account) -> dict:
        """Field values to show; the secrets are never among them."""
        return {
            "name": account.name, "region": account.region,
            "marketplace_id": account.marketplace_id,
            "vendor_codes": ", ".join(account.vendor_codes or []),
            "ship_from": json.dumps(account.ship_from, indent=2) if account.ship_from else "",
            "environment": account.environment, "endpoint_override": account.endpoint_override,
            "lwa_client_id": account.lwa_client_id,
            "lwa_client_secret_expires_on": account.lwa_client_secret_expires_on,
            "poll_interval_minutes": account.poll_interval_minutes,
            "initial_lookback_days": account.initial_lookback_days,
            "ack_auto_send": account.ack_auto_send,
        }


class MappingForm(forms.Form):
    account = forms.IntegerField(label=_("Account"), widget=forms.Select)
    asin = forms.CharField(max_length=10, label=_("ASIN"))
    vendor_product_id = forms.CharField(max_length=64, required=False,
                                        label=_("Vendor product id"))
    sku = forms.CharField(max_length=64, label=_("Product SKU"))
    order_unit = forms.ChoiceField(choices=OrderUnit.choices, label=_("Order unit"))
    units_per_order_unit = forms.IntegerField(min_value=1, initial=1,
                                              label=_("Units per order unit"))
    is_active = forms.BooleanField(required=False, initial=True, label=_("Active"))

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].widget.choices = [(a.pk, a.name) for a in accounts]


class MapAndRetryForm(forms.Form):
    sku = forms.CharField(max_length=64, label=_("Product SKU"))
    order_unit = forms.ChoiceField(choices=OrderUnit.choices, label=_("Order unit"))
    units_per_order_unit = forms.IntegerField(min_value=1, initial=1,
                                              label=_("Units per order unit"))


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))
    apply = forms.BooleanField(required=False, label=_("Apply (untick for a dry run)"))
