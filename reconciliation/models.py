"""The remittance ledger: imports -> payments -> remittance lines -> matches.

Amazon has no payments API for vendors (vendor-domain.md §3): remittances
arrive as Vendor Central exports (CSV/XLSX), remittance-advice e-mails or EDI
(X12 820 / EDIFACT REMADV). Every parser yields the same normalised records
(reconciliation/parsers/records.py); the import service stores them here.

Money is Decimal(18, 4) quantised to the currency's precision by the
services; amounts are signed as the remittance carries them (a deduction is
negative, a reversal positive). Currencies are never summed together: every
aggregate is per currency.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from acorn.models import TenantModel

MONEY = {"max_digits": 18, "decimal_places": 4}


class RemittanceSource(models.TextChoices):
    CSV = "csv", _("Vendor Central export (CSV)")
    XLSX = "xlsx", _("Vendor Central export (XLSX)")
    EMAIL = "email", _("Remittance-advice e-mail")
    EDIFACT = "edifact", _("EDIFACT REMADV")
    X12 = "x12", _("X12 820")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


def remittance_upload_to(instance, filename: str) -> str:
    # The stored name is the content hash, never the user's file name: the
    # original name is kept in a field and cannot steer the storage path.
    return f"reconciliation/remittances/{instance.tenant_id}/{instance.sha256}"


class RemittanceImport(TenantModel):
    """One uploaded or mailed-in remittance file, kept as it came for audit.

    The same bytes twice are one import (unique sha256 per tenant)."""

    source_type = models.CharField(max_length=10, choices=RemittanceSource.choices)
    file = models.FileField(upload_to=remittance_upload_to, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField(default=0)
    account = models.ForeignKey(
        "channels.AmazonVendorAccount", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    # Row-level findings: [{"line": int|None, "field": str, "code": str, "message": str}].
    # Messages name the line and the field, never the whole cell.
    errors = models.JSONField(default=list, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    payments_created = models.PositiveIntegerField(default=0)
    payments_skipped = models.PositiveIntegerField(default=0)
    lines_created = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "sha256"], name="rec_import_unique_sha256"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "updated_at", "id"], name="rec_import_updated"),
        ]

    def __str__(self):
        return self.original_name or self.sha256[:12]


class Payment(TenantModel):
    """One payment (remittance) from Amazon: the money that arrived and the
    lines that explain it. Idempotent per (tenant, payment number)."""

    remittance_import = models.ForeignKey(
        RemittanceImport, null=True, blank=True, on_delete=models.PROTECT,
        related_name="payments",
    )
    source_type = models.CharField(max_length=10, choices=RemittanceSource.choices)
    account = models.ForeignKey(
        "channels.AmazonVendorAccount", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    marketplace_id = models.CharField(max_length=20, blank=True)
    payment_number = models.CharField(max_length=64)
    # The export's own id where it carries one (e.g. an EDI trace number).
    external_id = models.CharField(max_length=80, blank=True)
    payment_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)
    payer_name = models.CharField(max_length=200, blank=True)
    payee_name = models.CharField(max_length=200, blank=True)
    # Sum of the lines' amount_paid, and whether it equals the amount: a
    # file whose lines do not add up to its payment is shown, not hidden.
    lines_total = models.DecimalField(default=0, **MONEY)
    is_balanced = models.BooleanField(default=True)
    matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-payment_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "payment_number"], name="rec_payment_unique_number"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "updated_at", "id"], name="rec_payment_updated"),
            models.Index(fields=["tenant", "payment_date"], name="rec_payment_date"),
        ]

    def __str__(self):
        return self.payment_number


class LineKind(models.TextChoices):
    """What a remittance line is, parsed from its invoice number and
    description (vendor-domain.md §3, "Remittance line codes")."""

    INVOICE_PAYMENT = "invoice_payment", _("Invoice payment")
    SHORTAGE_CLAIM = "shortage_claim", _("Shortage claim (SC)")
    SHORTAGE_CLAIM_REVERSAL = "shortage_claim_reversal", _("Shortage claim reversal (SCR)")
    SHORTAGE_CLAIM_REVISED = "shortage_claim_revised", _("Revised shortage claim (SCRSC)")
    PRICE_CLAIM = "price_claim", _("Price claim (PQV/PPV)")
    CHARGEBACK = "chargeback", _("Chargeback (VCBSINV, debit note)")
    COOP = "coop", _("Co-op / agreement")
    PRICE_PROTECTION = "price_protection", _("Price protection")
    PROVISION = "provision", _("Provision for receivables")
    PROVISION_REVERSAL = "provision_reversal", _("Provision for receivables reversal")
    RETURN = "return", _("Return (RTV)")
    OTHER = "other", _("Other (needs attention)")


class RemittanceLine(TenantModel):
    """One line of a payment, as the remittance wrote it, plus what we read
    from it (kind and base invoice number)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    # The invoice number exactly as written (with its suffix), and the base
    # invoice number the kind's pattern points to ("" when none).
    invoice_number_raw = models.CharField(max_length=120)
    base_invoice_number = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=30, choices=LineKind.choices)
    description = models.CharField(max_length=300, blank=True)
    type_code = models.CharField(max_length=40, blank=True)
    invoice_date = models.DateField(null=True, blank=True)
    purchase_order_number = models.CharField(max_length=40, blank=True)
    currency = models.CharField(max_length=3)
    amount_paid = models.DecimalField(**MONEY)
    discount_taken = models.DecimalField(default=0, **MONEY)
    gross_amount = models.DecimalField(null=True, blank=True, **MONEY)
    # Remaining fields the format carries (strings only, bounded by the parser).
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["payment_id", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "payment", "line_number"], name="rec_line_unique_position"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "base_invoice_number"], name="rec_line_base_number"),
            models.Index(fields=["tenant", "kind"], name="rec_line_kind"),
            models.Index(fields=["tenant", "updated_at", "id"], name="rec_line_updated"),
        ]

    def __str__(self):
        return self.invoice_number_raw


