"""The returns loop: a return event (from a remittance RTV line, a Vendor
Central return report, or entered by hand) -> stock back in when the goods
arrive (inventory.services.stock_return) -> a credit note through invoicing
(credit_note_create, reason "return") -> matched to the deduction that
charged for it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from acorn.exceptions import ApplicationError
from acorn.models import AuditAction
from acorn.services import audit_record
from reconciliation.deduction_models import (
    Deduction,
    DeductionType,
    ReturnEvent,
    ReturnSource,
)

MAX_REPORT_BYTES = 5 * 1024 * 1024
MAX_REPORT_ROWS = 20000
# Header aliases of the Vendor Central returns report (column names vary
# by marketplace and export; matched case-insensitively).
_COLUMNS = {
    "return_reference": ("return id", "return reference", "rma id", "rma", "return number",
                         "vret", "returns reference number"),
    "purchase_order_number": ("purchase order", "po", "po number", "purchase order number"),
    "asin": ("asin",),
    "quantity": ("quantity", "units", "returned units", "return quantity"),
    "amount": ("amount", "cost", "total cost", "return amount", "value"),
    "currency": ("currency", "currency code"),
    "return_date": ("return date", "date", "shipped date", "return shipped date"),
}


def _product_for(*, tenant, purchase_order_number: str, asin: str):
    """The product of the PO line with this ASIN (channels' selectors)."""
    from channels.selectors.purchase_orders import purchase_order_list

    if not purchase_order_number or not asin:
        return None
    po = purchase_order_list(tenant=tenant, filters={"number": purchase_order_number}).first()
    if po is None:
        return None
    line = po.lines.filter(asin=asin, product__isnull=False).select_related("product").first()
    return line.product if line else None


@transaction.atomic
def return_record(
    *, tenant, source: str, return_reference: str, asin: str, quantity: int, amount,
    currency: str, return_date: dt.date, purchase_order_number: str = "", product=None,
    actor=None,
) -> tuple[ReturnEvent, bool]:
    """One return line; the same (source, reference, ASIN) again returns it."""
    if source not in ReturnSource.values:
        raise ApplicationError(_("Unknown return source."))
    if not return_reference:
        raise ApplicationError(_("A return needs its reference (return ID / RMA)."))
    if int(quantity) <= 0:
        raise ApplicationError(_("Quantity must be at least 1."))
    amount = Decimal(str(amount))
    if not amount.is_finite() or amount < 0:
        raise ApplicationError(_("The amount must be zero or more."))
    existing = ReturnEvent.objects.filter(tenant=tenant, source=source,
                                          return_reference=return_reference, asin=asin).first()
    if existing is not None:
        return existing, False
    product = product or _product_for(tenant=tenant, purchase_order_number=purchase_order_number,
                                      asin=asin)
    event = ReturnEvent.objects.create(
        tenant=tenant, source=source, return_reference=return_reference[:80], asin=asin[:10],
        purchase_order_number=purchase_order_number[:40], product=product,
        quantity=int(quantity), amount=amount, currency=currency.upper()[:3],
        return_date=return_date)
    audit_record(actor=actor, action=AuditAction.CREATE, instance=event,
                 summary=f"Return {return_reference} {asin} x{quantity}")
    return_match_deduction(tenant=tenant, return_id=event.pk)
    return event, True


def _cell(row: dict, field: str) -> str:
    for alias in _COLUMNS[field]:
        if alias in row:
            return (row[alias] or "").strip()
    return ""


def returns_report_import(*, tenant, data: bytes, actor=None, currency_default: str = "USD"
                          ) -> dict:
    """A Vendor Central return report (CSV). All or nothing: any bad row
    fails the file with row-level errors (line and field, never the cell)."""
    if not data:
        raise ApplicationError(_("The file is empty."))
    if len(data) > MAX_REPORT_BYTES:
        raise ApplicationError(_("The file is larger than %(limit)d MB.") % {
            "limit": MAX_REPORT_BYTES // (1024 * 1024)})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ApplicationError(_("The file has no header row."))
    rows, errors = [], []
    for number, raw in enumerate(reader, start=2):
        if number > MAX_REPORT_ROWS + 1:
            raise ApplicationError(_("The file has more than %(limit)d rows.") % {
                "limit": MAX_REPORT_ROWS})
        row = {(k or "").strip().lower(): v for k, v in raw.items() if isinstance(v, str)}
        values = {field: _cell(row, field) for field in _COLUMNS}
        try:
            quantity = int(values["quantity"])
            if quantity <= 0:
                raise ValueError
        except ValueError:
            errors.append({"line": number, "field": "quantity",
                           "message": _("not a whole number of units")})
            continue
        try:
            amount = Decimal(values["amount"].replace(",", "") or "0")
        except InvalidOperation:
            errors.append({"line": number, "field": "amount", "message": _("not an amount")})
            continue
        try:
            return_date = dt.date.fromisoformat(values["return_date"][:10])
        except ValueError:
            errors.append({"line": number, "field": "return_date",
                           "message": _("not a date (YYYY-MM-DD)")})
            continue
        if not values["return_reference"] or not values["asin"]:
            errors.append({"line": number, "field": "return_reference",
                           "message": _("return ID and ASIN are required")})
            continue
        rows.append({**values, "quantity": quantity, "amount": amount,
                     "return_date": return_date,
                     "currency": values["currency"] or currency_default})
    if errors:
        return {"created": 0, "skipped": 0, "errors": errors}
    created = skipped = 0
    try:
        with transaction.atomic():
            for row in rows:
                _event, was_created = return_record(
                    tenant=tenant, source=ReturnSource.REPORT, actor=actor, **row)
                created += was_created
                skipped += not was_created
    except IntegrityError:
        return {"created": 0, "skipped": 0, "errors": [
            {"line": None, "field": "file", "message": _("imported at the same time; retry")}]}
    return {"created": created, "skipped": skipped, "errors": []}


@transaction.atomic
def return_receive(*, tenant, return_id: int, warehouse, actor=None) -> ReturnEvent:
    """The goods are back: a return movement into ``warehouse`` (once)."""
    from inventory.services import stock_return

    event = ReturnEvent.objects.select_for_update().filter(tenant=tenant, pk=return_id).first()
    if event is None:
        raise ApplicationError(_("No such return."))
    if event.received_at is not None:
        return event
    if event.product_id is None:
        raise ApplicationError(_("This return has no product: map its ASIN first."))
    movements = stock_return(
        tenant=tenant, product=event.product, warehouse=warehouse, quantity=event.quantity,
        source_type="amazon_return", source_ref=event.return_reference,
        idempotency_key=f"reconciliation-return:{event.pk}", reason="Amazon return (RTV)",
        actor=actor)
    event.warehouse = warehouse
    event.received_at = timezone.now()
    event.stock_movement_ids = [m.pk for m in movements]
    event.save(update_fields=["warehouse", "received_at", "stock_movement_ids", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=event,
                 summary=f"Return {event.return_reference} received into stock",
                 after={"movements": event.stock_movement_ids})
    return event


def _original_invoice_line(*, tenant, purchase_order_number: str, asin: str):
    """(invoice id, invoice line id, quantity) of the issued invoice that
    billed this ASIN on this PO."""
    from invoicing.models import InvoiceLine
    from invoicing.selectors import invoice_list_for_matching

    invoices = [inv for inv in invoice_list_for_matching(
        tenant=tenant, purchase_order_numbers=[purchase_order_number])
        if inv.kind == "invoice" and inv.purchase_order_number == purchase_order_number]
    if not invoices:
        return None
    line = (InvoiceLine.objects.filter(tenant=tenant, invoice_id__in=[i.id for i in invoices],
                                       asin=asin).order_by("invoice_id", "line_number")
            .values("id", "invoice_id").first())
    return line


def credit_note_for_return(*, tenant, event: ReturnEvent, actor=None):
    """The returns credit note, through invoicing's published service
    (h9's ``credit_note_create``, reason ``return``)."""
    from invoicing.services import credit_note_create

    line = _original_invoice_line(tenant=tenant, purchase_order_number=event.purchase_order_number,
                                  asin=event.asin)
    if line is None:
        raise ApplicationError(_("No issued invoice bills ASIN %(asin)s on PO %(po)s.") % {
            "asin": event.asin, "po": event.purchase_order_number})
    return credit_note_create(
        tenant=tenant, original_invoice_id=line["invoice_id"], reason="return",
        lines=[{"invoice_line_id": line["id"], "quantity": event.quantity}],
        references={"returnsReferenceNumber": event.return_reference,
                    "goodsReturnDate": event.return_date.isoformat()},
        note=f"Amazon return {event.return_reference}", actor=actor)


def return_credit_note(*, tenant, return_id: int, actor=None) -> ReturnEvent:
    """Create the credit note once; a refusal from invoicing is kept on the
    return (visible, retryable) instead of being lost."""
    with transaction.atomic():
        event = ReturnEvent.objects.select_for_update().filter(tenant=tenant, pk=return_id).first()
        if event is None:
            raise ApplicationError(_("No such return."))
        if event.credit_note_id:
            return event
        refusal = None
        try:
            with transaction.atomic():
                credit_note = credit_note_for_return(tenant=tenant, event=event, actor=actor)
        except ApplicationError as exc:
            refusal = exc
            event.credit_note_error = str(exc)[:300]
            event.save(update_fields=["credit_note_error", "updated_at"])
        else:
            event.credit_note = credit_note
            event.credit_note_error = ""
            event.save(update_fields=["credit_note", "credit_note_error", "updated_at"])
    # Raised after the commit, so the refusal stays on the return.
    if refusal is not None:
        raise refusal
    return event


@transaction.atomic
def return_match_deduction(*, tenant, return_id: int) -> ReturnEvent:
    """Link the return to the RTV deduction that charged for it: the same
    PO (or the reference in the line) and currency, not yet linked."""
    event = ReturnEvent.objects.select_for_update().filter(tenant=tenant, pk=return_id).first()
    if event is None or event.deduction_id:
        return event
    candidates = Deduction.objects.filter(
        tenant=tenant, deduction_type=DeductionType.RETURN, currency=event.currency,
        returns__isnull=True).order_by("claim_date", "id")
    match = (candidates.filter(reference__icontains=event.return_reference).first()
             or (candidates.filter(purchase_order_number=event.purchase_order_number).first()
                 if event.purchase_order_number else None))
    if match is not None:
        event.deduction = match
        event.save(update_fields=["deduction", "updated_at"])
    return event


def returns_match_pending(*, tenant) -> int:
    """Try again for returns not yet linked (a deduction may arrive later)."""
    matched = 0
    for return_id in ReturnEvent.objects.filter(tenant=tenant, deduction__isnull=True) \
            .values_list("pk", flat=True):
        matched += bool(return_match_deduction(tenant=tenant, return_id=return_id).deduction_id)
    return matched
