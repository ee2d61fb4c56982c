"""Sales channels: Amazon vendor accounts, SKU mappings, purchase orders,
acknowledgement plans, submissions, shipments (ASN), sync runs, call log
and the exceptions work queue.

Stock itself lives in inventory (floor 0); these models point to
``inventory.Product`` and call inventory's services for holds and moves.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from acorn.fields import EncryptedTextField
from acorn.models import TenantModel
from acorn.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS

# --- Accounts ---------------------------------------------------------------


class Region(models.TextChoices):
    NA = "NA", _("North America")
    EU = "EU", _("Europe")
    FE = "FE", _("Far East")


class AccountEnvironment(models.TextChoices):
    PRODUCTION = "production", _("Amazon production")
    SANDBOX = "sandbox", _("Amazon sandbox")
    LOCAL_SANDBOX = "local_sandbox", _("Local ACORN sandbox")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REAUTH_NEEDED = "reauth_needed", _("Re-authorization needed")
    DISABLED = "disabled", _("Disabled")


class AckAutoSend(models.TextChoices):
    NEVER = "never", _("Always review before sending")
    WHEN_FULLY_AVAILABLE = (
        "fully_available",
        _("Send automatically when every line is fully accepted"),
    )
    ALWAYS = "always", _("Send every plan automatically")


class AmazonVendorAccount(TenantModel):
    """One Vendor Central account (a vendor group) in one region."""

    name = models.CharField(max_length=100)
    region = models.CharField(max_length=2, choices=Region.choices)
    marketplace_id = models.CharField(max_length=20)
    environment = models.CharField(
        max_length=20, choices=AccountEnvironment.choices, default=AccountEnvironment.PRODUCTION
    )
    # The local sandbox (and tests) point the client here; blank = Amazon.
    endpoint_override = models.URLField(blank=True)
    # Vendor codes (selling party ids) this account acknowledges for.
    vendor_codes = models.JSONField(default=list)
    # ShipFrom party id and address used in ASNs: {"partyId": ..., "address": {...}}.
    ship_from = models.JSONField(default=dict, blank=True)
    lwa_client_id = models.CharField(max_length=200)
    lwa_client_secret = EncryptedTextField()
    lwa_refresh_token = EncryptedTextField()
    # When the current LWA client secret was saved, set automatically; Amazon
    # makes secrets expire 180 days after they are issued, so the rotation
    # reminder starts on day SECRET_ROTATION_REMINDER_DAY.
    lwa_client_secret_entered_on = models.DateField(null=True, blank=True)
    # Rotation deadline: entry date + SECRET_ROTATION_DAYS, kept with the row
    # so lists and the daily check read one column.
    lwa_client_secret_expires_on = models.DateField(null=True, blank=True)
    poll_interval_minutes = models.PositiveIntegerField(default=15)
    # How far back the first PO sync looks (Amazon keeps 6 months).
    initial_lookback_days = models.PositiveIntegerField(default=7, db_default=7)
    ack_auto_send = models.CharField(
        max_length=20, choices=AckAutoSend.choices, default=AckAutoSend.WHEN_FULLY_AVAILABLE
    )
    # Amazon asks for every line within 24 hours of PO creation.
    ack_deadline_hours = models.PositiveIntegerField(default=24)
    # Backorders promise inbound stock within this many days.
    backorder_horizon_days = models.PositiveIntegerField(default=14)
    status = models.CharField(
        max_length=20, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    status_detail = models.CharField(max_length=500, blank=True)
    # PO sync high-water mark: the next sync asks for changes after this,
    # minus an overlap, so a late write at Amazon is never skipped.
    po_changed_high_water = models.DateTimeField(null=True, blank=True)
    po_status_high_water = models.DateTimeField(null=True, blank=True)
    last_connection_test_at = models.DateTimeField(null=True, blank=True)
    last_connection_test_ok = models.BooleanField(null=True, blank=True)
    last_connection_test_detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="amazon_account_unique_name"),
        ]

    def __str__(self):
        return f"{self.name} ({self.region})"


class Gs1Settings(TenantModel):
    """GS1 company prefix and the SSCC serial counter of a tenant."""

    company_prefix = models.CharField(
        max_length=12, help_text=_("GS1 company prefix, 6-12 digits.")
    )
    extension_digit = models.PositiveSmallIntegerField(default=0)
    next_serial = models.PositiveBigIntegerField(default=1)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="gs1_settings_one_per_tenant")
        ]

    def __str__(self):
        return self.company_prefix


# --- SKU mapping --------------------------------------------------------------


class OrderUnit(models.TextChoices):
    EACHES = "Eaches", _("Eaches")
    CASES = "Cases", _("Cases")


class SkuMapping(TenantModel):
    """Account + ASIN / vendor product id <-> our product."""

    account = models.ForeignKey(
        AmazonVendorAccount, on_delete=models.CASCADE, related_name="mappings"
    )
    asin = models.CharField(max_length=10)
    vendor_product_id = models.CharField(max_length=64, blank=True)
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    order_unit = models.CharField(
        max_length=10, choices=OrderUnit.choices, default=OrderUnit.EACHES
    )
    # Units of the product per ordered unit (the case pack when ordered in cases).
    units_per_order_unit = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["asin", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "account", "asin"], name="sku_mapping_unique_asin"
            ),
            models.UniqueConstraint(
                fields=["tenant", "account", "vendor_product_id"],
                condition=~Q(vendor_product_id=""),
                name="sku_mapping_unique_vendor_product",
            ),
            models.CheckConstraint(
                condition=Q(units_per_order_unit__gte=1), name="sku_mapping_units_positive"
            ),
        ]

    def __str__(self):
        return f"{self.asin} -> {self.product_id}"


# --- Observability: call log, sync runs --------------------------------------


class ApiCallLog(TenantModel):
    """What the SP-API client reported for one call (not the bodies)."""

    account = models.ForeignKey(
        AmazonVendorAccount, on_delete=models.CASCADE, related_name="api_calls"
    )
    operation = models.CharField(max_length=60)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=100, blank=True, db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=1)
    # Attempts Amazon answered 429 (retried inside the call): the 429 share
    # of an account is sum(throttled_attempts) / sum(attempts).
    throttled_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["tenant", "account", "-created_at"], name="api_call_account_recent"
            ),
            models.Index(
                fields=["tenant", "operation", "-created_at"], name="api_call_operation_recent"
            ),
            # BI incremental loads (updated_since); rows are never updated,
            # so the index costs no HOT updates.
            models.Index(fields=["tenant", "updated_at", "id"], name="api_call_incremental"),
        ]

    def __str__(self):
        return f"{self.operation} {self.status_code} {self.request_id}"


class SyncKind(models.TextChoices):
    PURCHASE_ORDERS = "purchase_orders", _("Purchase orders")
    PURCHASE_ORDER_STATUS = "purchase_order_status", _("Purchase order status")
    TRANSACTIONS = "transactions", _("Submission status")
    FORECAST_REPORT = "forecast_report", _("Forecast report")
    SALES_REPORT = "sales_report", _("Sales report")
    CONNECTION_TEST = "connection_test", _("Connection test")


class SyncStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class SyncRun(TenantModel):
    account = models.ForeignKey(
        AmazonVendorAccount, on_delete=models.CASCADE, related_name="sync_runs"
    )
    kind = models.CharField(max_length=30, choices=SyncKind.choices)
    status = models.CharField(max_length=10, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    # e.g. {"pages": 3, "orders_seen": 250, "created": 10, "changed": 2, "unchanged": 238}
    counts = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    request_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(
                fields=["tenant", "account", "kind", "-started_at"], name="sync_run_recent"
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.status} {self.started_at:%Y-%m-%d %H:%M}"


# --- Purchase orders ------------------------------------------------------------


class PurchaseOrderState(models.TextChoices):
    NEW = "New", _("New")
    ACKNOWLEDGED = "Acknowledged", _("Acknowledged")
    CLOSED = "Closed", _("Closed")


class AckStatus(models.TextChoices):
    """Where our acknowledgement of a PO stands (Amazon's state is apart)."""

    PENDING = "pending", _("Not planned yet")
    BLOCKED = "blocked", _("Blocked (unmapped lines)")
    REVIEW = "review", _("Waiting for review")
    QUEUED = "queued", _("Queued for sending")
    SUBMITTED = "submitted", _("Sent, waiting for Amazon")
    ACCEPTED = "accepted", _("Accepted by Amazon")
    FAILED = "failed", _("Rejected by Amazon")
    NOT_NEEDED = "not_needed", _("Not needed")


class PurchaseOrder(TenantModel):
    account = models.ForeignKey(
        AmazonVendorAccount, on_delete=models.PROTECT, related_name="purchase_orders"
    )
    number = models.CharField(max_length=20)
    state = models.CharField(max_length=20, choices=PurchaseOrderState.choices)
    order_type = models.CharField(max_length=40, blank=True)
    ordered_at = models.DateTimeField()
    # Present only when Amazon changed the PO after issuing it.
    amazon_changed_at = models.DateTimeField(null=True, blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    ship_window_start = models.DateTimeField(null=True, blank=True)
    ship_window_end = models.DateTimeField(null=True, blank=True)
    delivery_window_start = models.DateTimeField(null=True, blank=True)
    delivery_window_end = models.DateTimeField(null=True, blank=True)
    selling_party_id = models.CharField(max_length=20, blank=True)
    ship_to_party_id = models.CharField(max_length=20, blank=True, db_index=True)
    ship_to = models.JSONField(default=dict, blank=True)
    bill_to = models.JSONField(default=dict, blank=True)
    buying_party = models.JSONField(default=dict, blank=True)
    payment_method = models.CharField(max_length=20, blank=True)
    deal_code = models.CharField(max_length=60, blank=True)
    import_details = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    total_cost = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, default=0
    )
    # SHA-256 of the canonical order JSON: an unchanged re-sync writes nothing.
    content_hash = models.CharField(max_length=64)
    # From getPurchaseOrdersStatus.
    amazon_status = models.CharField(max_length=10, blank=True)
    amazon_status_updated_at = models.DateTimeField(null=True, blank=True)
    ack_status = models.CharField(
        max_length=20, choices=AckStatus.choices, default=AckStatus.PENDING
    )
    ack_deadline_at = models.DateTimeField()
    ack_version = models.PositiveIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    has_unmapped_lines = models.BooleanField(default=False)
    # Amazon changed the PO after we acknowledged it: ops must review (and
    # update the acknowledgement within 48 hours where the change allows).
    changed_after_ack = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-ordered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "account", "number"], name="po_unique_number"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "state", "-ordered_at"], name="po_state_recent"),
            models.Index(
                fields=["tenant", "ack_status", "ack_deadline_at"], name="po_ack_deadline"
            ),
        ]

    def __str__(self):
        return self.number


