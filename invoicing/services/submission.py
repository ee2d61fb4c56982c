"""Invoices and credit notes to Amazon: submitInvoices, exactly once.

The payload is built from the record's ``Document`` (invoicing/document.py),
the same neutral form the CII XML and the PDF are made from, never from
the models directly, so the three cannot disagree. Before anything leaves
it is checked against Amazon's model (the repository's contracts) and
Amazon's documented business rules (vendor_api.operations.invoices).

Sending goes through channels' submission machinery: one ``Submission``
per (account, invoice number, version) is a database fact, so a double
click, a bulk run overlapping a single submit or a retried task never
sends an invoice twice. Issued documents never change (a correction is a
credit note), so every invoice has one version: SUBMISSION_VERSION.

Amazon has no invoice read API (spapi-vendor.md §4: no GET), so an invoice
whose POST answer was lost cannot be looked up: it is never resent
automatically; it stays "outcome unknown" on the work queue for ops (see
channels/services/submissions.py). Duplicate invoice numbers are refused
by Amazon anyway.

Credit notes go through the API only where Amazon documents that route
(CREDIT_NOTE_API_COUNTRIES); elsewhere (the US among them) they are
recorded without submission and shown as such: Amazon settles those
credits through deductions.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from acorn.exceptions import ApplicationError, ConflictError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record
from acorn.tenancy import tenant_scope
from channels.models import DocumentType, Submission
from channels.services.submissions import submission_create
from invoicing.document import Document, document_from_invoice
from invoicing.document import Party as DocumentParty
from invoicing.models import CreditReason, DocumentKind, Invoice, InvoiceStatus, TaxScheme
from invoicing.services.totals import amount_round
from vendor_api import contracts
from vendor_api.endpoints import UnknownMarketplace, marketplace_get
from vendor_api.operations.invoices import (
    ChargeOrAllowance,
    CreditNoteDetails,
    InvoiceItem,
    InvoiceType,
    PaymentTerms,
    TaxDetail,
    submit_invoices_body,
    submit_invoices_problems,
)
from vendor_api.operations.invoices import Invoice as AmazonInvoice
from vendor_api.types import Address, ItemQuantity, Money, Party, TaxRegistration

# Issued documents are immutable: one version each (see the module doc).
SUBMISSION_VERSION = 1

# Where Amazon documents credit notes through submitInvoices ("Submit
# credit notes"; spapi-vendor.md §4, invoicing.md §4). Not listed: US, CA,
# MX, JP, AU; not supported: AE, TR.
CREDIT_NOTE_API_COUNTRIES = frozenset({
    "ES", "IN", "IE", "ZA", "BE", "FR", "EG", "PL", "NL", "GB", "DE", "SE", "SA", "IT",
})

# Amazon's TaxDetails.taxType by marketplace country (VAT elsewhere).
TAX_TYPE_BY_COUNTRY = {"US": "ST", "CA": "GST", "AU": "GST", "IN": "GST", "JP": "Consumption",
                       "DE": "VAT", "FR": "VAT"}
# EN 16931 reason codes -> Amazon's chargeDetails / allowanceDetails types.
CHARGE_TYPES = {"FC": "Freight", "PC": "Packing", "ABW": "Duty", "SH": "SpecialHandlingService",
                "IN": "InsuranceFee", "SAA": "Service"}
ALLOWANCE_TYPES = {"95": "Discount", "100": "Special", "64": "Special", "65": "Defective",
                   "66": "Promotional", "68": "UnsaleableMerchandise", "41": "DiscountIncentive",
                   "42": "DiscountIncentive"}
VAT_SCHEMES = {TaxScheme.EU_VAT, TaxScheme.UK_VAT}

NOT_FOUND = gettext_noop("No such invoice.")
IS_DRAFT = gettext_noop("A draft is not sent to Amazon: issue it first.")
IS_CANCELLED = gettext_noop("%(number)s is cancelled; it is not sent to Amazon.")
CHECK_BLOCKS = gettext_noop(
    "%(number)s is not sent: the pre-send check blocks it (%(reasons)s). Correct the cause "
    "(a credit note or a new invoice) and check again."
)
BLOCK_ON_LINE = gettext_noop("line %(line)s: %(message)s")
PAYLOAD_REFUSED = gettext_noop("%(number)s is not sent: Amazon would refuse it: %(problems)s")
CREDIT_REFERENCES_MISSING = gettext_noop(
    "Credit note %(number)s (%(reason)s) needs %(missing)s before it is sent."
)
NO_REMIT_TO = gettext_noop(
    "%(number)s has no remit-to party id: set the vendor code on the Amazon account."
)
RECORDED_NOT_SUBMITTED = gettext_noop(
    "Recorded, not submitted: Amazon handles %(country)s credits through deductions."
)


class SubmissionState:
    """What the invoice list and detail show about submission (besides the
    channels Submission statuses: queued, sending, sent, processing, ...)."""

    DRAFT = "draft"
    NOT_SUBMITTED = "not_submitted"
    RECORDED_NOT_SUBMITTED = "recorded_not_submitted"
    REFUSED = "refused"  # bulk submit only: refused before sending, with the reason


@dataclass(frozen=True)
class SubmitOutcome:
    invoice_id: int
    number: str
    state: str  # a SubmissionState value or a channels SubmissionStatus value
    submission_id: int | None = None
    created: bool = False
    message: str = ""


# --- the payload, from the Document only ---------------------------------------------


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount_round(amount, currency), currency_code=currency)


def _party(party: DocumentParty, *, party_id: str = "") -> Party | None:
    party_id = party.party_id or party_id
    if not party_id:
        return None
    address = None
    if party.name and party.address.line1 and party.address.country_code:
        address = Address(
            name=party.name, address_line1=party.address.line1,
            address_line2=party.address.line2 or None, city=party.address.city or None,
            state_or_region=party.address.region or None,
            postal_code=party.address.postal_code or None,
            country_code=party.address.country_code,
        )
    registrations = tuple(
        TaxRegistration(registration_type="VAT", number=tax.number)
        for tax in party.tax_numbers if tax.scheme in VAT_SCHEMES
    )
    return Party(party_id=party_id, address=address, tax_registrations=registrations)


def _as_datetime(value) -> datetime.datetime | None:
    if not value:
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value[:10])
    return datetime.datetime.combine(value, datetime.time(0), tzinfo=datetime.UTC)


def _reference(references: dict, camel: str, snake: str) -> str:
    return str(references.get(camel) or references.get(snake) or "")


def credit_note_details(document: Document) -> CreditNoteDetails:
    """Amazon's creditNoteDetails of a credit note, by its reason."""
    refs = document.credit_references or {}
    reason = document.credit_reason
    common = {
        "debit_note_number": _reference(refs, "debitNoteNumber", "debit_note_number") or None,
        # The linked original invoice wins (the XML's BT-25 says the same);
        # a typed reference serves credits of invoices issued outside ACORN.
        "reference_invoice_number": document.original_invoice_number or _reference(
            refs, "referenceInvoiceNumber", "reference_invoice_number") or None,
    }
    if reason in (CreditReason.PRICE, CreditReason.QUANTITY):
        return CreditNoteDetails(**common)
    if reason == CreditReason.RETURN:
        return CreditNoteDetails(
            returns_reference_number=_reference(
                refs, "returnsReferenceNumber", "returns_reference_number") or None,
            goods_return_date=_as_datetime(
                refs.get("goodsReturnDate") or refs.get("goods_return_date")),
            rma_id=_reference(refs, "rmaId", "rma_id") or None,
            consignors_reference_number=_reference(
                refs, "consignorsReferenceNumber", "consignors_reference_number") or None,
            **common,
        )
    if reason == CreditReason.COOP:
        return CreditNoteDetails(
            coop_reference_number=_reference(
                refs, "coopReferenceNumber", "coop_reference_number") or None,
            **common,
        )
    return CreditNoteDetails(**common)


