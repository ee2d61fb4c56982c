"""Catalog, stock ledger, holds, the ATP outbox and purchase planning.

Quantities are whole units (``IntegerField``): a unit is what the brand
sells, so a case is ``case_pack`` units. Statistics (forecasts, demand
rates, plans) are ``Decimal``.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from acorn.models import TenantModel

QUANTITY_DIGITS = 14
RATE_PLACES = 4

gtin_validator = RegexValidator(
    r"^(\d{8}|\d{12}|\d{13}|\d{14})$", _("A GTIN has 8, 12, 13 or 14 digits.")
)
asin_validator = RegexValidator(r"^[A-Z0-9]{10}$", _("An ASIN has 10 letters or digits."))
country_validator = RegexValidator(r"^[A-Z]{2}$", _("Use the two-letter ISO country code."))
hs_code_validator = RegexValidator(r"^\d{4,10}$", _("An HS code has 4 to 10 digits."))


class Supplier(TenantModel):
    """Who a product is bought from, with the terms planning needs."""

    code = models.CharField(max_length=50)
    name = models.CharField(max_length=200)
    lead_time_days = models.PositiveIntegerField(
        default=30, help_text=_("Days from order to stock on the shelf.")
    )
    moq_units = models.PositiveIntegerField(
        default=0, help_text=_("Minimum order quantity in units (0 means none).")
    )
    case_pack = models.PositiveIntegerField(
        default=1,
        db_default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Units per supplier carton: orders are rounded up to it."),
    )

    class Meta:
        ordering = ["code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="inv_supplier_code_unique"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class Warehouse(TenantModel):
    """A stock location: the brand's own warehouse or a 3PL site."""

    code = models.CharField(max_length=30)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, blank=True, validators=[country_validator])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="inv_warehouse_code_unique"),
        ]

    def __str__(self):
        return self.code


class Product(TenantModel):
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=300)
    gtin = models.CharField(
        max_length=14, blank=True, validators=[gtin_validator],
        help_text=_("GTIN-8/12/13/14 (UPC and EAN are GTINs)."),
    )
    # The ASIN links the product to Amazon's forecast. channels owns the
    # full SKU mapping; this is the one link planning needs.
    asin = models.CharField(max_length=10, blank=True, validators=[asin_validator])
    case_pack = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    unit_size = models.CharField(max_length=50, blank=True)
    weight_grams = models.DecimalField(
        max_digits=12, decimal_places=3, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    hs_code = models.CharField(max_length=10, blank=True, validators=[hs_code_validator])
    country_of_origin = models.CharField(max_length=2, blank=True, validators=[country_validator])
    is_lot_tracked = models.BooleanField(default=False)
    safety_stock = models.PositiveIntegerField(
        default=0, help_text=_("Units never promised to any channel.")
    )
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    moq_units = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Overrides the supplier's minimum order quantity.")
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sku", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sku"], name="inv_product_sku_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "asin"], name="inv_product_asin")]

    def __str__(self):
        return self.sku


class Lot(TenantModel):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    number = models.CharField(max_length=64)
    expires_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["product_id", "expires_on", "number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "product", "number"], name="inv_lot_number_unique"
            ),
        ]

    def __str__(self):
        return self.number


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ADJUSTMENT = "adjustment", _("Adjustment")
    TRANSFER = "transfer", _("Transfer")
    SHIPMENT = "shipment", _("Shipment")
    RETURN = "return", _("Return")
    COUNT = "count", _("Count")