class RejectionReason(models.TextChoices):
    TEMPORARILY_UNAVAILABLE = "TemporarilyUnavailable", _("Temporarily unavailable")
    INVALID_PRODUCT_IDENTIFIER = "InvalidProductIdentifier", _("Invalid product identifier")
    OBSOLETE_PRODUCT = "ObsoleteProduct", _("Obsolete product")


class PurchaseOrderLine(TenantModel):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines"
    )
    item_sequence_number = models.CharField(max_length=10)
    asin = models.CharField(max_length=10, blank=True)
    vendor_product_id = models.CharField(max_length=64, blank=True)
    ordered_quantity = models.PositiveIntegerField()
    order_unit = models.CharField(
        max_length=10, choices=OrderUnit.choices, default=OrderUnit.EACHES
    )
    unit_size = models.PositiveIntegerField(default=1)
    is_backorder_allowed = models.BooleanField(default=False)
    net_cost = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, null=True, blank=True
    )
    list_price = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, null=True, blank=True
    )
    currency = models.CharField(max_length=3, blank=True)
    # Resolved through SkuMapping; null = an unmapped line (an exception).
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    units_per_order_unit = models.PositiveIntegerField(default=1)
    # The planned acknowledgement (ops may edit within the rules).
    planned_accept = models.PositiveIntegerField(default=0)
    planned_backorder = models.PositiveIntegerField(default=0)
    planned_reject = models.PositiveIntegerField(default=0)
    rejection_reason = models.CharField(max_length=30, choices=RejectionReason.choices, blank=True)
    scheduled_ship_date = models.DateField(null=True, blank=True)
    scheduled_delivery_date = models.DateField(null=True, blank=True)
    plan_note = models.CharField(max_length=300, blank=True)
    plan_note_code = models.CharField(max_length=60, blank=True, default="", db_default="")
    plan_note_params = models.JSONField(default=dict, blank=True, db_default={})
    # The net cost acknowledged: the PO's unless ops lowered it (never above).
    ack_net_cost = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, null=True, blank=True
    )
    # From getPurchaseOrdersStatus.
    amazon_accepted_quantity = models.PositiveIntegerField(null=True, blank=True)
    amazon_rejected_quantity = models.PositiveIntegerField(null=True, blank=True)
    cancelled_quantity = models.PositiveIntegerField(default=0)
    received_quantity = models.PositiveIntegerField(null=True, blank=True)
    receive_status = models.CharField(max_length=30, blank=True)
    last_received_at = models.DateTimeField(null=True, blank=True)
    shipped_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["purchase_order_id", "item_sequence_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "purchase_order", "item_sequence_number"],
                name="po_line_unique_seq",
            ),
            models.CheckConstraint(
                condition=Q(planned_accept__gte=0)
                & Q(planned_backorder__gte=0)
                & Q(planned_reject__gte=0),
                name="po_line_plan_non_negative",
            ),
        ]

    def __str__(self):
        return f"{self.purchase_order_id}/{self.item_sequence_number}"

    @property
    def planned_total(self) -> int:
        return self.planned_accept + self.planned_backorder + self.planned_reject