def credit_note_missing_references(document: Document) -> list[str]:
    """The references Amazon requires for this credit note's kind, missing."""
    details = credit_note_details(document)
    reason = document.credit_reason
    if reason in (CreditReason.PRICE, CreditReason.QUANTITY):
        return [] if details.reference_invoice_number else ["referenceInvoiceNumber"]
    if reason == CreditReason.RETURN:
        return [name for name, value in (
            ("returnsReferenceNumber", details.returns_reference_number),
            ("goodsReturnDate", details.goods_return_date),
        ) if not value]
    if reason == CreditReason.COOP:
        if details.coop_reference_number or details.debit_note_number:
            return []
        return ["coopReferenceNumber or debitNoteNumber"]
    return ["a credit reason"]


def _marketplace_country(*, marketplace_id: str, buyer: DocumentParty,
                         seller: DocumentParty) -> str:
    try:
        return marketplace_get(marketplace_id=marketplace_id).country_code
    except UnknownMarketplace:
        return buyer.address.country_code or seller.address.country_code


def _country(document: Document) -> str:
    return _marketplace_country(marketplace_id=document.marketplace_id, buyer=document.buyer,
                                seller=document.seller)


def credit_note_country(*, marketplace_id: str, buyer: DocumentParty,
                        seller: DocumentParty) -> str | None:
    """The marketplace country when Amazon documents no credit-note API
    route there (the credit note is recorded, not submitted), else None."""
    country = _marketplace_country(marketplace_id=marketplace_id, buyer=buyer, seller=seller)
    return None if country in CREDIT_NOTE_API_COUNTRIES else country


