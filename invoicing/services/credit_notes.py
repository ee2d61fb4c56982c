"""Credit notes: returns, price corrections (PPV), quantity corrections
(PQV) and co-op, as records that correct one issued invoice.

A credit note copies the original's parties, currency and tax and never
credits more than is left of what it corrects: per original line, the
quantity (returns, PQV) and the amount (every reason) minus the earlier,
not-cancelled credit notes. Amazon's creditNoteDetails live in
``Invoice.credit_references`` (validated per reason, see REFERENCE_RULES).
Credit notes are numbered from the CN series when issued.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import DecimalField, F, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record
from acorn.tenancy import tenant_scope
from invoicing.models import (
    CreditReason,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from invoicing.services.issue import invoice_recalculate, number_series_default
from invoicing.services.totals import amount_round

# Amazon's creditNoteDetails keys each reason may carry, and which it needs.
# PPV/PQV (AP) reference the invoice they correct; returns need Amazon's
# return reference and date; co-op needs Amazon's co-op or debit note number.
REFERENCE_KEYS = ("referenceInvoiceNumber", "debitNoteNumber", "returnsReferenceNumber",
                  "goodsReturnDate", "rmaId", "coopReferenceNumber",
                  "consignorsReferenceNumber")
REFERENCE_RULES = {
    CreditReason.RETURN: {
        "allowed": {"returnsReferenceNumber", "goodsReturnDate", "rmaId",
                    "consignorsReferenceNumber", "debitNoteNumber"},
        "required": ({"returnsReferenceNumber"}, {"goodsReturnDate"}),
    },
    CreditReason.PRICE: {"allowed": {"referenceInvoiceNumber"}, "required": ()},
    CreditReason.QUANTITY: {"allowed": {"referenceInvoiceNumber"}, "required": ()},
    CreditReason.COOP: {
        "allowed": {"coopReferenceNumber", "debitNoteNumber"},
        "required": ({"coopReferenceNumber", "debitNoteNumber"},),
    },
}
ORIGINAL_NOT_FOUND = gettext_noop("No such issued invoice to credit.")
ORIGINAL_NOT_ISSUED = gettext_noop("Only an issued invoice can be credited.")
UNKNOWN_REASON = gettext_noop("Unknown credit reason %(reason)s.")
REFERENCE_MISSING = gettext_noop("A %(reason)s credit note needs %(keys)s.")
REFERENCE_NOT_ALLOWED = gettext_noop("%(key)s does not belong on a %(reason)s credit note.")
REFERENCE_INVOICE_WRONG = gettext_noop(
    "referenceInvoiceNumber must be the original invoice's number, %(number)s.")
BAD_DATE = gettext_noop("goodsReturnDate must be a date (YYYY-MM-DD).")
NO_CREDIT_LINES = gettext_noop("Name at least one line to credit.")
LINE_NOT_ON_ORIGINAL = gettext_noop("Line %(line)s is not on invoice %(number)s.")
QUANTITY_EXCEEDS = gettext_noop(
    "Line %(line)s: %(quantity)s credited, only %(left)s left to credit.")
AMOUNT_EXCEEDS = gettext_noop(
    "Line %(line)s: %(amount)s credited, only %(left)s left to credit.")
UNIT_AMOUNT_EXCEEDS = gettext_noop(
    "Line %(line)s: a price correction of %(amount)s per unit exceeds the net cost %(cost)s.")
BAD_QUANTITY = gettext_noop("Line %(line)s: the quantity must be a whole number above 0.")
BAD_AMOUNT = gettext_noop("Line %(line)s: the amount must be a number above 0.")
COOP_EXCEEDS = gettext_noop("A co-op credit of %(amount)s exceeds the %(left)s left to credit.")


def credit_references_validate(*, reason: str, references: dict, original: Invoice) -> dict:
    """Amazon's creditNoteDetails for ``reason``, cleaned, or an error."""
    if reason not in REFERENCE_RULES:
        raise ApplicationError(_(UNKNOWN_REASON) % {"reason": reason})
    rules = REFERENCE_RULES[reason]
    label = CreditReason(reason).label
    cleaned = {k: str(v).strip() for k, v in (references or {}).items() if str(v or "").strip()}
    for key in cleaned:
        if key not in rules["allowed"]:
            raise ApplicationError(_(REFERENCE_NOT_ALLOWED) % {"key": key, "reason": label},
                                   extra={"field": key})
    for alternatives in rules["required"]:
        if not alternatives & set(cleaned):
            raise ApplicationError(
                _(REFERENCE_MISSING) % {"reason": label, "keys": " / ".join(sorted(alternatives))},
                extra={"field": sorted(alternatives)[0]},
            )
    if "goodsReturnDate" in cleaned:
        try:
            cleaned["goodsReturnDate"] = datetime.date.fromisoformat(
                cleaned["goodsReturnDate"]).isoformat()
        except ValueError:
            raise ApplicationError(_(BAD_DATE), extra={"field": "goodsReturnDate"}) from None
    if reason in (CreditReason.PRICE, CreditReason.QUANTITY):
        given = cleaned.get("referenceInvoiceNumber")
        if given and given != original.number:
            raise ApplicationError(_(REFERENCE_INVOICE_WRONG) % {"number": original.number},
                                   extra={"field": "referenceInvoiceNumber"})
        cleaned["referenceInvoiceNumber"] = original.number
    for key in cleaned:
        if len(cleaned[key]) > 100:
            cleaned[key] = cleaned[key][:100]
    return cleaned


