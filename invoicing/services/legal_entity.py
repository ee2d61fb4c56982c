"""Writes of the invoicing app: the legal entity and its tax registrations."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from stdnum import iban as stdnum_iban
from stdnum.eu import oss as stdnum_oss
from stdnum.eu import vat as stdnum_eu_vat
from stdnum.exceptions import ValidationError as NumberInvalid
from stdnum.gb import vat as stdnum_gb_vat

from acorn.exceptions import NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record, audit_snapshot
from acorn.tenancy import tenant_scope
from invoicing.models import LegalEntity, TaxRegistration, TaxScheme

LEGAL_ENTITY_FIELDS = [
    "legal_name", "trading_name", "registration_number", "address_line1", "address_line2",
    "city", "state_or_region", "postal_code", "country_code", "email", "phone", "bank_name",
    "iban", "bic",
]
# The 50 states, DC and the territories that issue sales tax permits.
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA PR RI SC SD TN TX UT VT VA WA WV WI WY GU VI AS MP".split()
)
# States publish no common checksum for sales tax permits: the number is
# kept as issued, checked only for characters a permit uses.
US_PERMIT_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9\- ]{0,29}$")
BIC_PATTERN = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
# Greece's VAT prefix is EL, not its ISO code GR (VIES).
VAT_PREFIX = {"GR": "EL"}


def tax_number_normalise(*, scheme: str, country_code: str, state: str, number: str) -> str:
    """The number in its canonical form, or ValidationError saying why not.

    Checksums and formats come from python-stdnum (EU VAT per member state,
    UK VAT, the OSS/IOSS formats).
    """
    number = number.strip().upper()
    country_code = country_code.strip().upper()
    try:
        if scheme == TaxScheme.EU_VAT:
            prefix = VAT_PREFIX.get(country_code, country_code)
            if not number[:2].isalpha():
                number = prefix + number
            compact = stdnum_eu_vat.compact(number)
            if compact[:2] != prefix:
                raise ValidationError(
                    _("The VAT number %(number)s is not one of %(country)s.")
                    % {"number": number, "country": country_code}
                )
            return stdnum_eu_vat.validate(compact)
        if scheme == TaxScheme.UK_VAT:
            return "GB" + stdnum_gb_vat.validate(number)
        if scheme in (TaxScheme.EU_OSS, TaxScheme.EU_IOSS):
            compact = stdnum_oss.validate(number)
            wanted = "IM" if scheme == TaxScheme.EU_IOSS else "EU"
            if not compact.startswith(wanted):
                raise ValidationError(
                    _("An %(scheme)s number starts with %(prefix)s.")
                    % {"scheme": TaxScheme(scheme).label, "prefix": wanted}
                )
            return compact
        if scheme == TaxScheme.US_SALES_TAX:
            if country_code != "US" or state.upper() not in US_STATES:
                raise ValidationError(_("A US sales tax permit needs the US and a state code."))
            if not US_PERMIT_PATTERN.match(number):
                raise ValidationError(
                    _("A sales tax permit number has letters, digits, spaces or dashes only.")
                )
            return number
    except NumberInvalid as exc:
        raise ValidationError(
            _("%(number)s is not a valid %(scheme)s: %(reason)s")
            % {"number": number, "scheme": TaxScheme(scheme).label, "reason": exc.message}
        ) from None
    if scheme != TaxScheme.OTHER:
        raise ValidationError(_("Unknown tax scheme %(scheme)s.") % {"scheme": scheme})
    if not number or len(number) > 40:
        raise ValidationError(_("Enter the tax number (at most 40 characters)."))
    return number


def _bank_details_normalise(data: dict) -> dict:
    data = dict(data)
    if data.get("iban"):
        try:
            data["iban"] = stdnum_iban.validate(data["iban"])
        except NumberInvalid as exc:
            raise ValidationError({"iban": _("Not a valid IBAN: %s") % exc.message}) from None
    if data.get("bic"):
        data["bic"] = data["bic"].replace(" ", "").upper()
        if not BIC_PATTERN.match(data["bic"]):
            raise ValidationError({"bic": _("A BIC has 8 or 11 letters and digits.")})
    return data


@transaction.atomic
def legal_entity_set(*, tenant, data: dict, actor=None) -> LegalEntity:
    """Create or change the tenant's legal entity, audited."""
    data = _bank_details_normalise(data)
    with tenant_scope(tenant):
        entity = LegalEntity.objects.select_for_update().filter(tenant=tenant).first()
        before = audit_snapshot(entity) if entity else {}
        entity = entity or LegalEntity(tenant=tenant)
        for field in LEGAL_ENTITY_FIELDS:
            if field in data:
                setattr(entity, field, data[field])
        entity.full_clean(exclude=["tenant"], validate_constraints=False)
        entity.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE if before else AuditAction.CREATE,
            instance=entity,
            before=before,
            after=audit_snapshot(entity),
            summary="Legal entity saved",
        )
    return entity


@transaction.atomic
def tax_registration_add(
    *, tenant, scheme: str, country_code: str, number: str, state: str = "",
    valid_from=None, valid_until=None, actor=None,
) -> TaxRegistration:
    number = tax_number_normalise(
        scheme=scheme, country_code=country_code, state=state, number=number
    )
    if valid_from and valid_until and valid_until < valid_from:
        raise ValidationError({"valid_until": _("The end date is before the start date.")})
    with tenant_scope(tenant):
        registration = TaxRegistration(
            tenant=tenant, scheme=scheme, country_code=country_code.upper(),
            state=state.upper(), number=number, valid_from=valid_from, valid_until=valid_until,
        )
        registration.full_clean()
        registration.save()
        audit_record(
            actor=actor, action=AuditAction.CREATE, instance=registration,
            after=audit_snapshot(registration), summary="Tax registration added",
        )
    return registration


@transaction.atomic
def tax_registration_remove(*, tenant, registration_id: int, actor=None) -> None:
    with tenant_scope(tenant):
        registration = TaxRegistration.objects.filter(tenant=tenant, pk=registration_id).first()
        if registration is None:
            raise NotFoundError(_("No such tax registration."))
        audit_record(
            actor=actor, action=AuditAction.DELETE, instance=registration,
            before=audit_snapshot(registration), summary="Tax registration removed",
        )
        registration.delete()