class PurchaseOrderEventKind(models.TextChoices):
    CREATED = "created", _("Received from Amazon")
    CHANGED = "changed", _("Changed by Amazon")
    CANCELLED = "cancelled", _("Cancelled by Amazon")
    STATE_CHANGED = "state_changed", _("State changed")
    LINE_UNMAPPED = "line_unmapped", _("Line not mapped")
    PLANNED = "planned", _("Acknowledgement planned")
    PLAN_EDITED = "plan_edited", _("Acknowledgement edited")
    ACK_SENT = "ack_sent", _("Acknowledgement sent")
    ACK_ACCEPTED = "ack_accepted", _("Acknowledgement accepted")
    ACK_FAILED = "ack_failed", _("Acknowledgement failed")
    SHIPPED = "shipped", _("Shipped")
    RECEIVED = "received", _("Received by Amazon")
    SHORTAGE = "shortage", _("Received short")


class PurchaseOrderEvent(TenantModel):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=20, choices=PurchaseOrderEventKind.choices)
    # Deterministic per fact (e.g. "changed:2026-11-29T10:00:00Z"): replays
    # and concurrent syncs cannot record one fact twice.
    dedupe_key = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "purchase_order", "dedupe_key"], name="po_event_unique_fact"
            ),
        ]

    def __str__(self):
        return f"{self.purchase_order_id} {self.kind}"