def _item_sequence(line) -> int:
    raw = (line.item_sequence_number or "").strip()
    return int(raw) if raw.isdigit() else line.line_number


def invoice_payload_build(*, document: Document, remit_to_party_id: str = "") -> dict:
    """The submitInvoices body of one document (``{"invoices": [...]}``).

    ``remit_to_party_id``: the vendor code (selling party) when the seller
    snapshot carries none.
    """
    currency = document.currency
    is_credit = document.kind == DocumentKind.CREDIT_NOTE
    tax_type = TAX_TYPE_BY_COUNTRY.get(_country(document), "VAT")
    details = credit_note_details(document) if is_credit else None
    items = tuple(
        InvoiceItem(
            item_sequence_number=_item_sequence(line),
            invoiced_quantity=ItemQuantity(
                amount=line.quantity, unit_of_measure=line.unit_of_measure,
                unit_size=line.unit_size,
            ),
            net_cost=Money(amount=line.net_unit_cost.normalize(), currency_code=currency),
            purchase_order_number=line.purchase_order_number or None,
            amazon_product_identifier=line.asin or None,
            vendor_product_identifier=line.vendor_sku or None,
            credit_note_details=details,
        )
        for line in document.lines
    )
    payment_terms = None
    if document.payment_due_date and document.issue_date:
        payment_terms = PaymentTerms(
            terms_type="Basic",
            net_due_days=max(0, (document.payment_due_date - document.issue_date).days),
        )
    remit_to = _party(document.seller, party_id=remit_to_party_id)
    invoice = AmazonInvoice(
        invoice_type=InvoiceType.CREDIT_NOTE if is_credit else InvoiceType.INVOICE,
        invoice_id=document.number,
        date=_as_datetime(document.issue_date),
        remit_to_party=remit_to or Party(party_id=""),
        invoice_total=_money(document.tax_inclusive_total, currency),
        items=items,
        bill_to_party=_party(document.buyer),
        ship_to_party=_party(document.ship_to),
        payment_terms=payment_terms,
        tax_details=tuple(
            TaxDetail(
                tax_type=tax_type, tax_rate=subtotal.rate.normalize(),
                tax_amount=_money(subtotal.tax_amount, currency),
                taxable_amount=_money(subtotal.taxable_amount, currency),
            )
            for subtotal in document.tax_subtotals
        ),
        charges=tuple(
            ChargeOrAllowance(kind=CHARGE_TYPES.get(x.reason_code, "Service"),
                              amount=_money(x.amount, currency), description=x.reason or None)
            for x in document.allowance_charges if x.is_charge
        ),
        allowances=tuple(
            ChargeOrAllowance(kind=ALLOWANCE_TYPES.get(x.reason_code, "Discount"),
                              amount=_money(x.amount, currency), description=x.reason or None)
            for x in document.allowance_charges if not x.is_charge
        ),
    )
    return submit_invoices_body([invoice])


def invoice_payload_problems(payload: dict) -> list[str]:
    """Everything Amazon would refuse in ``payload``: its model (the
    repository's contracts) and its documented business rules."""
    return [
        *contracts.request_problems(operation_id="submitInvoices", body=payload),
        *submit_invoices_problems(payload),
    ]


def credit_note_submittable(document: Document) -> bool:
    return credit_note_country(marketplace_id=document.marketplace_id, buyer=document.buyer,
                               seller=document.seller) is None


def _remit_to_party_id(invoice: Invoice) -> str:
    if invoice.purchase_order_id and invoice.purchase_order.selling_party_id:
        return invoice.purchase_order.selling_party_id
    codes = invoice.account.vendor_codes or []
    return codes[0] if codes else ""


# --- the services ----------------------------------------------------------------------


