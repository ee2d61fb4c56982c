"""Tax profiles: how invoices to one marketplace (and ship-to country) are
taxed. Data edited by admins, validated against EN 16931's VAT category
rules (BR-S/Z/E/AE/K/G/O): a standard rate is above 0, every other
category has rate 0, and exempt categories carry their reason (VATEX)."""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from acorn.exceptions import ConflictError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record, audit_snapshot
from acorn.tenancy import tenant_scope
from invoicing.models import Invoice, TaxCategory, TaxProfile, TaxScheme

TAX_PROFILE_FIELDS = ["name", "marketplace_id", "ship_to_country", "category", "rate",
                      "exemption_reason_code", "exemption_reason", "seller_tax_scheme"]
VATEX_PATTERN = re.compile(r"^VATEX-[A-Z]{2}(-[A-Z0-9]+)+$")
# Categories whose breakdown must say why no VAT is charged (BR-x-10).
NEEDS_REASON = {TaxCategory.EXEMPT, TaxCategory.EXPORT, TaxCategory.OUTSIDE_SCOPE}
NEEDS_CODE = {TaxCategory.REVERSE_CHARGE, TaxCategory.INTRA_COMMUNITY}

# The demo's and a new tenant's starting set (marketplace ids are Amazon's).
DEFAULT_PROFILES = [
    {"name": "US marketplace (outside the scope of VAT)", "marketplace_id": "ATVPDKIKX0DER",
     "ship_to_country": "", "category": "O", "rate": Decimal("0"),
     "exemption_reason_code": "VATEX-EU-O", "exemption_reason": "Not subject to VAT",
     "seller_tax_scheme": "us_sales_tax"},
    {"name": "Amazon.de, delivered in Germany (standard 19 %)",
     "marketplace_id": "A1PA6795UKMFR9", "ship_to_country": "DE", "category": "S",
     "rate": Decimal("19.00"), "exemption_reason_code": "", "exemption_reason": "",
     "seller_tax_scheme": "eu_vat"},
    {"name": "Amazon.de, delivered to another EU state (intra-community)",
     "marketplace_id": "A1PA6795UKMFR9", "ship_to_country": "", "category": "K",
     "rate": Decimal("0"), "exemption_reason_code": "VATEX-EU-IC",
     "exemption_reason": "Intra-community supply", "seller_tax_scheme": "eu_vat"},
]


def tax_profile_clean(data: dict) -> dict:
    """The profile's fields, normalised, or ValidationError by field."""
    data = {k: data.get(k) for k in TAX_PROFILE_FIELDS}
    for key in ("name", "marketplace_id", "exemption_reason_code", "exemption_reason",
                "seller_tax_scheme"):
        data[key] = (data[key] or "").strip()
    data["ship_to_country"] = (data["ship_to_country"] or "").strip().upper()
    data["exemption_reason_code"] = data["exemption_reason_code"].upper()
    data["rate"] = Decimal(str(data["rate"] if data["rate"] not in (None, "") else "0"))
    errors: dict[str, str] = {}
    category = data["category"]
    if category not in TaxCategory.values:
        errors["category"] = _("Choose a VAT category.")
    elif category == TaxCategory.STANDARD:
        if data["rate"] <= 0:
            errors["rate"] = _("A standard-rated profile needs a rate above 0.")
        if data["exemption_reason_code"] or data["exemption_reason"]:
            errors["exemption_reason_code"] = _("A standard-rated supply has no exemption reason.")
    else:
        if data["rate"] != 0:
            errors["rate"] = _("Category %(category)s is taxed at 0 %%.") % {"category": category}
        if category in NEEDS_CODE and not data["exemption_reason_code"]:
            errors["exemption_reason_code"] = _(
                "Category %(category)s needs its VATEX exemption reason code, e.g. %(example)s."
            ) % {"category": category,
                 "example": "VATEX-EU-IC" if category == TaxCategory.INTRA_COMMUNITY
                 else "VATEX-EU-AE"}
        if category in NEEDS_REASON and not (data["exemption_reason_code"]
                                             or data["exemption_reason"]):
            errors["exemption_reason"] = _(
                "Category %(category)s needs an exemption reason or VATEX code."
            ) % {"category": category}
    if data["exemption_reason_code"] and not VATEX_PATTERN.match(data["exemption_reason_code"]):
        errors["exemption_reason_code"] = _("A VATEX code looks like VATEX-EU-IC.")
    if data["ship_to_country"] and not re.fullmatch(r"[A-Z]{2}", data["ship_to_country"]):
        errors["ship_to_country"] = _("Use the two-letter ISO country code.")
    if data["seller_tax_scheme"] and data["seller_tax_scheme"] not in TaxScheme.values:
        errors["seller_tax_scheme"] = _("Choose one of the tax schemes.")
    if not data["name"]:
        errors["name"] = _("Give the profile a name.")
    if errors:
        raise ValidationError(errors)
    return data