# --- Submissions (every POST to Amazon) ---------------------------------------


class DocumentType(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    SHIPMENT_CONFIRMATION = "shipment_confirmation", _("Shipment confirmation (ASN)")
    INVOICE = "invoice", _("Invoice")


class SubmissionStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    PROCESSING = "processing", _("Processing at Amazon")
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")
    STALE = "stale", _("Stale (still processing)")
    OUTCOME_UNKNOWN = "outcome_unknown", _("Outcome unknown")
    CANCELLED = "cancelled", _("Cancelled")


class Submission(TenantModel):
    """One version of one business document sent to Amazon, tracked to a
    final state. (tenant, account, type, document, version) is unique, so
    the same version is never submitted twice."""

    account = models.ForeignKey(
        AmazonVendorAccount, on_delete=models.PROTECT, related_name="submissions"
    )
    document_type = models.CharField(max_length=30, choices=DocumentType.choices)
    document_ref = models.CharField(max_length=100)
    document_version = models.PositiveIntegerField(default=1)
    payload = models.JSONField()
    status = models.CharField(
        max_length=20, choices=SubmissionStatus.choices, default=SubmissionStatus.QUEUED
    )
    transaction_id = models.CharField(max_length=100, blank=True, db_index=True)
    request_id = models.CharField(max_length=100, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    status_detail = models.CharField(max_length=500, blank=True)
    # When the next automatic step is due: the next send of a QUEUED
    # submission backing off, the next check at Amazon of an in-doubt one.
    # None: nothing automatic is planned (or, for QUEUED, at once).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Checks at Amazon of an in-doubt submission since its last send
    # (capped: see MAX_RECONCILE_ATTEMPTS in channels/services/submissions.py).
    reconcile_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "account", "document_type", "document_ref", "document_version"],
                name="submission_unique_document_version",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status", "sent_at"], name="submission_open")]

    def __str__(self):
        return f"{self.document_type} {self.document_ref} v{self.document_version} {self.status}"


# --- Shipments / ASN ------------------------------------------------------------


class ShipmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SHIPPED = "shipped", _("Shipped")
    CONFIRMED = "confirmed", _("ASN accepted")
    FAILED = "failed", _("ASN rejected")
    CANCELLED = "cancelled", _("Cancelled")


class Shipment(TenantModel):
    account = models.ForeignKey(
        AmazonVendorAccount, on_delete=models.PROTECT, related_name="shipments"
    )
    # The ASN's shipmentIdentifier: unique, never reused within 365 days.
    shipment_identifier = models.CharField(max_length=64)
    ship_to_party_id = models.CharField(max_length=20)
    ship_from = models.JSONField(default=dict, blank=True)
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.DRAFT
    )
    shipment_type = models.CharField(max_length=30, default="SmallParcel")
    shipment_structure = models.CharField(max_length=40, default="LooseAssortmentCase")
    carrier_scac = models.CharField(max_length=10, blank=True)
    bill_of_lading_number = models.CharField(max_length=40, blank=True)
    carrier_reference_number = models.CharField(max_length=40, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    estimated_delivery_at = models.DateTimeField(null=True, blank=True)
    asn_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "account", "shipment_identifier"],
                name="shipment_unique_identifier",
            ),
        ]

    def __str__(self):
        return self.shipment_identifier


