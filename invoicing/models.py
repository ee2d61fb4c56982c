"""The seller's side of every invoice: the tenant's legal entity and its
tax registrations. Invoices and credit notes (issue 11) build on these."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from acorn.models import TenantModel

country_validator = RegexValidator(r"^[A-Z]{2}$", _("Use the two-letter ISO country code."))


class LegalEntity(TenantModel):
    """Who sells and is paid: seller and remit-to party on invoices."""

    legal_name = models.CharField(max_length=200)
    trading_name = models.CharField(max_length=200, blank=True)
    registration_number = models.CharField(
        max_length=60, blank=True, help_text=_("Company register number, e.g. HRB 12345.")
    )
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state_or_region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country_code = models.CharField(max_length=2, validators=[country_validator])
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # Payment means on the invoice (EN 16931 BG-17: credit transfer).
    bank_name = models.CharField(max_length=200, blank=True)
    iban = models.CharField(max_length=34, blank=True)
    bic = models.CharField(max_length=11, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "legal entities"
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="inv_legal_entity_one_per_tenant")
        ]

    def __str__(self):
        return self.legal_name


class TaxScheme(models.TextChoices):
    EU_VAT = "eu_vat", _("EU VAT number")
    UK_VAT = "uk_vat", _("UK VAT number")
    EU_OSS = "eu_oss", _("EU OSS number (non-union scheme)")
    EU_IOSS = "eu_ioss", _("EU IOSS number (import scheme)")
    US_SALES_TAX = "us_sales_tax", _("US state sales tax permit")
    OTHER = "other", _("Other tax number")


class TaxRegistration(TenantModel):
    """One tax number of the legal entity, where it is valid."""

    scheme = models.CharField(max_length=20, choices=TaxScheme.choices)
    country_code = models.CharField(
        max_length=2, validators=[country_validator],
        help_text=_("The country that issued the number (for IOSS/OSS the member state)."),
    )
    state = models.CharField(max_length=2, blank=True, help_text=_("US state, e.g. CA."))
    number = models.CharField(max_length=40)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["scheme", "country_code", "state", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "scheme", "country_code", "state", "number"],
                name="inv_tax_registration_unique",
            ),
        ]

    def __str__(self):
        return f"{self.get_scheme_display()} {self.number}"