class StockMovement(TenantModel):
    """One signed change of on-hand at one location: the ledger.

    Append-only: a database trigger refuses UPDATE and DELETE (see
    migration 0002). A correction is a new movement.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements")
    lot = models.ForeignKey(
        Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    kind = models.CharField(max_length=20, choices=MovementKind.choices)
    quantity = models.IntegerField(help_text=_("Signed change of on-hand."))
    # What a count found; the quantity is the difference it made.
    counted_quantity = models.IntegerField(null=True, blank=True)
    source_type = models.CharField(max_length=40, blank=True)
    source_ref = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    line_no = models.PositiveIntegerField(default=0)
    actor_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key", "line_no"],
                condition=~Q(idempotency_key=""),
                name="inv_movement_idempotent",
            ),
            models.CheckConstraint(
                condition=~Q(quantity=0) | Q(kind="count"), name="inv_movement_nonzero"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "product", "-created_at"], name="inv_mov_product"),
            models.Index(fields=["tenant", "source_type", "source_ref"], name="inv_mov_source"),
            # BI incremental loads (updated_since); the ledger is append-only.
            models.Index(fields=["tenant", "updated_at", "id"], name="inv_mov_incremental"),
        ]

    def __str__(self):
        return f"{self.kind} {self.quantity:+d} {self.product_id}@{self.warehouse_id}"


class StockBalance(TenantModel):
    """On-hand per product, location and lot, kept in step with the ledger."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="balances")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="balances")
    lot = models.ForeignKey(
        Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="balances"
    )
    on_hand = models.IntegerField(default=0)

    class Meta:
        ordering = ["product_id", "warehouse_id", "id"]
        constraints = [
            # Two partial constraints: one balance per lot, and one per
            # product and warehouse for stock without a lot (NULL lot).
            models.UniqueConstraint(
                fields=["tenant", "product", "warehouse", "lot"],
                condition=Q(lot__isnull=False), name="inv_balance_lot_unique",
            ),
            models.UniqueConstraint(
                fields=["tenant", "product", "warehouse"],
                condition=Q(lot__isnull=True), name="inv_balance_nolot_unique",
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="inv_balance_nonnegative"),
        ]

    def __str__(self):
        return f"{self.product_id}@{self.warehouse_id}: {self.on_hand}"


class StockLevel(TenantModel):
    """Per product: total on-hand and what is promised against it.

    The one row every hold and reservation updates conditionally, so
    concurrent promises serialise on it; the CHECK constraint is the
    backstop that no unit is promised twice.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="levels")
    on_hand = models.IntegerField(default=0)
    held = models.IntegerField(default=0, help_text=_("Amazon PO and manual holds."))
    reserved = models.IntegerField(default=0, help_text=_("Web-store reservations."))

    class Meta:
        ordering = ["product_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "product"], name="inv_level_unique"),
            models.CheckConstraint(
                condition=Q(on_hand__gte=0) & Q(held__gte=0) & Q(reserved__gte=0),
                name="inv_level_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(on_hand__gte=F("held") + F("reserved")),
                name="inv_level_not_overpromised",
            ),
        ]

    def __str__(self):
        return f"{self.product_id}: {self.on_hand} ({self.held}+{self.reserved} promised)"


class HoldKind(models.TextChoices):
    PURCHASE_ORDER = "purchase_order", _("Amazon PO hold")
    RESERVATION = "reservation", _("Store reservation")
    MANUAL = "manual", _("Manual hold")


class HoldStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CONSUMED = "consumed", _("Consumed")
    RELEASED = "released", _("Released")
    CLOSED = "closed", _("Closed")


class Hold(TenantModel):
    """Units promised to one source document, all lines or none."""

    kind = models.CharField(max_length=20, choices=HoldKind.choices)
    status = models.CharField(max_length=10, choices=HoldStatus.choices, default=HoldStatus.ACTIVE)
    channel = models.CharField(max_length=40, blank=True)
    source_type = models.CharField(max_length=40)
    source_ref = models.CharField(max_length=200)
    idempotency_key = models.CharField(max_length=200)
    note = models.CharField(max_length=300, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="inv_hold_idempotent"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "source_type", "source_ref"], name="inv_hold_source"),
            models.Index(fields=["tenant", "status"], name="inv_hold_status"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.source_ref}"


class HoldLine(TenantModel):
    hold = models.ForeignKey(Hold, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="hold_lines")
    line_ref = models.CharField(max_length=64, blank=True, help_text=_("E.g. the PO line number."))
    quantity = models.PositiveIntegerField()
    open_quantity = models.PositiveIntegerField()
    consumed_quantity = models.PositiveIntegerField(default=0)
    released_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["hold_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    quantity=F("open_quantity") + F("consumed_quantity") + F("released_quantity")
                ),
                name="inv_holdline_balanced",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inv_holdline_positive"),
        ]
        indexes = [models.Index(fields=["tenant", "product"], name="inv_holdline_product")]

    def __str__(self):
        return f"{self.product_id} x{self.quantity}"


class HoldEventKind(models.TextChoices):
    CONSUME = "consume", _("Consumed")
    RELEASE = "release", _("Released")


class HoldEvent(TenantModel):
    """A consumption or release of a hold line: the holds' own ledger."""

    line = models.ForeignKey(HoldLine, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=HoldEventKind.choices)
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    line_no = models.PositiveIntegerField(default=0)
    actor_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key", "line_no"],
                condition=~Q(idempotency_key=""),
                name="inv_holdevent_idempotent",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.quantity} of line {self.line_id}"