class ShipmentItem(TenantModel):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="items")
    po_line = models.ForeignKey(
        PurchaseOrderLine, on_delete=models.PROTECT, related_name="shipment_items"
    )
    item_sequence_number = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()
    lot_number = models.CharField(max_length=64, blank=True)
    expiry_date = models.DateField(null=True, blank=True)
    country_of_origin = models.CharField(max_length=2, blank=True)

    class Meta:
        ordering = ["shipment_id", "item_sequence_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "shipment", "item_sequence_number"],
                name="shipment_item_unique_seq",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="shipment_item_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.shipment_id}/{self.item_sequence_number}"


class Pallet(TenantModel):
    """A pallet of cartons, identified by its own SSCC-18 (AI 00).

    SSCCs come from the same ``Gs1Settings`` counter as cartons, so no
    serial is ever used twice across cartons and pallets.
    """

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="pallets")
    sequence_number = models.PositiveIntegerField()
    sscc = models.CharField(max_length=18)
    weight_kg = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    length_cm = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    width_cm = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    is_stackable = models.BooleanField(default=True)
    # ASN tier (layers) and block (cartons per layer); optional.
    tier = models.PositiveSmallIntegerField(null=True, blank=True)
    block = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["shipment_id", "sequence_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sscc"], name="pallet_unique_sscc"),
            models.UniqueConstraint(
                fields=["tenant", "shipment", "sequence_number"], name="pallet_unique_sequence"
            ),
        ]

    def __str__(self):
        return self.sscc


class Carton(TenantModel):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="cartons")
    # Null for loose cartons (small parcel, non-palletised shipments).
    pallet = models.ForeignKey(
        Pallet, on_delete=models.SET_NULL, null=True, blank=True, related_name="cartons"
    )
    sequence_number = models.PositiveIntegerField()
    sscc = models.CharField(max_length=18)
    weight_kg = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    length_cm = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    width_cm = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    tracking_number = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["shipment_id", "sequence_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sscc"], name="carton_unique_sscc"),
            models.UniqueConstraint(
                fields=["tenant", "shipment", "sequence_number"], name="carton_unique_sequence"
            ),
        ]

    def __str__(self):
        return self.sscc


