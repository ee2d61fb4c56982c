"""Reads of the invoicing app."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Upper

from invoicing.models import (
    DocumentKind,
    Invoice,
    InvoiceAllowanceCharge,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTaxLine,
    LegalEntity,
    NumberSeries,
    TaxProfile,
    TaxRegistration,
)


def legal_entity_get(*, tenant) -> LegalEntity | None:
    return LegalEntity.objects.filter(tenant=tenant).first()


def tax_registration_list(*, tenant) -> QuerySet[TaxRegistration]:
    return TaxRegistration.objects.filter(tenant=tenant).order_by(
        "scheme", "country_code", "state", "id"
    )


def setup_status(*, tenant) -> dict[str, bool]:
    """Done-or-not of the invoicing step: a legal entity with a tax number."""
    return {
        "legal_entity": LegalEntity.objects.filter(tenant=tenant).exists()
        and TaxRegistration.objects.filter(tenant=tenant).exists(),
    }


# --- Invoices and credit notes ----------------------------------------------

def invoice_list(*, tenant, filters: dict | None = None,
                 kind: str = DocumentKind.INVOICE) -> QuerySet[Invoice]:
    """Invoices (or credit notes) with lines, tax lines and the original
    prefetched: list pages and the API, a fixed number of queries.

    Filters: status, purchase_order_number, number (contains), issued_from /
    issued_to (dates), account, credit_reason, original_invoice,
    updated_since (BI incremental loads)."""
    filters = filters or {}
    queryset = Invoice.objects.filter(tenant=tenant, kind=kind)
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("purchase_order_number"):
        queryset = queryset.filter(purchase_order_number=filters["purchase_order_number"])
    if filters.get("number"):
        queryset = queryset.filter(number__icontains=filters["number"])
    if filters.get("issued_from"):
        queryset = queryset.filter(issue_date__gte=filters["issued_from"])
    if filters.get("issued_to"):
        queryset = queryset.filter(issue_date__lte=filters["issued_to"])
    if filters.get("account"):
        queryset = queryset.filter(account_id=filters["account"])
    if filters.get("credit_reason"):
        queryset = queryset.filter(credit_reason=filters["credit_reason"])
    if filters.get("original_invoice"):
        queryset = queryset.filter(original_invoice_id=filters["original_invoice"])
    if filters.get("updated_since"):
        queryset = queryset.filter(updated_at__gte=filters["updated_since"])
    return queryset.select_related("account", "original_invoice", "series").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.select_related("credited_line")
                 .order_by("line_number", "id")),
        Prefetch("tax_lines", queryset=InvoiceTaxLine.objects.order_by("category", "rate", "id")),
        Prefetch("allowance_charges",
                 queryset=InvoiceAllowanceCharge.objects.order_by("id")),
    ).order_by("-created_at", "-id")


def invoice_get(*, tenant, invoice_id: int) -> Invoice | None:
    """One invoice or credit note with everything its page shows."""
    credit_notes = Invoice.objects.filter(kind=DocumentKind.CREDIT_NOTE).order_by(
        "created_at", "id")
    return (
        Invoice.objects.filter(tenant=tenant, pk=invoice_id)
        .select_related("account", "original_invoice", "series", "tax_profile", "shipment",
                        "purchase_order")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.select_related(
                "credited_line").order_by("line_number", "id")),
            Prefetch("tax_lines",
                     queryset=InvoiceTaxLine.objects.order_by("category", "rate", "id")),
            Prefetch("allowance_charges",
                     queryset=InvoiceAllowanceCharge.objects.order_by("id")),
            Prefetch("credit_notes", queryset=credit_notes),
        ).first()
    )


def uninvoiced_shipped_purchase_orders(*, tenant, account_id: int | None = None) -> list[dict]:
    """Shipped (shipment, PO) pairs without a live invoice: the bulk page.
    Two queries: channels' aggregate and the invoiced pairs."""
    from channels.selectors.invoicing import shipped_purchase_orders

    rows = shipped_purchase_orders(tenant=tenant, account_id=account_id)
    invoiced = set(
        Invoice.objects.filter(tenant=tenant, kind=DocumentKind.INVOICE,
                               shipment_id__isnull=False)
        .exclude(status=InvoiceStatus.CANCELLED)
        .values_list("shipment_id", "purchase_order_id")
    )
    return [row for row in rows
            if (row["shipment_id"], row["po_line__purchase_order_id"]) not in invoiced]


def invoices_of_shipment(*, tenant, shipment_id: int) -> QuerySet[Invoice]:
    return Invoice.objects.filter(tenant=tenant, kind=DocumentKind.INVOICE,
                                  shipment_id=shipment_id).order_by("purchase_order_number", "id")


def tax_profile_list(*, tenant) -> QuerySet[TaxProfile]:
    return TaxProfile.objects.filter(tenant=tenant).order_by(
        "marketplace_id", "ship_to_country", "name", "id")


def tax_profile_get(*, tenant, profile_id: int) -> TaxProfile | None:
    return TaxProfile.objects.filter(tenant=tenant, pk=profile_id).first()


def number_series_list(*, tenant) -> QuerySet[NumberSeries]:
    return NumberSeries.objects.filter(tenant=tenant).order_by("kind", "code", "id")


def number_series_get(*, tenant, series_id: int) -> NumberSeries | None:
    return NumberSeries.objects.filter(tenant=tenant, pk=series_id).first()


def overview_cards(*, tenant) -> list[dict]:
    """Home card data: drafts waiting, and how many the pre-send check
    blocks (words and link in acorn/overview.py)."""
    counts = Invoice.objects.filter(tenant=tenant, status=InvoiceStatus.DRAFT).aggregate(
        total=Count("id"),
        blocked=Count("id", filter=Q(check_results__contains=[{"level": "block"}])),
    )
    if not counts["total"]:
        return []
    return [{"code": "invoices_draft", "value": counts["total"],
             "params": {"blocked": counts["blocked"]},
             "url_name": "invoicing:invoice_list", "query": "status=draft",
             "tone": "warning" if counts["blocked"] else "ok"}]


