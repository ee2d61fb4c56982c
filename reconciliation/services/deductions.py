"""Deductions: every amount Amazon did not pay, classified, with its clock.

Two sources:
- remittance lines of a deduction kind (shortage claim, price claim,
  chargeback, co-op, price protection, provision, RTV, and unknown
  negative lines as "unexplained"): one deduction per line;
- invoice balances (from the ledger's open items): an issued invoice past
  due with nothing paid is "unpaid past due"; an invoice paid short by
  more than its line deductions explain is "unexplained". One per
  (invoice, type), kept current as later payments arrive.
Reversal lines (SCR, provision reversal) are recoveries (disputes.py).
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from acorn.models import AuditAction
from acorn.money import quantize_money
from acorn.notifications.models import NotificationKind
from acorn.notifications.services import notification_raise
from acorn.services import audit_record
from reconciliation.deduction_models import (
    OPEN_STATUSES,
    ChargebackType,
    Deduction,
    DeductionEvent,
    DeductionStatus,
    DeductionType,
    DisputeSettings,
    MarketplaceLookback,
)
from reconciliation.models import LineKind, Match, MatchStatus, RemittanceLine

ZERO = Decimal("0")

LINE_KIND_TO_TYPE = {
    LineKind.SHORTAGE_CLAIM: DeductionType.SHORTAGE,
    LineKind.SHORTAGE_CLAIM_REVISED: DeductionType.SHORTAGE,
    LineKind.PRICE_CLAIM: DeductionType.PRICE_CLAIM_PPV,
    LineKind.CHARGEBACK: DeductionType.CHARGEBACK,
    LineKind.COOP: DeductionType.COOP,
    LineKind.PRICE_PROTECTION: DeductionType.PRICE_PROTECTION,
    LineKind.PROVISION: DeductionType.PROVISION,
    LineKind.RETURN: DeductionType.RETURN,
    LineKind.OTHER: DeductionType.UNEXPLAINED,
}
RECOVERY_KINDS = {
    LineKind.SHORTAGE_CLAIM_REVERSAL: DeductionType.SHORTAGE,
    LineKind.PROVISION_REVERSAL: DeductionType.PROVISION,
}

# Chargeback types seeded for every tenant (vendor-domain.md §4); admins add more.
DEFAULT_CHARGEBACK_TYPES = [
    ("ASN", "ASN accuracy / missing ASN", "Receive accuracy", "ASN,856"),
    ("ON_TIME", "PO on-time accuracy", "Timeliness", "ON-TIME,ON TIME,OTIF,LATE DELIVERY"),
    ("PREP", "Prep / packaging", "Prep", "PREP,PACKAG,OVERWEIGHT"),
    ("LABELS", "Carton or pallet labels", "Receive accuracy", "LABEL,SSCC"),
    ("CONFIRMATION", "PO confirmation late or changed", "Timeliness",
     "CONFIRM,ACKNOWLEDG,855"),
    ("NOT_FILLED", "Not filled", "Fill rate", "NOT FILLED,FILL RATE"),
    ("CARTON_CONTENT", "Carton-content accuracy", "Receive accuracy", "CARTON CONTENT"),
    ("OTHER", "Other chargeback", "Other", ""),
]


def months_add(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


def dispute_settings_get(*, tenant) -> DisputeSettings:
    """The tenant's settings row (created with the documented defaults)."""
    settings_row = DisputeSettings.objects.filter(tenant=tenant).first()
    if settings_row is None:
        settings_row, _ = DisputeSettings.objects.get_or_create(tenant=tenant)
    return settings_row


@transaction.atomic
def dispute_settings_update(*, tenant, data: dict, actor) -> DisputeSettings:
    from acorn.services import audit_snapshot

    settings_row = dispute_settings_get(tenant=tenant)
    before = audit_snapshot(settings_row)
    for field, value in data.items():
        setattr(settings_row, field, value)
    settings_row.full_clean()
    settings_row.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=settings_row,
                 summary="Dispute settings changed", before=before,
                 after=audit_snapshot(settings_row))
    return settings_row


def marketplace_lookbacks(*, tenant) -> dict[str, int]:
    return dict(MarketplaceLookback.objects.filter(tenant=tenant)
                .values_list("marketplace_id", "lookback_months"))


