"""Dashboard forms of the channels app (parsing only; services decide)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

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


def _secret_field(label, *, required: bool):
    return forms.CharField(
        required=required, label=label, help_text=None if required else SECRET_HELP,
        max_length=2000, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class AccountForm(forms.Form):
    """The account form; a new account also chooses where its calls go."""

    name = forms.CharField(max_length=100, label=_("Name"))
    region = forms.ChoiceField(choices=Region.choices, label=_("Region"))
    marketplace_id = forms.CharField(max_length=20, label=_("Marketplace id"))
    vendor_codes = forms.CharField(label=_("Vendor codes"), max_length=500,
                                   help_text=_("Comma-separated selling party ids."))
    environment = forms.ChoiceField(choices=AccountEnvironment.choices, label=_("Environment"))
    endpoint_override = forms.URLField(
        required=False, label=_("Endpoint override"), assume_scheme="https",
        help_text=_("Blank: Amazon's host for the region. Other hosts only when the "
                    "ACORN_SPAPI_ENDPOINT_ALLOWLIST setting allows them."),
    )
    lwa_client_id = forms.CharField(max_length=200, label=_("LWA client id"))
    lwa_client_secret = _secret_field(_("LWA client secret"), required=True)
    lwa_refresh_token = _secret_field(_("LWA refresh token"), required=True)
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


class AccountEditForm(AccountForm):
    """Editing an account: where its calls go has its own confirmed action."""

    lwa_client_secret = _secret_field(_("LWA client secret"), required=False)
    lwa_refresh_token = _secret_field(_("LWA refresh token"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("region", "environment", "endpoint_override"):
            del self.fields[name]

    @classmethod
    def initial_for(cls, account) -> dict:
        """Field values to show; the secrets are never among them."""
        return {
            "name": account.name, "marketplace_id": account.marketplace_id,
            "vendor_codes": ", ".join(account.vendor_codes or []),
            "lwa_client_id": account.lwa_client_id,
            "poll_interval_minutes": account.poll_interval_minutes,
            "initial_lookback_days": account.initial_lookback_days,
            "ack_auto_send": account.ack_auto_send,
        }


class AccountDestinationForm(forms.Form):
    """Step 1 of switching environment: where the calls should go."""

    environment = forms.ChoiceField(choices=AccountEnvironment.choices, label=_("Environment"))
    region = forms.ChoiceField(choices=Region.choices, label=_("Region"))
    endpoint_override = forms.URLField(
        required=False, label=_("Endpoint override"), assume_scheme="https",
        help_text=_("Blank: Amazon's host for the region (or the configured local sandbox)."),
    )


class AccountDestinationConfirmForm(AccountDestinationForm):
    """Step 2: both secrets again, and an explicit confirmation; the choice
    of step 1 rides along hidden and is validated again."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("environment", "region", "endpoint_override"):
            self.fields[name].widget = forms.HiddenInput()

    lwa_client_secret = _secret_field(_("LWA client secret"), required=True)
    lwa_refresh_token = _secret_field(_("LWA refresh token"), required=True)
    confirm = forms.BooleanField(
        required=True, label=_("I confirm: calls, and these credentials, go to the new "
                               "destination from now on."),
    )


def _country_choices():

    return [("", "---------")] + [(code, f"{code} {name}") for code, name in countries]


class ShipFromForm(forms.Form):
    """The ship-from party of ASNs: a party id and a postal address
    (Amazon's Address: name, addressLine1-3, city, stateOrRegion,
    postalCode, countryCode ISO 3166-1 alpha-2)."""

    party_id = forms.CharField(max_length=20, required=False, label=_("Ship-from party id"),
                               help_text=_("Blank: the account's first vendor code."))
    name = forms.CharField(max_length=100, required=False, label=_("Name"))
    address_line1 = forms.CharField(max_length=60, required=False, label=_("Address line 1"))
    address_line2 = forms.CharField(max_length=60, required=False, label=_("Address line 2"))
    address_line3 = forms.CharField(max_length=60, required=False, label=_("Address line 3"))
    city = forms.CharField(max_length=60, required=False, label=_("City"))
    state_or_region = forms.CharField(max_length=60, required=False,
                                      label=_("State or region"))
    postal_code = forms.CharField(max_length=20, required=False, label=_("Postal code"))
    country_code = forms.ChoiceField(choices=_country_choices, required=False,
                                     label=_("Country"))

    ADDRESS_KEYS = {
        "name": "name", "address_line1": "addressLine1", "address_line2": "addressLine2",
        "address_line3": "addressLine3", "city": "city", "state_or_region": "stateOrRegion",
        "postal_code": "postalCode", "country_code": "countryCode",
    }

    def clean(self):
        data = super().clean()
        address = {key: data.get(key) for key in self.ADDRESS_KEYS}
        if any(address.values()):
            for key in ("name", "address_line1", "city", "country_code"):
                if not data.get(key):
                    self.add_error(key, _("Required for a ship-from address."))
        return data

    def ship_from(self) -> dict:
        """The JSON the account stores (the ASN's shipFromParty)."""
        data = self.cleaned_data
        result = {}
        if data.get("party_id"):
            result["partyId"] = data["party_id"]
        address = {json_key: data[key] for key, json_key in self.ADDRESS_KEYS.items()
                   if data.get(key)}
        if address:
            result["address"] = address
        return result

    @classmethod
    def initial_for(cls, ship_from: dict | None) -> dict:
        ship_from = ship_from or {}
        address = ship_from.get("address") or {}
        initial = {key: address.get(json_key, "") for key, json_key in cls.ADDRESS_KEYS.items()}
        initial["party_id"] = ship_from.get("partyId", "")
        return initial


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