class CartonItem(TenantModel):
    carton = models.ForeignKey(Carton, on_delete=models.CASCADE, related_name="contents")
    shipment_item = models.ForeignKey(
        ShipmentItem, on_delete=models.CASCADE, related_name="carton_items"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["carton_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "carton", "shipment_item"], name="carton_item_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="carton_item_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.carton_id}: {self.quantity}"


# --- The exceptions work queue ----------------------------------------------------


class ExceptionKind(models.TextChoices):
    UNMAPPED_LINE = "unmapped_line", _("PO line without SKU mapping")
    ACK_DEADLINE = "ack_deadline", _("Acknowledgement deadline near")
    SUBMISSION_FAILED = "submission_failed", _("Submission rejected by Amazon")
    SUBMISSION_STALE = "submission_stale", _("Submission stuck in processing")
    OUTCOME_UNKNOWN = "outcome_unknown", _("Submission outcome unknown")
    REAUTH_NEEDED = "reauth_needed", _("Amazon account needs re-authorization")
    SECRET_EXPIRING = "secret_expiring", _("LWA client secret due for rotation")
    SYNC_FAILED = "sync_failed", _("Sync failed")
    SHORTAGE = "shortage", _("Amazon received less than shipped")
    API_HEALTH = "api_health", _("Amazon API success rate or throttling out of bounds")
    TASK_FAILED = "task_failed", _("Background task failed")
    ARCHIVE_FAILED = "archive_failed", _("Data archive failed")
    DEPENDENCY_UNAVAILABLE = "dependency_unavailable", _("A service ACORN needs was unreachable")


class ExceptionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class ChannelException(TenantModel):
    """An item in the ops work queue. One open row per (kind, subject)."""

    # Null for exceptions that concern no account (a failed background
    # task of the tenant, e.g. the purchase plan refresh).
    account = models.ForeignKey(
        AmazonVendorAccount, on_delete=models.CASCADE, null=True, blank=True,
        related_name="exceptions",
    )
    kind = models.CharField(max_length=30, choices=ExceptionKind.choices)
    status = models.CharField(
        max_length=10, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN
    )
    # What the exception is about, e.g. "po:123/line:2" or "submission:9".
    subject_key = models.CharField(max_length=200)
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, null=True, blank=True, related_name="exceptions"
    )
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, null=True, blank=True, related_name="exceptions"
    )
    # English, for old rows, logs and the API; pages show message_code
    # with message_params in the reader's language (acorn.messages).
    message = models.CharField(max_length=500)
    message_code = models.CharField(max_length=60, blank=True, default="", db_default="")
    message_params = models.JSONField(default=dict, blank=True, db_default={})
    detail = models.JSONField(default=dict, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "subject_key"],
                condition=Q(status="open"),
                name="channel_exception_one_open",
            ),
        ]

    def __str__(self):
        return f"{self.kind}: {self.subject_key}"


# --- Data retention: archives of old rows ---------------------------------------


class ArchiveDataset(models.TextChoices):
    API_CALLS = "api_calls", _("Amazon API call log")
    SYNC_RUNS = "sync_runs", _("Sync runs")
    PURCHASE_ORDER_EVENTS = "purchase_order_events", _("Purchase order events")


class ArchiveStatus(models.TextChoices):
    EXPORTING = "exporting", _("Exporting")
    DELETING = "deleting", _("Deleting archived rows")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed (will be retried)")


class ArchiveRun(TenantModel):
    """One export of a dataset's rows older than ``cutoff`` to a gzip JSON
    Lines file, then their deletion in batches.

    The file is complete (row count and SHA-256 of the stored file
    recorded and re-read) before any row is deleted; the deletion removes
    exactly the exported range (``created_at < cutoff`` and
    ``id <= last_row_id``), so a crash at any point is resumed by running
    the same record again.
    """

    dataset = models.CharField(max_length=30, choices=ArchiveDataset.choices)
    cutoff = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=ArchiveStatus.choices, default=ArchiveStatus.EXPORTING
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # The highest row id in the export: the deletion never goes past it.
    last_row_id = models.BigIntegerField(null=True, blank=True)
    row_count = models.PositiveBigIntegerField(default=0)
    deleted_count = models.PositiveBigIntegerField(default=0)
    file_name = models.CharField(max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "dataset", "cutoff"], name="archive_run_unique_cutoff"
            ),
        ]

    def __str__(self):
        return f"{self.dataset} < {self.cutoff:%Y-%m-%d} {self.status}"


# =============================================================================
# --- Web stores (issue 12): Shopify, Magento 2, BigCommerce ------------------
# =============================================================================
#
# One StoreConnection per store; its secrets are one encrypted, write-only
# JSON object (keys per platform in channels.stores.registry.CREDENTIAL_KEYS).
# Stock goes out as "available to sell" per Listing at the connection's
# primary mapped location; orders come back as StoreOrder rows that hold
# inventory reservations (source_type "store_order", source_ref
# "store:<connection id>:<platform order id>").


class StorePlatform(models.TextChoices):
    SHOPIFY = "shopify", _("Shopify")
    MAGENTO = "magento", _("Magento 2 / Adobe Commerce")
    BIGCOMMERCE = "bigcommerce", _("BigCommerce")


class StoreConnectionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ERROR = "error", _("Needs attention")