def credited_so_far(*, tenant, original: Invoice, exclude_id: int | None = None,
                    issued_only: bool = False) -> dict:
    """Per original line id: units credited (returns, PQV) and amount
    credited (all reasons) by not-cancelled credit notes; key None holds
    co-op amounts that name no line."""
    queryset = InvoiceLine.objects.filter(
        tenant=tenant, invoice__original_invoice=original,
        invoice__kind=DocumentKind.CREDIT_NOTE,
    ).exclude(invoice__status=InvoiceStatus.CANCELLED)
    if exclude_id:
        queryset = queryset.exclude(invoice_id=exclude_id)
    if issued_only:
        queryset = queryset.filter(invoice__status=InvoiceStatus.ISSUED)
    units: dict = defaultdict(int)
    amounts: dict = defaultdict(Decimal)
    rows = queryset.values("credited_line_id", "invoice__credit_reason").annotate(
        units=Sum("quantity"),
        amount=Sum(F("line_net_amount"), output_field=DecimalField(max_digits=18,
                                                                   decimal_places=4)),
    ).order_by("credited_line_id")
    for row in rows:
        line_id = row["credited_line_id"]
        if row["invoice__credit_reason"] in (CreditReason.RETURN, CreditReason.QUANTITY):
            units[line_id] += row["units"]
        amounts[line_id] += row["amount"] or Decimal("0")
    return {"units": units, "amounts": amounts}


def _positive_int(value, line) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApplicationError(_(BAD_QUANTITY) % {"line": line}) from None
    if number <= 0:
        raise ApplicationError(_(BAD_QUANTITY) % {"line": line})
    return number


def _positive_decimal(value, line) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ApplicationError(_(BAD_AMOUNT) % {"line": line}) from None
    if not number.is_finite() or number <= 0:
        raise ApplicationError(_(BAD_AMOUNT) % {"line": line})
    return number


