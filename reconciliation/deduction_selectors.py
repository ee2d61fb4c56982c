"""Reads of deductions, disputes, evidence and returns (tenant explicit,
N+1 free). Kept apart from the ledger's selectors (reconciliation/selectors.py)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.urls import NoReverseMatch, reverse

from reconciliation.deduction_models import (
    OPEN_STATUSES,
    ChargebackType,
    Deduction,
    DeductionEvent,
    DeductionRecovery,
    DisputeSettings,
    EvidenceDocument,
    MarketplaceLookback,
    ReturnEvent,
)
from reconciliation.models import LineKind, RemittanceLine

ZERO = Decimal("0")


def deduction_list(*, tenant, filters: dict | None = None) -> QuerySet[Deduction]:
    filters = filters or {}
    queryset = Deduction.objects.filter(tenant=tenant).select_related("chargeback_type")
    for key in ("status", "deduction_type", "currency"):
        if filters.get(key):
            queryset = queryset.filter(**{key: filters[key]})
    if filters.get("invoice_number"):
        queryset = queryset.filter(invoice_number=filters["invoice_number"])
    if filters.get("updated_since"):
        queryset = queryset.filter(updated_at__gte=filters["updated_since"])
    return queryset


def dispute_queue(*, tenant, filters: dict | None = None) -> QuerySet[Deduction]:
    """Open deductions, the closest window first."""
    return (deduction_list(tenant=tenant, filters=filters)
            .filter(status__in=OPEN_STATUSES).order_by("dispute_due_date", "id"))


def dispute_list(*, tenant, filters: dict | None = None) -> QuerySet[Deduction]:
    """Deductions that were disputed at some point (for BI)."""
    return deduction_list(tenant=tenant, filters=filters).filter(disputed_at__isnull=False)


def deduction_get(*, tenant, deduction_id: int) -> Deduction | None:
    return (Deduction.objects.filter(tenant=tenant, pk=deduction_id)
            .select_related("chargeback_type", "remittance_line__payment")
            .prefetch_related(
                Prefetch("events", queryset=DeductionEvent.objects.select_related("actor")
                         .order_by("created_at", "id")),
                Prefetch("evidence",
                         queryset=EvidenceDocument.objects.order_by("created_at", "id")),
                Prefetch("recoveries", queryset=DeductionRecovery.objects
                         .select_related("remittance_line__payment").order_by("created_at", "id")),
                Prefetch("returns", queryset=ReturnEvent.objects.order_by("id")),
            ).first())


def marketplace_lookback_list(*, tenant) -> QuerySet[MarketplaceLookback]:
    return MarketplaceLookback.objects.filter(tenant=tenant).order_by("marketplace_id")


def chargeback_type_list(*, tenant) -> QuerySet[ChargebackType]:
    return ChargebackType.objects.filter(tenant=tenant).order_by("code", "id")


def dispute_settings_read(*, tenant) -> DisputeSettings:
    return DisputeSettings.objects.filter(tenant=tenant).first() or DisputeSettings(tenant=tenant)


def _invoice_pdf(*, tenant, invoice_id: int):
    """(download URL, bytes) of the rendered invoice PDF when invoicing's
    documents (h10's) are installed and rendered; (None, None) otherwise."""
    try:
        url = reverse("invoicing:invoice_pdf", kwargs={
            "tenant_slug": tenant.slug, "invoice_id": invoice_id, "language": "en"})
    except NoReverseMatch:
        return None, None
    try:
        from invoicing.documents.selectors import rendering_list
    except ImportError:
        return url, None
    renderings = rendering_list(tenant=tenant, invoice_id=invoice_id)
    for rendering in renderings:
        stored = getattr(rendering, "pdf_file", None) or getattr(rendering, "file", None)
        if stored:
            with stored.open("rb") as handle:
                return url, handle.read()
    return url, None


def evidence_pack(*, tenant, deduction: Deduction, with_pdf_bytes: bool = False) -> dict:
    """What a dispute needs, from the PO lifecycle (channels' selectors):
    shipped vs received per line, the cartons' SSCCs, the ASN as sent."""
    from channels.selectors.purchase_orders import purchase_order_get
    from channels.selectors.shipments import shipment_get, shipment_submissions

    pack = {
        "deduction": {"reference": deduction.reference, "type": deduction.deduction_type,
                      "amount": str(deduction.amount), "currency": deduction.currency,
                      "claim_date": deduction.claim_date, "dispute_due_date":
                      deduction.dispute_due_date, "status": deduction.status},
        "invoice": None, "purchase_order": None, "shipment": None, "receiving": [],
        "cartons": [], "asn_payload": None, "asn_status": "", "invoice_pdf_url": None,
        "invoice_pdf": None, "short_units": 0,
    }
    if deduction.invoice_id:
        pack["invoice"] = {"id": deduction.invoice_id, "number": deduction.invoice_number,
                           "due_date": deduction.invoice_due_date}
        url, data = _invoice_pdf(tenant=tenant, invoice_id=deduction.invoice_id)
        pack["invoice_pdf_url"] = url
        pack["invoice_pdf"] = data if with_pdf_bytes else None
    if deduction.purchase_order_id:
        po = purchase_order_get(tenant=tenant, purchase_order_id=deduction.purchase_order_id)
        if po is not None:
            pack["purchase_order"] = {"id": po.pk, "number": po.number}
            for line in po.lines.all():
                received = line.received_quantity
                short = max(line.shipped_quantity - (received or 0), 0) if received is not None \
                    else None
                pack["receiving"].append({
                    "item": line.item_sequence_number, "asin": line.asin,
                    "ordered": line.ordered_quantity, "accepted": line.amazon_accepted_quantity,
                    "shipped": line.shipped_quantity, "received": received, "short": short,
                    "receive_status": line.receive_status})
                pack["short_units"] += short or 0
    if deduction.shipment_id:
        shipment = shipment_get(tenant=tenant, shipment_id=deduction.shipment_id)
        if shipment is not None:
            pack["shipment"] = {"id": shipment.pk, "identifier": shipment.shipment_identifier,
                                "shipped_at": shipment.shipped_at,
                                "bill_of_lading_number": shipment.bill_of_lading_number,
                                "carrier": shipment.carrier_scac}
            pack["cartons"] = [{"sequence": c.sequence_number, "sscc": c.sscc,
                                "pallet_sscc": c.pallet.sscc if c.pallet else "",
                                "tracking_number": c.tracking_number}
                               for c in shipment.cartons.all()]
            submission = shipment_submissions(tenant=tenant, shipment=shipment).first()
            if submission is not None:
                pack["asn_payload"] = submission.payload
                pack["asn_status"] = submission.status
    return pack


def reconciliation_overview(*, tenant) -> list[dict]:
    """Per (month, currency): paid, deducted, disputed, recovered; and open
    now. Never sums across currencies. Four grouped queries."""
    table: dict[tuple, dict] = defaultdict(lambda: {
        "paid": ZERO, "deducted": ZERO, "disputed": ZERO, "recovered": ZERO})
    for row in (RemittanceLine.objects.filter(tenant=tenant, kind=LineKind.INVOICE_PAYMENT)
                .annotate(month=TruncMonth("payment__payment_date"))
                .values("month", "currency").annotate(total=Sum("amount_paid"))):
        table[(row["month"], row["currency"])]["paid"] += row["total"] or ZERO
    for row in (Deduction.objects.filter(tenant=tenant).annotate(month=TruncMonth("claim_date"))
                .values("month", "currency").annotate(total=Sum("amount"))):
        table[(row["month"], row["currency"])]["deducted"] += row["total"] or ZERO
    for row in (Deduction.objects.filter(tenant=tenant, disputed_at__isnull=False)
                .annotate(month=TruncMonth("disputed_at"))
                .values("month", "currency").annotate(total=Sum("amount_disputed"))):
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        table[(month, row["currency"])]["disputed"] += row["total"] or ZERO
    for row in (Deduction.objects.filter(tenant=tenant, amount_recovered__gt=0)
                .annotate(month=TruncMonth("resolved_at"))
                .values("month", "currency").annotate(total=Sum("amount_recovered"))):
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        table[(month, row["currency"])]["recovered"] += row["total"] or ZERO
    return [{"month": month, "currency": currency, **values}
            for (month, currency), values in sorted(
                table.items(), key=lambda kv: (kv[0][0] is None, kv[0][0] or "", kv[0][1]),
                reverse=False)]


def open_deductions_totals(*, tenant) -> list[dict]:
    rows = (Deduction.objects.filter(tenant=tenant, status__in=OPEN_STATUSES)
            .values("currency").annotate(amount=Sum("amount"), recovered=Sum("amount_recovered"))
            .order_by("currency"))
    return [{"currency": r["currency"], "open": (r["amount"] or ZERO) - (r["recovered"] or ZERO)}
            for r in rows]


def deductions_by_type(*, tenant) -> list[dict]:
    """Per (type, currency): count, amount, recovered, and per month (trend)."""
    rows = (Deduction.objects.filter(tenant=tenant)
            .annotate(month=TruncMonth("claim_date"))
            .values("deduction_type", "currency", "month")
            .annotate(amount=Sum("amount"), recovered=Sum("amount_recovered"))
            .order_by("deduction_type", "currency", "month"))
    labels = dict(Deduction._meta.get_field("deduction_type").choices)
    grouped: dict[tuple, dict] = {}
    for row in rows:
        key = (row["deduction_type"], row["currency"])
        entry = grouped.setdefault(key, {"type": row["deduction_type"],
                                         "label": labels.get(row["deduction_type"]),
                                         "currency": row["currency"], "amount": ZERO,
                                         "recovered": ZERO, "months": []})
        entry["amount"] += row["amount"] or ZERO
        entry["recovered"] += row["recovered"] or ZERO
        entry["months"].append({"month": row["month"], "amount": row["amount"] or ZERO})
    return list(grouped.values())


def return_list(*, tenant, filters: dict | None = None) -> QuerySet[ReturnEvent]:
    filters = filters or {}
    queryset = ReturnEvent.objects.filter(tenant=tenant).select_related(
        "product", "warehouse", "deduction", "credit_note")
    if filters.get("updated_since"):
        queryset = queryset.filter(updated_at__gte=filters["updated_since"])
    return queryset





def deduction_overview_cards(*, tenant, today=None) -> list[dict]:
    """Home card data: open deductions, and how many dispute windows close
    within the tenant's alert lead time (words and link in
    acorn/overview.py, found through reconciliation.selectors)."""
    import datetime as dt

    from django.db.models import Count, Min, Q
    from django.utils import timezone

    today = today or timezone.localdate()
    lead = dispute_settings_read(tenant=tenant).alert_days_before
    counts = Deduction.objects.filter(tenant=tenant, status__in=OPEN_STATUSES).aggregate(
        total=Count("id"), closing=Count("id", filter=Q(
            dispute_due_date__lte=today + dt.timedelta(days=lead))),
        closest=Min("dispute_due_date"))
    if not counts["total"]:
        return []
    return [{"code": "deductions_open", "value": counts["total"],
             "params": {"closing": counts["closing"], "days": lead},
             "url_name": "reconciliation:dispute_queue",
             "tone": "warning" if counts["closing"] else "ok"}]