@transaction.atomic
def marketplace_lookback_set(*, tenant, marketplace_id: str, lookback_months: int | None,
                             actor=None) -> None:
    """Set a marketplace's lookback (months), or remove it (None)."""
    from django.utils.translation import gettext as _

    from acorn.exceptions import ApplicationError

    marketplace_id = marketplace_id.strip().upper()
    if not marketplace_id or len(marketplace_id) > 20:
        raise ApplicationError(_("Enter a marketplace ID."))
    if lookback_months is None:
        MarketplaceLookback.objects.filter(tenant=tenant, marketplace_id=marketplace_id).delete()
    else:
        if not 1 <= int(lookback_months) <= 120:
            raise ApplicationError(_("The lookback must be 1 to 120 months."))
        MarketplaceLookback.objects.update_or_create(
            tenant=tenant, marketplace_id=marketplace_id,
            defaults={"lookback_months": int(lookback_months)})
    audit_record(actor=actor, action=AuditAction.UPDATE, object_type="marketplace_lookback",
                 object_id=marketplace_id, summary=f"Lookback {marketplace_id}",
                 after={"lookback_months": lookback_months})


def chargeback_types_ensure(*, tenant) -> list[ChargebackType]:
    existing = {t.code: t for t in ChargebackType.objects.filter(tenant=tenant)}
    for code, name, category, keywords in DEFAULT_CHARGEBACK_TYPES:
        if code not in existing:
            existing[code], _ = ChargebackType.objects.get_or_create(
                tenant=tenant, code=code,
                defaults={"name": name, "category": category, "keywords": keywords})
    return list(existing.values())


def chargeback_type_for(types: list[ChargebackType], text: str) -> ChargebackType | None:
    """The type whose longest keyword appears in ``text`` (the most specific
    wins, so an admin's "OVERWEIGHT CARTON" beats the default "OVERWEIGHT");
    OTHER when none does."""
    text = text.upper()
    fallback, best, best_length = None, None, 0
    for chargeback_type in sorted(types, key=lambda t: t.code):
        if chargeback_type.code == "OTHER":
            fallback = chargeback_type
        for word in (w.strip() for w in chargeback_type.keywords.split(",")):
            if word and word in text and len(word) > best_length:
                best, best_length = chargeback_type, len(word)
    return best or fallback


def dispute_window(*, settings_row: DisputeSettings, deduction_type: str, claim_date: dt.date,
                   invoice_due_date: dt.date | None, lookback_months: int | None = None,
                   ) -> tuple[dt.date | None, dt.date, dt.date]:
    """(opens on, due date, lookback until) for one deduction.

    Shortages count from the invoice due date (vendor-domain.md §2:
    "0-30 days after invoice due date"); every other type from its claim
    date. The due date never passes the lookback cut-off."""
    lookback_until = months_add(claim_date, lookback_months if lookback_months is not None
                                else settings_row.lookback_months)
    if deduction_type == DeductionType.SHORTAGE and invoice_due_date is not None:
        opens = invoice_due_date + dt.timedelta(days=settings_row.shortage_wait_days)
        due = invoice_due_date + dt.timedelta(days=settings_row.shortage_window_days)
        due = max(due, opens)
    else:
        opens = claim_date
        days = {
            DeductionType.SHORTAGE: settings_row.shortage_window_days,
            DeductionType.PRICE_CLAIM_PPV: settings_row.price_claim_window_days,
            DeductionType.QUANTITY_CLAIM_PQV: settings_row.price_claim_window_days,
            DeductionType.CHARGEBACK: settings_row.chargeback_window_days,
            DeductionType.COOP: settings_row.coop_window_days,
            DeductionType.PRICE_PROTECTION: settings_row.coop_window_days,
        }.get(deduction_type, settings_row.other_window_days)
        due = claim_date + dt.timedelta(days=days)
    return opens, min(due, lookback_until), lookback_until


def _invoices_by_id(*, tenant, ids) -> dict[int, dict]:
    from invoicing.models import Invoice

    ids = [i for i in set(ids) if i]
    if not ids:
        return {}
    rows = Invoice.objects.filter(tenant=tenant, pk__in=ids).values(
        "id", "number", "purchase_order_id", "purchase_order_number", "shipment_id",
        "payment_due_date", "issue_date", "marketplace_id")
    return {row["id"]: row for row in rows}


def _invoice_ids_by_number(*, tenant, numbers) -> dict[str, int]:
    from invoicing.selectors import invoice_list_for_matching

    numbers = [n for n in set(numbers) if n]
    if not numbers:
        return {}
    return {inv.number: inv.id
            for inv in invoice_list_for_matching(tenant=tenant, numbers=numbers)
            if inv.kind == "invoice"}


