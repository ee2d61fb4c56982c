"""Deductions and disputes: what Amazon kept, why, and the clock to get it back.

Every unpaid or short-paid amount becomes one ``Deduction``: from a
deduction line of a remittance (shortage claim, price claim, chargeback,
co-op, returns...), or from an invoice's balance (unpaid past due,
unexplained). Its dispute window comes from ``DisputeSettings`` (per
tenant; defaults from vendor-domain.md §2, which are conflicting and
changed by Amazon, hence configurable). Recoveries are later remittance
lines (a shortage claim reversal, a provision reversal) matched to it.

Imported by reconciliation/models.py so Django registers these models in
the reconciliation app; kept apart from the ledger models (h15's).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from acorn.models import TenantModel

MONEY = {"max_digits": 18, "decimal_places": 4}


class DeductionType(models.TextChoices):
    SHORTAGE = "shortage", _("Shortage claim")
    PRICE_CLAIM_PPV = "price_claim_ppv", _("Price claim (PPV)")
    QUANTITY_CLAIM_PQV = "quantity_claim_pqv", _("Quantity claim (PQV)")
    CHARGEBACK = "chargeback", _("Operational chargeback")
    COOP = "coop", _("Co-op / accrual")
    PRICE_PROTECTION = "price_protection", _("Price protection")
    PROVISION = "provision", _("Provision for receivables")
    RETURN = "return", _("Return (RTV)")
    UNPAID_PAST_DUE = "unpaid_past_due", _("Unpaid past due")
    UNEXPLAINED = "unexplained", _("Unexplained difference")


class DeductionStatus(models.TextChoices):
    NEW = "new", _("New")
    DISPUTED = "disputed", _("Disputed")
    WON = "won", _("Won")
    PARTIALLY_WON = "partially_won", _("Partially won")
    LOST = "lost", _("Lost")
    WRITTEN_OFF = "written_off", _("Written off")


OPEN_STATUSES = (DeductionStatus.NEW, DeductionStatus.DISPUTED)


class DisputeSettings(TenantModel):
    """A tenant's dispute windows (days) and alert rules.

    Defaults (vendor-domain.md §2): shortages are best disputed 0-30 days
    after the invoice due date (superdisty/SupplyPike; CommerceIQ advises
    waiting up to 40, so both ends are settings); price claims within 30
    days of the claim; lookback 24 months (threecolts; ChannelEngine says
    2 years in the US, 5 elsewhere). Chargeback and co-op windows are not
    documented in the reference; 30 days is our conservative default.
    """

    shortage_window_days = models.PositiveSmallIntegerField(
        default=30, help_text=_("Days after the invoice due date to dispute a shortage claim."))
    shortage_wait_days = models.PositiveSmallIntegerField(
        default=0, help_text=_("Days after the invoice due date before disputing a shortage "
                               "(Amazon's receiving may still finish)."))
    price_claim_window_days = models.PositiveSmallIntegerField(
        default=30, help_text=_("Days after the claim date to dispute a price or quantity claim."))
    chargeback_window_days = models.PositiveSmallIntegerField(
        default=30, help_text=_("Days after the claim date to dispute a chargeback."))
    coop_window_days = models.PositiveSmallIntegerField(
        default=30, help_text=_("Days after the claim date to dispute co-op or price protection."))
    other_window_days = models.PositiveSmallIntegerField(
        default=30, help_text=_("Days after the claim date for every other deduction."))
    lookback_months = models.PositiveSmallIntegerField(
        default=24, help_text=_("Amazon's lookback: claims older than this cannot be disputed."))
    alert_days_before = models.PositiveSmallIntegerField(
        default=7, help_text=_("Alert this many days before a dispute window closes."))
    alert_threshold = models.DecimalField(
        default=Decimal("100"), help_text=_("Alert on new deductions of at least this amount."),
        **MONEY)
    default_payment_days = models.PositiveSmallIntegerField(
        default=60,
        help_text=_("Payment terms (days after issue) when an invoice has no due date."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="rec_dispute_settings_one"),
        ]

    def __str__(self):
        return f"dispute settings {self.tenant_id}"


class MarketplaceLookback(TenantModel):
    """A marketplace's own lookback (the sources conflict: 24 months, or 2
    years in the US and 5 elsewhere; vendor-domain.md §2)."""

    marketplace_id = models.CharField(max_length=20)
    lookback_months = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["marketplace_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "marketplace_id"],
                                    name="rec_marketplace_lookback_one"),
        ]

    def __str__(self):
        return f"{self.marketplace_id}: {self.lookback_months}"


class ChargebackType(TenantModel):
    """Chargeback kinds as data, not an enum (vendor-domain.md §4: 40+
    types in 7 categories, and Amazon adds more)."""

    code = models.CharField(max_length=40)
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=60, blank=True)
    # Upper-case words that identify it in a remittance line's description.
    keywords = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="rec_chargeback_type_code"),
        ]

    def __str__(self):
        return self.name


class Deduction(TenantModel):
    """One amount Amazon did not pay, classified, with its dispute clock.

    ``amount`` is positive (what was kept). From a remittance line it is
    unique per line; from an invoice balance unique per (invoice, type)."""

    deduction_type = models.CharField(max_length=24, choices=DeductionType.choices)
    chargeback_type = models.ForeignKey(
        ChargebackType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16, choices=DeductionStatus.choices, default=DeductionStatus.NEW)
    remittance_line = models.OneToOneField(
        "reconciliation.RemittanceLine", null=True, blank=True, on_delete=models.PROTECT,
        related_name="deduction")
    reference = models.CharField(max_length=120)
    invoice = models.ForeignKey(
        "invoicing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    invoice_number = models.CharField(max_length=120, blank=True)
    purchase_order = models.ForeignKey(
        "channels.PurchaseOrder", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+")
    purchase_order_number = models.CharField(max_length=40, blank=True)
    shipment = models.ForeignKey(
        "channels.Shipment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)
    amount_disputed = models.DecimalField(default=0, **MONEY)
    amount_recovered = models.DecimalField(default=0, **MONEY)
    claim_date = models.DateField()
    invoice_due_date = models.DateField(null=True, blank=True)
    dispute_opens_on = models.DateField(null=True, blank=True)
    dispute_due_date = models.DateField()
    lookback_until = models.DateField(null=True, blank=True)
    dispute_reference = models.CharField(max_length=80, blank=True)
    note = models.CharField(max_length=500, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dispute_due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "invoice", "deduction_type"],
                condition=Q(remittance_line__isnull=True),
                name="rec_deduction_one_balance_kind"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="rec_deduction_amount_pos"),
            models.CheckConstraint(
                condition=Q(amount_recovered__gte=0) & Q(amount_disputed__gte=0),
                name="rec_deduction_amounts_nonneg"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "dispute_due_date"],
                         name="rec_deduction_queue"),
            models.Index(fields=["tenant", "deduction_type", "claim_date"],
                         name="rec_deduction_type"),
            models.Index(fields=["tenant", "updated_at", "id"], name="rec_deduction_updated"),
        ]

    def __str__(self):
        return self.reference

    @property
    def amount_open(self) -> Decimal:
        return self.amount - self.amount_recovered

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class DeductionEvent(TenantModel):
    """Every status change of a deduction (who, when, from, to, amounts)."""

    deduction = models.ForeignKey(Deduction, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    amount_disputed = models.DecimalField(default=0, **MONEY)
    amount_recovered = models.DecimalField(default=0, **MONEY)
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+")

    class Meta:
        ordering = ["created_at", "id"]


class DeductionRecovery(TenantModel):
    """A later remittance line that paid back (part of) a deduction."""

    deduction = models.ForeignKey(Deduction, on_delete=models.PROTECT, related_name="recoveries")
    remittance_line = models.OneToOneField(
        "reconciliation.RemittanceLine", on_delete=models.PROTECT, related_name="recovery")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="rec_recovery_amount_pos"),
        ]


class EvidenceKind(models.TextChoices):
    BILL_OF_LADING = "bol", _("Bill of lading")
    PROOF_OF_DELIVERY = "pod", _("Proof of delivery")
    OTHER = "other", _("Other")


def evidence_upload_to(instance, filename: str) -> str:
    # The content hash names the file; the user's name is kept in a field.
    return f"reconciliation/evidence/{instance.tenant_id}/{instance.sha256}"


class EvidenceDocument(TenantModel):
    deduction = models.ForeignKey(Deduction, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=8, choices=EvidenceKind.choices)
    file = models.FileField(upload_to=evidence_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "deduction", "sha256"],
                                    name="rec_evidence_unique_file"),
        ]

    def __str__(self):
        return self.original_name


class ReturnSource(models.TextChoices):
    REMITTANCE = "remittance", _("Remittance RTV line")
    REPORT = "report", _("Vendor Central return report")
    MANUAL = "manual", _("Manual entry")


class ReturnEvent(TenantModel):
    """Goods Amazon sent back (RTV): stock when they arrive, a credit note,
    and the deduction that charged for them."""

    source = models.CharField(max_length=12, choices=ReturnSource.choices)
    return_reference = models.CharField(max_length=80)
    purchase_order_number = models.CharField(max_length=40, blank=True)
    product = models.ForeignKey(
        "inventory.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    asin = models.CharField(max_length=10, blank=True)
    quantity = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)
    return_date = models.DateField()
    warehouse = models.ForeignKey(
        "inventory.Warehouse", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(null=True, blank=True)
    stock_movement_ids = models.JSONField(default=list, blank=True)
    credit_note = models.ForeignKey(
        "invoicing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    deduction = models.ForeignKey(
        Deduction, null=True, blank=True, on_delete=models.PROTECT, related_name="returns")
    credit_note_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-return_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "source", "return_reference", "asin"],
                                    name="rec_return_unique_reference"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="rec_return_qty_pos"),
        ]
        indexes = [
            models.Index(fields=["tenant", "updated_at", "id"], name="rec_return_updated"),
        ]

    def __str__(self):
        return self.return_reference