class MatchMethod(models.TextChoices):
    EXACT = "exact", _("Exact invoice number")
    SUFFIX = "suffix", _("Suffix pattern")
    HEURISTIC = "heuristic", _("PO / amount heuristic")
    MANUAL = "manual", _("Manual")


class MatchStatus(models.TextChoices):
    AUTO = "auto", _("Matched automatically")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class Match(TenantModel):
    """A remittance line applied to an invoice or credit note.

    A line has at most one live match (auto, needs_review, confirmed);
    rejected matches stay as history and are never suggested again."""

    line = models.ForeignKey(RemittanceLine, on_delete=models.CASCADE, related_name="matches")
    invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=12, choices=MatchMethod.choices)
    confidence = models.DecimalField(max_digits=4, decimal_places=3)
    status = models.CharField(max_length=14, choices=MatchStatus.choices)
    # Why the engine chose it (a code and parameters, rendered translated).
    reason = models.CharField(max_length=40, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "line"], condition=~models.Q(status="rejected"),
                name="rec_match_one_live_per_line",
            ),
            models.UniqueConstraint(
                fields=["tenant", "line", "invoice"], condition=models.Q(status="rejected"),
                name="rec_match_rejected_once",
            ),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0) & models.Q(confidence__lte=1),
                name="rec_match_confidence_range",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "invoice", "status"], name="rec_match_invoice"),
            models.Index(fields=["tenant", "status", "-created_at"], name="rec_match_status"),
            models.Index(fields=["tenant", "updated_at", "id"], name="rec_match_updated"),
        ]

    def __str__(self):
        return f"{self.line_id} -> {self.invoice_id}"


# Deductions, disputes, evidence and returns live in their own module.
from reconciliation.deduction_models import (  # noqa: E402,F401
    ChargebackType,
    Deduction,
    DeductionEvent,
    DeductionRecovery,
    DeductionStatus,
    DeductionType,
    DisputeSettings,
    EvidenceDocument,
    EvidenceKind,
    MarketplaceLookback,
    ReturnEvent,
    ReturnSource,
)