class ChannelRule(TenantModel):
    """How much of the free stock one channel may list.

    A rule without a product is the channel's default; a product rule
    overrides it. ``ATS = clamp(floor(free * pct) - keep_back, 0, max)``,
    and 0 when free is at or below ``zero_at`` (store-channels.md §4).
    """

    channel = models.CharField(max_length=40)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, related_name="channel_rules"
    )
    allocation_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("100"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    keep_back = models.PositiveIntegerField(default=0, help_text=_("Units kept off the channel."))
    max_listed = models.PositiveIntegerField(null=True, blank=True)
    zero_at = models.PositiveIntegerField(
        default=0, help_text=_("List nothing when free stock is at or below this.")
    )
    include_inbound = models.BooleanField(
        default=False, help_text=_("Promise inbound stock due within the horizon (backorders).")
    )
    inbound_horizon_days = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["channel", "product_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel", "product"], condition=Q(product__isnull=False),
                name="inv_rule_product_unique",
            ),
            models.UniqueConstraint(
                fields=["tenant", "channel"], condition=Q(product__isnull=True),
                name="inv_rule_default_unique",
            ),
        ]

    def __str__(self):
        return f"{self.channel} {self.product_id or '*'}"


class InboundStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class InboundSupply(TenantModel):
    """Stock on its way (a supplier PO line), for planning and backorders."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="inbound")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="inbound")
    quantity = models.PositiveIntegerField()
    expected_on = models.DateField()
    reference = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=InboundStatus.choices, default=InboundStatus.OPEN
    )

    class Meta:
        ordering = ["expected_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "reference", "product"], name="inv_inbound_ref_unique"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status", "product"], name="inv_inbound_open")]

    def __str__(self):
        return f"{self.reference} {self.product_id} x{self.quantity}"


class AtpChange(TenantModel):
    """The outbox: one row per product whose ATP may have changed.

    Bursts coalesce: a change upserts the row and bumps ``version``. The
    channels app claims rows, pushes, then acknowledges the version it
    pushed; a row changed meanwhile stays for the next drain.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveBigIntegerField(default=1)
    changed_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "product"], name="inv_atpchange_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "changed_at"], name="inv_atpchange_due")]

    def __str__(self):
        return f"{self.product_id} v{self.version}"


class DemandEvent(TenantModel):
    """Units demanded on one channel on one day (a shipment, an order)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="demand")
    channel = models.CharField(max_length=40)
    quantity = models.IntegerField(help_text=_("Negative for a cancellation."))
    occurred_on = models.DateField()
    source_type = models.CharField(max_length=40, blank=True)
    source_ref = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=200)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="inv_demand_idempotent"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "product", "occurred_on"], name="inv_demand_product"),
        ]

    def __str__(self):
        return f"{self.channel} {self.product_id} x{self.quantity} {self.occurred_on}"


class AmazonForecast(TenantModel):
    """Amazon's demand forecast for one ASIN and week (latest import wins)."""

    asin = models.CharField(max_length=10, validators=[asin_validator])
    week_start = models.DateField()
    mean = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=RATE_PLACES)
    p70 = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=RATE_PLACES)
    p80 = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=RATE_PLACES)
    p90 = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=RATE_PLACES)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["asin", "week_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "asin", "week_start"], name="inv_forecast_unique"
            ),
            models.CheckConstraint(
                condition=Q(mean__gte=0) & Q(p70__lte=F("p80")) & Q(p80__lte=F("p90")),
                name="inv_forecast_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.asin} {self.week_start}"


class PlanStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    DISMISSED = "dismissed", _("Dismissed")


class PurchasePlanLine(TenantModel):
    """The latest buying suggestion for one product, with its reasons."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="plans")
    status = models.CharField(
        max_length=10, choices=PlanStatus.choices, default=PlanStatus.PROPOSED
    )
    weekly_demand = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=RATE_PLACES)
    weekly_sigma = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=RATE_PLACES)
    lead_time_days = models.PositiveIntegerField()
    safety_stock = models.PositiveIntegerField()
    reorder_point = models.PositiveIntegerField()
    stock_position = models.IntegerField()
    suggested_quantity = models.PositiveIntegerField()
    suggested_order_on = models.DateField(null=True, blank=True)
    reasoning = models.TextField()
    # The reasoning as message codes, one per line, shown in the reader's
    # language (acorn.messages); ``reasoning`` keeps the English.
    reasoning_messages = models.JSONField(default=list, blank=True, db_default=[])
    reviewed_by_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["suggested_order_on", "product_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "product"], name="inv_plan_unique"),
        ]

    def __str__(self):
        return f"{self.product_id}: {self.suggested_quantity}"