def _unique_check(*, tenant, data: dict, exclude_id: int | None = None) -> None:
    clash = TaxProfile.objects.filter(
        tenant=tenant, marketplace_id=data["marketplace_id"],
        ship_to_country=data["ship_to_country"],
    ).exclude(pk=exclude_id).first()
    if clash is not None:
        raise ValidationError({"ship_to_country": _(
            "The profile %(name)s already covers this marketplace and ship-to country."
        ) % {"name": clash.name}})


@transaction.atomic
def tax_profile_create(*, tenant, data: dict, actor=None) -> TaxProfile:
    data = tax_profile_clean(data)
    with tenant_scope(tenant):
        _unique_check(tenant=tenant, data=data)
        profile = TaxProfile(tenant=tenant, **data)
        profile.full_clean(exclude=["tenant"], validate_constraints=False)
        profile.save()
        audit_record(actor=actor, action=AuditAction.CREATE, instance=profile,
                     after=audit_snapshot(profile), summary=f"Tax profile {profile.name} added")
    return profile


@transaction.atomic
def tax_profile_update(*, tenant, profile_id: int, data: dict, actor=None) -> TaxProfile:
    data = tax_profile_clean(data)
    with tenant_scope(tenant):
        profile = TaxProfile.objects.select_for_update().filter(tenant=tenant,
                                                                pk=profile_id).first()
        if profile is None:
            raise NotFoundError(_("No such tax profile."))
        _unique_check(tenant=tenant, data=data, exclude_id=profile.pk)
        before = audit_snapshot(profile)
        for key, value in data.items():
            setattr(profile, key, value)
        profile.full_clean(exclude=["tenant"], validate_constraints=False)
        profile.save()
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=profile, before=before,
                     after=audit_snapshot(profile), summary=f"Tax profile {profile.name} changed")
    return profile


@transaction.atomic
def tax_profile_delete(*, tenant, profile_id: int, actor=None) -> None:
    """Delete a profile no invoice uses (issued documents keep theirs)."""
    with tenant_scope(tenant):
        profile = TaxProfile.objects.filter(tenant=tenant, pk=profile_id).first()
        if profile is None:
            raise NotFoundError(_("No such tax profile."))
        if Invoice.objects.filter(tenant=tenant, tax_profile=profile).exists():
            raise ConflictError(_(
                "Invoices use the profile %(name)s: change it instead of deleting it."
            ) % {"name": profile.name})
        audit_record(actor=actor, action=AuditAction.DELETE, instance=profile,
                     before=audit_snapshot(profile), summary=f"Tax profile {profile.name} deleted")
        profile.delete()


def tax_profiles_default_seed(*, tenant, actor=None) -> list[TaxProfile]:
    """Create the default profiles that do not exist yet (by scope)."""
    created = []
    with tenant_scope(tenant):
        for data in DEFAULT_PROFILES:
            if not TaxProfile.objects.filter(
                    tenant=tenant, marketplace_id=data["marketplace_id"],
                    ship_to_country=data["ship_to_country"]).exists():
                created.append(tax_profile_create(tenant=tenant, data=data, actor=actor))
    return created