# --- Reads for reconciliation (floor 3): plain data, no model instances. ---

class InvoiceForMatching(NamedTuple):
    id: int
    kind: str
    number: str
    purchase_order_number: str
    currency: str
    amount_due: Decimal
    issue_date: datetime.date | None
    payment_due_date: datetime.date | None
    account_id: int


_MATCHING_FIELDS = (
    "id", "kind", "number", "purchase_order_number", "currency", "amount_due",
    "issue_date", "payment_due_date", "account_id",
)
# Beyond this many numbers one read of all issued documents beats a huge
# IN list (PostgreSQL's 65,535 bind parameters bound it too).
_NUMBERS_IN_LIMIT = 5000


def invoice_list_for_matching(
    *, tenant, numbers=None, purchase_order_numbers=None, ids=None,
) -> list[InvoiceForMatching]:
    """Issued invoices and credit notes of ``tenant`` as plain tuples, for
    reconciliation's matching and open items. ``numbers`` (any case),
    ``purchase_order_numbers`` and ``ids`` narrow the read (a document
    matching any of them); none given reads every issued document. Long
    lists read every issued document instead: callers filter what they
    got, so this returns at least what was asked."""
    queryset = Invoice.objects.filter(tenant=tenant, status=InvoiceStatus.ISSUED)
    numbers = list(numbers) if numbers is not None else None
    pos = list(purchase_order_numbers) if purchase_order_numbers is not None else None
    ids = list(ids) if ids is not None else None
    narrowing = [x for x in (numbers, pos, ids) if x is not None]
    if narrowing and sum(len(x) for x in narrowing) <= _NUMBERS_IN_LIMIT:
        condition = Q(pk__in=[])
        if numbers:
            # Remittances write numbers in any case; issued numbers are
            # unique per tenant whatever the case in practice.
            queryset = queryset.annotate(number_upper=Upper("number"))
            condition |= Q(number_upper__in=[n.upper() for n in numbers])
        if pos:
            condition |= Q(purchase_order_number__in=pos)
        if ids:
            condition |= Q(pk__in=ids)
        queryset = queryset.filter(condition)
    rows = queryset.order_by("id").values_list(*_MATCHING_FIELDS)
    # No .iterator(): a server-side cursor opening a transaction would run
    # before the tenant setting is made (RLS would show nothing).
    return [InvoiceForMatching(*row) for row in rows]
def invoice_submission_status(*, tenant, invoice_ids) -> dict[int, dict]:
    """Submission status of each invoice, as plain data (two queries).

    ``{invoice_id: {"state", "label", "submission_id", "transaction_id",
    "errors", "detail", "can_retry", "updated_at"}}``; ``state`` is a
    channels SubmissionStatus value, or "draft", "not_submitted" or
    "recorded_not_submitted" (credit notes where Amazon documents no API
    route). For the invoice pages, the API serializer and bulk actions.
    """
    from django.utils.translation import gettext as _

    from channels.models import DocumentType, Submission, SubmissionStatus
    from invoicing.document import Party
    from invoicing.models import DocumentKind, Invoice, InvoiceStatus
    from invoicing.services.submission import (
        RECORDED_NOT_SUBMITTED,
        SUBMISSION_VERSION,
        SubmissionState,
        credit_note_country,
    )

    rows = list(
        Invoice.objects.filter(tenant=tenant, pk__in=list(invoice_ids)).values(
            "pk", "kind", "status", "number", "account_id", "marketplace_id", "buyer", "seller")
    )
    numbers = [row["number"] for row in rows if row["number"]]
    submissions = {
        (s.account_id, s.document_ref): s
        for s in Submission.objects.filter(
            tenant=tenant, document_type=DocumentType.INVOICE, document_ref__in=numbers,
            document_version=SUBMISSION_VERSION,
        ).only("pk", "account_id", "document_ref", "status", "transaction_id", "errors",
               "status_detail", "updated_at")
    }
    retryable = {SubmissionStatus.SENDING, SubmissionStatus.OUTCOME_UNKNOWN,
                 SubmissionStatus.STALE}
    labels = dict(SubmissionStatus.choices)
    result: dict[int, dict] = {}
    for row in rows:
        entry = {"state": SubmissionState.NOT_SUBMITTED, "label": _("Not submitted"),
                 "submission_id": None, "transaction_id": "", "errors": [], "detail": "",
                 "can_retry": False, "updated_at": None}
        submission = submissions.get((row["account_id"], row["number"]))
        if row["status"] == InvoiceStatus.DRAFT:
            entry.update(state=SubmissionState.DRAFT, label=_("Draft: not sent"))
        elif submission is not None:
            entry.update(
                state=submission.status, label=str(labels.get(submission.status)),
                submission_id=submission.pk, transaction_id=submission.transaction_id,
                errors=list(submission.errors or []), detail=submission.status_detail,
                can_retry=submission.status in retryable, updated_at=submission.updated_at,
            )
        elif row["kind"] == DocumentKind.CREDIT_NOTE:
            country = credit_note_country(
                marketplace_id=row["marketplace_id"], buyer=Party.from_dict(row["buyer"]),
                seller=Party.from_dict(row["seller"]))
            if country is not None:
                message = _(RECORDED_NOT_SUBMITTED) % {"country": country}
                entry.update(state=SubmissionState.RECORDED_NOT_SUBMITTED, label=message,
                             detail=message)
        result[row["pk"]] = entry
    return result