def _invoice_due(invoice: dict | None, settings_row: DisputeSettings) -> dt.date | None:
    if invoice is None:
        return None
    if invoice["payment_due_date"]:
        return invoice["payment_due_date"]
    if invoice["issue_date"]:
        return invoice["issue_date"] + dt.timedelta(days=settings_row.default_payment_days)
    return None


def _price_claim_type(line: RemittanceLine) -> str:
    text = f"{line.invoice_number_raw} {line.description} {line.type_code}".upper()
    if "PQV" in text or "QUANTITY" in text:
        return DeductionType.QUANTITY_CLAIM_PQV
    return DeductionType.PRICE_CLAIM_PPV


def deduction_url(deduction: Deduction, tenant) -> str:
    return reverse("reconciliation:deduction_detail",
                   kwargs={"tenant_slug": tenant.slug, "deduction_id": deduction.pk})


def _alert_new(*, tenant, deduction: Deduction, settings_row: DisputeSettings) -> None:
    params = {"type": deduction.get_deduction_type_display(), "reference": deduction.reference,
              "amount": str(deduction.amount), "currency": deduction.currency}
    if deduction.deduction_type == DeductionType.UNEXPLAINED:
        notification_raise(tenant=tenant, kind=NotificationKind.UNEXPLAINED,
                           subject_type="deduction", subject_id=deduction.pk,
                           url=deduction_url(deduction, tenant), params=params)
    if deduction.amount >= settings_row.alert_threshold:
        notification_raise(tenant=tenant, kind=NotificationKind.DEDUCTION_NEW,
                           subject_type="deduction", subject_id=deduction.pk,
                           url=deduction_url(deduction, tenant), params=params)


@transaction.atomic
def deductions_from_remittances(*, tenant, payment_ids=None, today: dt.date | None = None
                                ) -> dict[str, int]:
    """Classify every deduction line not yet classified (of the payments
    given, or all), match reversal lines to their deductions, then bring
    invoice-balance deductions up to date. Safe to run again: a line is
    classified once (one-to-one), a recovery applied once."""
    from reconciliation.services.disputes import recoveries_match

    today = today or timezone.localdate()
    settings_row = dispute_settings_get(tenant=tenant)
    types = chargeback_types_ensure(tenant=tenant)
    lines = (RemittanceLine.objects.filter(tenant=tenant, kind__in=list(LINE_KIND_TO_TYPE),
                                           amount_paid__lt=0)
             .filter(~Exists(Deduction.objects.filter(remittance_line=OuterRef("pk"))))
             .select_related("payment").order_by("payment_id", "line_number"))
    if payment_ids is not None:
        lines = lines.filter(payment_id__in=list(payment_ids))
    lines = list(lines)
    lookbacks = marketplace_lookbacks(tenant=tenant)
    live = dict(Match.objects.filter(tenant=tenant, line__in=lines).exclude(
        status=MatchStatus.REJECTED).values_list("line_id", "invoice_id"))
    by_number = _invoice_ids_by_number(
        tenant=tenant, numbers=[ln.base_invoice_number for ln in lines if ln.pk not in live])
    invoice_of_line = {ln.pk: live.get(ln.pk) or by_number.get(ln.base_invoice_number)
                       for ln in lines}
    invoices = _invoices_by_id(tenant=tenant, ids=invoice_of_line.values())
    created = []
    for line in lines:
        deduction_type = LINE_KIND_TO_TYPE[line.kind]
        if line.kind == LineKind.PRICE_CLAIM:
            deduction_type = _price_claim_type(line)
        invoice = invoices.get(invoice_of_line[line.pk])
        claim_date = line.payment.payment_date or line.invoice_date or today
        due_base = _invoice_due(invoice, settings_row)
        marketplace = line.payment.marketplace_id or (invoice or {}).get("marketplace_id", "")
        opens, due, lookback = dispute_window(
            settings_row=settings_row, deduction_type=deduction_type, claim_date=claim_date,
            invoice_due_date=due_base, lookback_months=lookbacks.get(marketplace))
        deduction = Deduction(
            tenant=tenant, deduction_type=deduction_type, remittance_line=line,
            reference=line.invoice_number_raw[:120],
            chargeback_type=(chargeback_type_for(
                types, f"{line.description} {line.type_code} {line.invoice_number_raw}")
                if deduction_type == DeductionType.CHARGEBACK else None),
            invoice_id=invoice["id"] if invoice else None,
            invoice_number=(invoice["number"] if invoice else line.base_invoice_number)[:120],
            purchase_order_id=invoice["purchase_order_id"] if invoice else None,
            purchase_order_number=(line.purchase_order_number
                                   or (invoice["purchase_order_number"] if invoice else ""))[:40],
            shipment_id=invoice["shipment_id"] if invoice else None,
            currency=line.currency, amount=-line.amount_paid, claim_date=claim_date,
            invoice_due_date=due_base, dispute_opens_on=opens, dispute_due_date=due,
            lookback_until=lookback,
        )
        deduction.save()
        created.append(deduction)
    DeductionEvent.objects.bulk_create([
        DeductionEvent(tenant=tenant, deduction=d, to_status=DeductionStatus.NEW,
                       note="classified from remittance") for d in created])
    for deduction in created:
        _alert_new(tenant=tenant, deduction=deduction, settings_row=settings_row)
    if created:
        audit_record(actor=None, action=AuditAction.CREATE, object_type="reconciliation.Deduction",
                     summary=f"{len(created)} deductions classified from remittances")
    recovered = recoveries_match(tenant=tenant, payment_ids=payment_ids)
    balances = deductions_from_balances(tenant=tenant, today=today)
    return {"created": len(created), "recoveries": recovered, **balances}


