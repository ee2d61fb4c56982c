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


# --- Invoices and credit notes ----------------------------------------------
# One record per document; the Amazon submitInvoices payload, the EN 16931
# CII XML and the PDF/A-3 are all produced from it (invoicing/document.py
# is the neutral form every output is built from).


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class NumberSeries(TenantModel):
    """A gap-free sequence of document numbers, e.g. ``INV-2026-000123``.

    The number is taken when a draft is issued, in the same transaction
    that issues it (invoicing/services/numbering.py), so a rolled-back issue
    leaves no hole and two issues never share a number.
    """

    code = models.CharField(max_length=20)
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    prefix = models.CharField(max_length=20, blank=True)
    padding = models.PositiveSmallIntegerField(default=6)
    next_number = models.PositiveBigIntegerField(default=1)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["kind", "code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="inv_series_code_unique"),
            models.UniqueConstraint(
                fields=["tenant", "kind"], condition=models.Q(is_default=True),
                name="inv_series_one_default_per_kind",
            ),
        ]

    def __str__(self):
        return f"{self.code} ({self.prefix}…)"

    def format(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.padding}d}"


class TaxCategory(models.TextChoices):
    """UNCL 5305 VAT category codes used by EN 16931 (BT-118, BT-151)."""

    STANDARD = "S", _("Standard rate")
    ZERO = "Z", _("Zero rated")
    EXEMPT = "E", _("Exempt")
    REVERSE_CHARGE = "AE", _("Reverse charge")
    INTRA_COMMUNITY = "K", _("Intra-community supply")
    EXPORT = "G", _("Export outside the EU")
    OUTSIDE_SCOPE = "O", _("Outside the scope of VAT")


class TaxProfile(TenantModel):
    """How a tenant's invoices to one marketplace (and ship-to country) are
    taxed: data, edited by admins, never hard-coded."""

    name = models.CharField(max_length=100)
    marketplace_id = models.CharField(max_length=20, blank=True)
    ship_to_country = models.CharField(
        max_length=2, blank=True, help_text=_("Empty: any ship-to country of the marketplace.")
    )
    category = models.CharField(max_length=2, choices=TaxCategory.choices)
    rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    exemption_reason_code = models.CharField(
        max_length=30, blank=True, help_text=_("VATEX code, e.g. VATEX-EU-IC.")
    )
    exemption_reason = models.CharField(max_length=200, blank=True)
    seller_tax_scheme = models.CharField(
        max_length=20, blank=True, help_text=_("Which of the seller's tax numbers to print.")
    )

    class Meta:
        ordering = ["marketplace_id", "ship_to_country", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "marketplace_id", "ship_to_country"],
                name="inv_tax_profile_unique_scope",
            ),
        ]

    def __str__(self):
        return self.name


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    CANCELLED = "cancelled", _("Cancelled")


class CreditReason(models.TextChoices):
    """Why a credit note is raised (Amazon's creditNoteDetails kinds)."""

    RETURN = "return", _("Return")
    PRICE = "price", _("Price correction (PPV)")
    QUANTITY = "quantity", _("Quantity correction (PQV)")
    COOP = "coop", _("Co-op")


class Invoice(TenantModel):
    """An invoice or credit note. Drafts change freely and have no number;
    issued documents are immutable (a correction is a credit note)."""

    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    status = models.CharField(
        max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    series = models.ForeignKey(NumberSeries, on_delete=models.PROTECT, related_name="documents")
    number = models.CharField(max_length=40, blank=True)
    issue_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    account = models.ForeignKey(
        "channels.AmazonVendorAccount", on_delete=models.PROTECT, related_name="+"
    )
    purchase_order = models.ForeignKey(
        "channels.PurchaseOrder", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    purchase_order_number = models.CharField(max_length=20, blank=True)
    shipment = models.ForeignKey(
        "channels.Shipment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    marketplace_id = models.CharField(max_length=20, blank=True)
    tax_profile = models.ForeignKey(
        TaxProfile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Party snapshots (invoicing/document.py Party as a dict): an issued
    # document keeps the names and addresses it was issued with.
    seller = models.JSONField(default=dict, blank=True)
    buyer = models.JSONField(default=dict, blank=True)
    ship_to = models.JSONField(default=dict, blank=True)
    payment_terms = models.CharField(max_length=200, blank=True)
    payment_due_date = models.DateField(null=True, blank=True)
    delivery_date = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    # Credit notes: the invoice they correct, why, and Amazon's references.
    original_invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    credit_reason = models.CharField(max_length=20, choices=CreditReason.choices, blank=True)
    credit_references = models.JSONField(default=dict, blank=True)
    # Totals (EN 16931 BG-22), in the currency's precision, set by the
    # service from the lines; never typed in.
    line_total = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    allowance_total = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    charge_total = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    tax_exclusive_total = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    tax_total = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    tax_inclusive_total = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    amount_due = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by_label = models.CharField(max_length=200, blank=True)
    # The pre-send check's findings: [{"level", "code", "line", "message", "params"}].
    check_results = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "number"], condition=~models.Q(number=""),
                name="inv_number_unique_per_tenant",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | ~models.Q(number=""),
                name="inv_issued_has_number",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="invoice") | ~models.Q(credit_reason=""),
                name="inv_credit_note_has_reason",
            ),
            # Idempotent invoicing from shipments: one live invoice per PO
            # and shipment (a cancelled one may be replaced).
            models.UniqueConstraint(
                fields=["tenant", "purchase_order", "shipment"],
                condition=models.Q(kind="invoice") & ~models.Q(status="cancelled"),
                name="inv_one_live_invoice_per_po_shipment",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "-created_at"], name="inv_status_recent"),
            models.Index(fields=["tenant", "purchase_order_number"], name="inv_po_number"),
            models.Index(fields=["tenant", "updated_at", "id"], name="inv_updated"),
        ]

    def __str__(self):
        return self.number or f"draft #{self.pk}"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == DocumentKind.CREDIT_NOTE