@transaction.atomic
def credit_note_create(
    *,
    tenant,
    original_invoice_id: int,
    reason: str,
    lines: list[dict] | None = None,
    amount: Decimal | None = None,
    references: dict | None = None,
    note: str = "",
    actor=None,
) -> Invoice:
    """Create a draft credit note correcting one issued invoice.

    Arguments:
    - ``original_invoice_id``: the issued invoice (kind invoice) corrected.
    - ``reason``: a ``CreditReason`` value: ``return``, ``quantity`` (PQV),
      ``price`` (PPV) or ``coop``.
    - ``lines`` (return, quantity, price): ``[{"invoice_line_id": id of the
      original's line, "quantity": units}]``; a price correction adds
      ``"unit_amount"``: the credit per unit (Decimal or string, at most the
      line's net cost). Returns and PQV credit at the original net cost.
    - ``amount`` (coop): the credit, net of tax, at most what is left.
    - ``references``: Amazon's creditNoteDetails (keys REFERENCE_KEYS):
      returns need ``returnsReferenceNumber`` and ``goodsReturnDate``
      (``rmaId``, ``consignorsReferenceNumber`` (VRET), ``debitNoteNumber``
      optional); co-op needs ``coopReferenceNumber`` or ``debitNoteNumber``;
      PPV/PQV get ``referenceInvoiceNumber`` = the original's number.
    Returns the draft (no number until issued from the CN series); raises
    ``ApplicationError`` with a translated message for anything out of
    bounds, so nothing is half-written.
    """
    with tenant_scope(tenant):
        original = (Invoice.objects.select_for_update(of=("self",))
                    .select_related("tax_profile")
                    .filter(tenant=tenant, pk=original_invoice_id,
                            kind=DocumentKind.INVOICE).first())
        if original is None:
            raise NotFoundError(_(ORIGINAL_NOT_FOUND))
        if original.status != InvoiceStatus.ISSUED:
            raise ApplicationError(_(ORIGINAL_NOT_ISSUED))
        cleaned_refs = credit_references_validate(reason=reason, references=references or {},
                                                  original=original)
        credit_lines = _credit_lines(tenant=tenant, original=original, reason=reason,
                                     lines=lines or [], amount=amount)
        credit_note = Invoice(
            tenant=tenant, kind=DocumentKind.CREDIT_NOTE,
            series=number_series_default(tenant=tenant, kind=DocumentKind.CREDIT_NOTE),
            currency=original.currency, account_id=original.account_id,
            purchase_order_id=original.purchase_order_id,
            purchase_order_number=original.purchase_order_number,
            shipment_id=original.shipment_id, marketplace_id=original.marketplace_id,
            tax_profile=original.tax_profile, seller=original.seller, buyer=original.buyer,
            ship_to=original.ship_to, payment_terms=original.payment_terms,
            delivery_date=original.delivery_date, note=note[:500],
            original_invoice=original, credit_reason=reason, credit_references=cleaned_refs,
        )
        credit_note.save()
        for number, line in enumerate(credit_lines, start=1):
            line.tenant = tenant
            line.invoice = credit_note
            line.line_number = number
        InvoiceLine.objects.bulk_create(credit_lines)
        invoice_recalculate(invoice=credit_note)
        from invoicing.services.checks import invoice_check

        invoice_check(tenant=tenant, invoice_id=credit_note.pk)
        credit_note.refresh_from_db()
        audit_record(
            actor=actor, action=AuditAction.CREATE, instance=credit_note,
            summary=f"Draft credit note ({reason}) for invoice {original.number}",
            after={"total": str(credit_note.tax_inclusive_total), "references": cleaned_refs},
        )
    return credit_note


def _copy_line(source: InvoiceLine, *, quantity: int, unit_cost: Decimal) -> InvoiceLine:
    return InvoiceLine(
        po_line_id=source.po_line_id, item_sequence_number=source.item_sequence_number,
        purchase_order_number=source.purchase_order_number, asin=source.asin,
        vendor_sku=source.vendor_sku, gtin=source.gtin, description=source.description,
        quantity=quantity, unit_of_measure=source.unit_of_measure, unit_size=source.unit_size,
        net_unit_cost=unit_cost, tax_category=source.tax_category, tax_rate=source.tax_rate,
        lot_number=source.lot_number, country_of_origin=source.country_of_origin,
        credited_line=source,
    )