def deductions_from_balances(*, tenant, today: dt.date | None = None) -> dict[str, int]:
    """Unpaid past due and unexplained short payments, from the ledger's
    open items; an existing one follows its invoice's balance."""
    from reconciliation.selectors import open_items

    today = today or timezone.localdate()
    settings_row = dispute_settings_get(tenant=tenant)
    items = [i for i in open_items(tenant=tenant, as_of=today, include_settled=True)
             if i.kind == "invoice"]
    explained: dict[int, Decimal] = {}
    for invoice_id, amount, recovered in Deduction.objects.filter(
            tenant=tenant, remittance_line__isnull=False, invoice__isnull=False).values_list(
            "invoice_id", "amount", "amount_recovered"):
        explained[invoice_id] = explained.get(invoice_id, ZERO) + amount - recovered
    existing = {(d.invoice_id, d.deduction_type): d for d in Deduction.objects.filter(
        tenant=tenant, remittance_line__isnull=True,
        deduction_type__in=[DeductionType.UNPAID_PAST_DUE, DeductionType.UNEXPLAINED])}
    invoices = _invoices_by_id(tenant=tenant, ids=[i.invoice_id for i in items])
    lookbacks = marketplace_lookbacks(tenant=tenant)
    counts = {"balance_created": 0, "balance_updated": 0}
    for item in items:
        due = item.due_date or (item.issue_date + dt.timedelta(
            days=settings_row.default_payment_days) if item.issue_date else None)
        paid_something = item.paid != 0 or item.deducted != 0
        if paid_something:
            wanted_type = DeductionType.UNEXPLAINED
            open_amount = quantize_money(item.balance - explained.get(item.invoice_id, ZERO),
                                         item.currency)
        elif due is not None and due < today:
            wanted_type = DeductionType.UNPAID_PAST_DUE
            open_amount = item.balance
        else:
            wanted_type, open_amount = None, ZERO
        for deduction_type in (DeductionType.UNPAID_PAST_DUE, DeductionType.UNEXPLAINED):
            current = existing.get((item.invoice_id, deduction_type))
            if current is not None and current.is_open and (
                    deduction_type != wanted_type or open_amount <= 0):
                # Paid since (or now explained by a claim line): settled.
                _balance_close(current)
                counts["balance_updated"] += 1
        if wanted_type is None or open_amount <= 0:
            continue
        current = existing.get((item.invoice_id, wanted_type))
        if current is not None:
            if current.is_open and current.amount != open_amount:
                current.amount = open_amount
                current.save(update_fields=["amount", "updated_at"])
                counts["balance_updated"] += 1
            continue
        invoice = invoices.get(item.invoice_id) or {}
        claim_date = today if wanted_type == DeductionType.UNEXPLAINED else due
        opens, dispute_due, lookback = dispute_window(
            settings_row=settings_row, deduction_type=wanted_type, claim_date=claim_date,
            invoice_due_date=due,
            lookback_months=lookbacks.get(invoice.get("marketplace_id") or ""))
        deduction = Deduction.objects.create(
            tenant=tenant, deduction_type=wanted_type, reference=item.number,
            invoice_id=item.invoice_id, invoice_number=item.number,
            purchase_order_id=invoice.get("purchase_order_id"),
            purchase_order_number=invoice.get("purchase_order_number", "") or "",
            shipment_id=invoice.get("shipment_id"), currency=item.currency,
            amount=open_amount, claim_date=claim_date, invoice_due_date=due,
            dispute_opens_on=opens, dispute_due_date=dispute_due, lookback_until=lookback)
        DeductionEvent.objects.create(tenant=tenant, deduction=deduction,
                                      to_status=DeductionStatus.NEW, note="from invoice balance")
        _alert_new(tenant=tenant, deduction=deduction, settings_row=settings_row)
        counts["balance_created"] += 1
    return counts