class UnitOfMeasure(models.TextChoices):
    EACHES = "Eaches", _("Eaches")
    CASES = "Cases", _("Cases")


class InvoiceLine(TenantModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    # The PO line this bills (Amazon's itemSequenceNumber) and its items.
    po_line = models.ForeignKey(
        "channels.PurchaseOrderLine", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    item_sequence_number = models.CharField(max_length=10, blank=True)
    purchase_order_number = models.CharField(max_length=20, blank=True)
    asin = models.CharField(max_length=10, blank=True)
    vendor_sku = models.CharField(max_length=64, blank=True)
    gtin = models.CharField(max_length=14, blank=True)
    description = models.CharField(max_length=300, blank=True)
    quantity = models.PositiveIntegerField()
    unit_of_measure = models.CharField(
        max_length=10, choices=UnitOfMeasure.choices, default=UnitOfMeasure.EACHES
    )
    unit_size = models.PositiveIntegerField(default=1)
    net_unit_cost = models.DecimalField(max_digits=18, decimal_places=4)
    line_net_amount = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    tax_category = models.CharField(max_length=2, choices=TaxCategory.choices)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    lot_number = models.CharField(max_length=64, blank=True)
    country_of_origin = models.CharField(max_length=2, blank=True)
    # Credit-note lines: the invoice line they correct (bounds are checked
    # against it minus earlier credit notes).
    credited_line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_lines"
    )

    class Meta:
        ordering = ["invoice_id", "line_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "invoice", "line_number"], name="inv_line_number_unique"
            ),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="inv_line_qty_pos"),
            models.CheckConstraint(
                condition=models.Q(net_unit_cost__gt=0), name="inv_line_cost_pos"
            ),
        ]

    def __str__(self):
        return f"{self.invoice_id}/{self.line_number} {self.asin} x{self.quantity}"


class InvoiceAllowanceCharge(TenantModel):
    """A document-level allowance (BG-20) or charge (BG-21), e.g. freight."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="allowance_charges"
    )
    is_charge = models.BooleanField()
    # UNTDID 7161 (charges, e.g. FC freight) or 5189 (allowances, e.g. 95 discount).
    reason_code = models.CharField(max_length=10, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    tax_category = models.CharField(max_length=2, choices=TaxCategory.choices)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)

    class Meta:
        ordering = ["invoice_id", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="inv_allowance_pos"),
        ]

    def __str__(self):
        return f"{'charge' if self.is_charge else 'allowance'} {self.amount}"


class InvoiceTaxLine(TenantModel):
    """The VAT breakdown (BG-23): one row per category and rate."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="tax_lines")
    category = models.CharField(max_length=2, choices=TaxCategory.choices)
    rate = models.DecimalField(max_digits=5, decimal_places=2)
    taxable_amount = models.DecimalField(max_digits=18, decimal_places=4)
    tax_amount = models.DecimalField(max_digits=18, decimal_places=4)
    exemption_reason_code = models.CharField(max_length=30, blank=True)
    exemption_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["invoice_id", "category", "rate", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "invoice", "category", "rate"], name="inv_tax_line_unique"
            ),
        ]

    def __str__(self):
        return f"{self.category} {self.rate}%: {self.tax_amount}"