def invoice_submit(*, tenant, invoice_id: int, actor=None) -> SubmitOutcome:
    """Send an issued invoice or credit note to Amazon (once per version).

    Refuses drafts, cancelled documents, documents the pre-send check
    blocks and payloads Amazon would refuse (ApplicationError, nothing
    sent). A credit note where Amazon documents no API route is recorded,
    not submitted. Calling again returns the existing submission.
    """
    with tenant_scope(tenant), transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("account", "purchase_order", "original_invoice")
            .filter(tenant=tenant, pk=invoice_id).first()
        )
        if invoice is None:
            raise NotFoundError(_(NOT_FOUND))
        if invoice.status == InvoiceStatus.DRAFT:
            raise ConflictError(_(IS_DRAFT))
        if invoice.status == InvoiceStatus.CANCELLED:
            raise ConflictError(_(IS_CANCELLED) % {"number": invoice.number})
        blocks = [f for f in invoice.check_results or [] if f.get("level") == "block"]
        if blocks:
            reasons = "; ".join(
                _(BLOCK_ON_LINE) % {"line": f.get("line"),
                                    "message": f.get("message", f.get("code", ""))}
                if f.get("line") else str(f.get("message", f.get("code", "")))
                for f in blocks
            )
            raise ApplicationError(_(CHECK_BLOCKS) % {"number": invoice.number,
                                                      "reasons": reasons[:300]})
        document = document_from_invoice(invoice)
        if invoice.is_credit_note:
            missing = credit_note_missing_references(document)
            if missing:
                raise ApplicationError(_(CREDIT_REFERENCES_MISSING) % {
                    "number": invoice.number, "reason": invoice.get_credit_reason_display(),
                    "missing": ", ".join(missing)})
            if not credit_note_submittable(document):
                message = _(RECORDED_NOT_SUBMITTED) % {"country": _country(document)}
                audit_record(
                    actor=actor, action=AuditAction.ACTION, instance=invoice,
                    summary=f"Credit note {invoice.number} recorded, not submitted",
                    after={"state": SubmissionState.RECORDED_NOT_SUBMITTED},
                )
                return SubmitOutcome(invoice.pk, invoice.number,
                                     SubmissionState.RECORDED_NOT_SUBMITTED, message=message)
        remit_to = _remit_to_party_id(invoice)
        if not (document.seller.party_id or remit_to):
            raise ApplicationError(_(NO_REMIT_TO) % {"number": invoice.number})
        payload = invoice_payload_build(document=document, remit_to_party_id=remit_to)
        problems = invoice_payload_problems(payload)
        if problems:
            raise ApplicationError(
                _(PAYLOAD_REFUSED) % {"number": invoice.number,
                                      "problems": "; ".join(problems)[:400]},
                {"problems": problems},
            )
        submission, created = submission_create(
            tenant=tenant, account=invoice.account, document_type=DocumentType.INVOICE,
            document_ref=invoice.number, document_version=SUBMISSION_VERSION, payload=payload,
        )
        if created:
            audit_record(
                actor=actor, action=AuditAction.ACTION, instance=invoice,
                summary=f"{invoice.get_kind_display()} {invoice.number} submitted to Amazon",
                after={"submission": submission.pk, "total": str(invoice.tax_inclusive_total)},
            )
    # The send task ran on commit (eagerly in tests and the demo): report
    # the status as it is now, not as it was inside the transaction.
    with tenant_scope(tenant):
        status = (Submission.objects.filter(tenant=tenant, pk=submission.pk)
                  .values_list("status", flat=True).first()) or submission.status
    return SubmitOutcome(invoice.pk, invoice.number, status,
                         submission_id=submission.pk, created=created)


def invoices_submit(*, tenant, invoice_ids: list[int], actor=None) -> list[SubmitOutcome]:
    """Bulk submit: each invoice on its own (one refusal stops no other);
    a refused one comes back with its reason and nothing sent."""
    outcomes = []
    for invoice_id in dict.fromkeys(invoice_ids):
        try:
            outcomes.append(invoice_submit(tenant=tenant, invoice_id=invoice_id, actor=actor))
        except ApplicationError as error:
            number = (Invoice.objects.filter(tenant=tenant, pk=invoice_id)
                      .values_list("number", flat=True).first()) or ""
            outcomes.append(SubmitOutcome(invoice_id, number, SubmissionState.REFUSED,
                                          message=error.message))
    return outcomes