def _balance_close(deduction: Deduction) -> None:
    before = deduction.status
    deduction.amount_recovered = deduction.amount
    deduction.status = DeductionStatus.WON
    deduction.resolved_at = timezone.now()
    deduction.save(update_fields=["amount_recovered", "status", "resolved_at", "updated_at"])
    DeductionEvent.objects.create(
        tenant=deduction.tenant, deduction=deduction, from_status=before,
        to_status=DeductionStatus.WON, amount_recovered=deduction.amount,
        note="invoice balance settled by a later remittance")


def dispute_windows_alert(*, tenant, today: dt.date | None = None) -> int:
    """Alert for every open deduction whose window closes within the
    tenant's lead time (once per deduction)."""
    today = today or timezone.localdate()
    settings_row = dispute_settings_get(tenant=tenant)
    horizon = today + dt.timedelta(days=settings_row.alert_days_before)
    raised = 0
    for deduction in Deduction.objects.filter(
            tenant=tenant, status__in=OPEN_STATUSES, dispute_due_date__lte=horizon,
            dispute_due_date__gte=today).filter(~Q(deduction_type=DeductionType.UNPAID_PAST_DUE)):
        _, created = notification_raise(
            tenant=tenant, kind=NotificationKind.WINDOW_CLOSING, subject_type="deduction",
            subject_id=deduction.pk, url=deduction_url(deduction, tenant),
            params={"reference": deduction.reference, "due": deduction.dispute_due_date.isoformat(),
                    "amount": str(deduction.amount_open), "currency": deduction.currency})
        raised += created
    return raised


def stuck_submissions_alert(*, tenant) -> int:
    """Alert for channels' submissions that are stale, of unknown outcome or failed."""
    from channels.models import SubmissionStatus
    from channels.selectors.submissions import submission_list

    raised = 0
    for status in (SubmissionStatus.STALE, SubmissionStatus.OUTCOME_UNKNOWN,
                   SubmissionStatus.FAILURE):
        for submission in submission_list(tenant=tenant, filters={"status": status})[:500]:
            url = reverse("channels:submission_detail",
                          kwargs={"tenant_slug": tenant.slug, "submission_id": submission.pk})
            _, created = notification_raise(
                tenant=tenant, kind=NotificationKind.SUBMISSION_STUCK,
                subject_type=f"submission:{status}", subject_id=submission.pk, url=url,
                params={"reference": f"{submission.document_type} {submission.document_ref}",
                        "status": submission.get_status_display()})
            raised += created
    return raised


def deductions_sweep(*, tenant) -> dict[str, int]:
    """The periodic pass: classify, recover, keep balances current, match
    returns to their deductions, alert on stuck submissions."""
    from reconciliation.services.returns import returns_match_pending

    result = deductions_from_remittances(tenant=tenant)
    result["returns_matched"] = returns_match_pending(tenant=tenant)
    result["stuck_alerts"] = stuck_submissions_alert(tenant=tenant)
    return result


@transaction.atomic
def chargeback_type_save(*, tenant, code: str, name: str, category: str = "",
                         keywords: str = "", actor=None) -> ChargebackType:
    """Add a chargeback type, or rename / re-keyword one (by code)."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from acorn.exceptions import ApplicationError

    code = code.strip().upper()
    if not code or not name.strip():
        raise ApplicationError(_("A chargeback type needs a code and a name."))
    chargeback_type, created = ChargebackType.objects.update_or_create(
        tenant=tenant, code=code[:40],
        defaults={"name": name.strip()[:120], "category": category.strip()[:60],
                  "keywords": keywords.strip().upper()[:300]})
    try:
        chargeback_type.full_clean()
    except ValidationError as exc:
        raise ApplicationError("; ".join(exc.messages)) from None
    audit_record(actor=actor, action=AuditAction.CREATE if created else AuditAction.UPDATE,
                 instance=chargeback_type, summary=f"Chargeback type {code}",
                 after={"name": chargeback_type.name, "keywords": chargeback_type.keywords})
    return chargeback_type