def _credit_lines(*, tenant, original: Invoice, reason: str, lines: list[dict],
                  amount) -> list[InvoiceLine]:
    so_far = credited_so_far(tenant=tenant, original=original)
    originals = {line.pk: line for line in original.lines.order_by("line_number", "id")}
    if reason == CreditReason.COOP:
        credit = amount_round(_positive_decimal(amount, "—"), original.currency)
        left = original.tax_exclusive_total - sum(so_far["amounts"].values(), Decimal("0"))
        if credit > left:
            raise ApplicationError(_(COOP_EXCEEDS) % {
                "amount": credit, "left": amount_round(max(left, Decimal("0")), original.currency)})
        first = next(iter(originals.values()))
        return [InvoiceLine(
            purchase_order_number=original.purchase_order_number,
            description=_("Co-op"), quantity=1, net_unit_cost=credit,
            tax_category=first.tax_category, tax_rate=first.tax_rate,
        )]
    if not lines:
        raise ApplicationError(_(NO_CREDIT_LINES))
    wanted_units: dict[int, int] = defaultdict(int)
    wanted_amount: dict[int, Decimal] = defaultdict(Decimal)
    result = []
    for spec in lines:
        source = originals.get(_positive_int(spec.get("invoice_line_id"), "?"))
        if source is None:
            raise ApplicationError(_(LINE_NOT_ON_ORIGINAL) % {
                "line": spec.get("invoice_line_id"), "number": original.number})
        quantity = _positive_int(spec.get("quantity"), source.line_number)
        if reason == CreditReason.PRICE:
            unit_cost = _positive_decimal(spec.get("unit_amount"), source.line_number)
            if unit_cost > source.net_unit_cost:
                raise ApplicationError(_(UNIT_AMOUNT_EXCEEDS) % {
                    "line": source.line_number, "amount": unit_cost,
                    "cost": source.net_unit_cost})
        else:
            unit_cost = source.net_unit_cost
            wanted_units[source.pk] += quantity
            left_units = source.quantity - so_far["units"][source.pk]
            if wanted_units[source.pk] > left_units:
                raise ApplicationError(_(QUANTITY_EXCEEDS) % {
                    "line": source.line_number, "quantity": wanted_units[source.pk],
                    "left": max(left_units, 0)}, extra={"line": source.line_number})
        if quantity > source.quantity:
            raise ApplicationError(_(QUANTITY_EXCEEDS) % {
                "line": source.line_number, "quantity": quantity, "left": source.quantity})
        wanted_amount[source.pk] += Decimal(quantity) * unit_cost
        left_amount = source.line_net_amount - so_far["amounts"][source.pk]
        if amount_round(wanted_amount[source.pk], original.currency) > left_amount:
            raise ApplicationError(_(AMOUNT_EXCEEDS) % {
                "line": source.line_number,
                "amount": amount_round(wanted_amount[source.pk], original.currency),
                "left": amount_round(max(left_amount, Decimal("0")), original.currency)},
                extra={"line": source.line_number})
        result.append(_copy_line(source, quantity=quantity, unit_cost=unit_cost))
    return result


def credit_note_bound_findings(*, tenant, credit_note: Invoice) -> list[dict]:
    """At check/issue time: the draft still fits in what the issued credit
    notes left (another may have been issued since it was drafted)."""
    from invoicing.services.checks import BLOCK, _finding

    original = credit_note.original_invoice
    if original is None:
        return []
    so_far = credited_so_far(tenant=tenant, original=original, exclude_id=credit_note.pk,
                             issued_only=True)
    findings = []
    amounts: dict = defaultdict(Decimal)
    units: dict = defaultdict(int)
    sources = {line.pk: line for line in original.lines.all()}
    for line in credit_note.lines.order_by("line_number", "id"):
        amounts[line.credited_line_id] += line.line_net_amount
        if credit_note.credit_reason in (CreditReason.RETURN, CreditReason.QUANTITY):
            units[line.credited_line_id] += line.quantity
    for line_id, amount in amounts.items():
        if line_id is None:
            left = original.tax_exclusive_total - sum(so_far["amounts"].values(), Decimal("0"))
            over = amount > left
        else:
            source = sources.get(line_id)
            over = source is None or (
                amount + so_far["amounts"][line_id] > source.line_net_amount
                or units[line_id] + so_far["units"][line_id] > source.quantity)
        if over:
            findings.append(_finding(BLOCK, "credit_exceeds_original",
                                     sources[line_id].line_number if line_id in sources
                                     else None))
    return findings