class StoreConnection(TenantModel):
    """One web store the tenant sells through."""

    platform = models.CharField(max_length=20, choices=StorePlatform.choices)
    name = models.CharField(max_length=100)
    shop_url = models.URLField(help_text=_("The store's API base URL."))
    api_version = models.CharField(max_length=20, blank=True)
    # JSON object of the platform's secrets, encrypted; never rendered back.
    credentials = EncryptedTextField()
    # Which credential keys are set (names only), for the edit page.
    credential_keys_set = models.JSONField(default=list, blank=True)
    credentials_entered_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=StoreConnectionStatus.choices, default=StoreConnectionStatus.ACTIVE
    )
    status_detail = models.CharField(max_length=500, blank=True)
    # The inventory channel whose buffer rules apply ("store:<id>" or a shared one).
    channel_name = models.CharField(max_length=40, blank=True)
    reconcile_interval_minutes = models.PositiveIntegerField(default=60)
    order_poll_interval_minutes = models.PositiveIntegerField(default=5)
    # Order poll high-water mark (the platform's updated_at), re-read with overlap.
    orders_high_water = models.DateTimeField(null=True, blank=True)
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_order_poll_at = models.DateTimeField(null=True, blank=True)
    last_reconcile_at = models.DateTimeField(null=True, blank=True)
    last_drift_count = models.PositiveIntegerField(default=0)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    consecutive_errors = models.PositiveIntegerField(default=0)
    last_connection_test_at = models.DateTimeField(null=True, blank=True)
    last_connection_test_ok = models.BooleanField(null=True, blank=True)
    last_connection_test_detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="store_connection_unique_name"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_platform_display()})"

    @property
    def sync_channel(self) -> str:
        """The inventory channel name for ATP and reservations."""
        return self.channel_name or f"store:{self.pk}"


class StoreLocationMapping(TenantModel):
    """A store location <-> an inventory warehouse; the primary one gets the ATS."""

    connection = models.ForeignKey(
        StoreConnection, on_delete=models.CASCADE, related_name="location_mappings"
    )
    location_id = models.CharField(max_length=200)
    location_name = models.CharField(max_length=200, blank=True)
    warehouse = models.ForeignKey(
        "inventory.Warehouse", null=True, blank=True, on_delete=models.PROTECT,
        related_name="store_location_mappings",
    )
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["connection_id", "-is_primary", "location_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "connection", "location_id"], name="store_location_unique"
            ),
            models.UniqueConstraint(
                fields=["tenant", "connection"], condition=Q(is_primary=True),
                name="store_location_one_primary",
            ),
        ]

    def __str__(self):
        return self.location_name or self.location_id


class ListingMatch(models.TextChoices):
    AUTO = "auto", _("Matched automatically")
    CONFIRMED = "confirmed", _("Confirmed")
    UNMATCHED = "unmatched", _("Unmatched")
    CONFLICT = "conflict", _("Conflict")
    IGNORED = "ignored", _("Ignored")


class Listing(TenantModel):
    """One sellable item of a store (by the platform's ids) and our product."""

    connection = models.ForeignKey(
        StoreConnection, on_delete=models.CASCADE, related_name="listings"
    )
    item_id = models.CharField(max_length=200)
    variant_id = models.CharField(max_length=200, blank=True)
    sku = models.CharField(max_length=200, blank=True)
    gtin = models.CharField(max_length=20, blank=True)
    title = models.CharField(max_length=300, blank=True)
    product = models.ForeignKey(
        "inventory.Product", null=True, blank=True, on_delete=models.PROTECT,
        related_name="store_listings",
    )
    match_state = models.CharField(
        max_length=10, choices=ListingMatch.choices, default=ListingMatch.UNMATCHED
    )
    match_detail = models.CharField(max_length=300, blank=True)
    last_pushed_ats = models.IntegerField(null=True, blank=True)
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    # What the store said last (ats and its compare-and-set token).
    last_seen_ats = models.IntegerField(null=True, blank=True)
    cas_token = models.BigIntegerField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Set when our ATS may differ from the store's (drained from inventory's
    # outbox, a store-side level webhook, a failed write); cleared by a push.
    push_pending = models.BooleanField(default=False)
    # Units of this store's own orders we held when we last pushed (reserved
    # minus released): without compare-and-set a push is a delta, and the
    # store already took its own orders off its number, so the delta leaves
    # them out (channels/services/stores/push.py).
    own_orders_at_push = models.IntegerField(default=0)
    # A write whose outcome is unknown: the next push re-reads first.
    outcome_unknown = models.BooleanField(default=False)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["connection_id", "sku", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "connection", "item_id", "variant_id"],
                name="store_listing_unique_ref",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "product"], name="store_listing_product"),
            models.Index(
                fields=["tenant", "connection", "match_state"], name="store_listing_match"
            ),
            models.Index(
                fields=["tenant", "connection"], condition=Q(push_pending=True),
                name="store_listing_pending",
            ),
        ]

    def __str__(self):
        return self.sku or self.item_id


class StoreOrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTIALLY_FULFILLED = "partially_fulfilled", _("Partially fulfilled")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")


class StoreOrder(TenantModel):
    connection = models.ForeignKey(
        StoreConnection, on_delete=models.CASCADE, related_name="orders"
    )
    platform_order_id = models.CharField(max_length=100)
    name = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=20, choices=StoreOrderStatus.choices, default=StoreOrderStatus.OPEN
    )
    raw_status = models.CharField(max_length=100, blank=True)
    is_test = models.BooleanField(default=False)
    placed_at = models.DateTimeField()
    # The platform's updated_at of the version applied; older versions are skipped.
    platform_updated_at = models.DateTimeField()
    # inventory Hold id of the reservation (no FK across floors' write paths).
    reservation_id = models.BigIntegerField(null=True, blank=True)
    status_detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "connection", "platform_order_id"],
                name="store_order_unique_platform_id",
            ),
        ]

    def __str__(self):
        return self.name or self.platform_order_id

    @property
    def source_ref(self) -> str:
        return f"store:{self.connection_id}:{self.platform_order_id}"


class StoreOrderLine(TenantModel):
    order = models.ForeignKey(StoreOrder, on_delete=models.CASCADE, related_name="lines")
    line_id = models.CharField(max_length=100)
    sku = models.CharField(max_length=200, blank=True)
    listing = models.ForeignKey(
        Listing, null=True, blank=True, on_delete=models.SET_NULL, related_name="order_lines"
    )
    product = models.ForeignKey(
        "inventory.Product", null=True, blank=True, on_delete=models.PROTECT,
        related_name="store_order_lines",
    )
    quantity = models.PositiveIntegerField()
    quantity_cancelled = models.PositiveIntegerField(default=0)
    quantity_shipped = models.PositiveIntegerField(default=0)
    # What inventory holds for the line now: reserved, released and consumed units.
    reserved_quantity = models.PositiveIntegerField(default=0)
    released_quantity = models.PositiveIntegerField(default=0)
    consumed_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "order", "line_id"], name="store_order_line_unique"
            ),
        ]

    def __str__(self):
        return f"{self.sku} x {self.quantity}"


class StoreSyncKind(models.TextChoices):
    PUSH = "push", _("Stock push")
    RECONCILE = "reconcile", _("Reconciliation")
    ORDERS = "orders", _("Order poll")
    LISTINGS = "listings", _("Listing import")
    WEBHOOK = "webhook", _("Webhook")
    TEST = "test", _("Connection test")


class StoreSyncRun(TenantModel):
    """One sync step of a connection: what it did and what went wrong."""

    connection = models.ForeignKey(
        StoreConnection, on_delete=models.CASCADE, related_name="sync_runs"
    )
    kind = models.CharField(max_length=10, choices=StoreSyncKind.choices)
    status = models.CharField(max_length=10, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # e.g. {"rows": 12, "applied": 11, "stale": 1, "drift": 0}
    counts = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(
                fields=["tenant", "connection", "-started_at"], name="store_sync_run_recent"
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.status}"


class WebhookEventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    SKIPPED = "skipped", _("Skipped (older than what we have)")
    FAILED = "failed", _("Failed")


class WebhookEvent(TenantModel):
    """A verified webhook delivery, once per platform event id."""

    connection = models.ForeignKey(
        StoreConnection, on_delete=models.CASCADE, related_name="webhook_events"
    )
    dedupe_key = models.CharField(max_length=200)
    topic = models.CharField(max_length=100)
    triggered_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=WebhookEventStatus.choices, default=WebhookEventStatus.RECEIVED
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "connection", "dedupe_key"], name="store_webhook_unique_event"
            ),
        ]

    def __str__(self):
        return f"{self.topic} {self.dedupe_key}"
