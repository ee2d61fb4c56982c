"""Sandbox Vendor Invoices: submitInvoices (mirrors operations/invoices.py).

Keeps Amazon's rules the way Amazon applies them: the request is checked
against the schema first (400 InvalidInput, in ``common.operation_endpoint``);
a body that parses is accepted with 202 and a transactionId, and the
business rules fail the transaction with Amazon's error shape
(``{"code", "message"}`` in getTransaction's ``errors``):

- DUPLICATE_INVOICE: the invoice number was already received (settled or
  still processing), or appears twice in the request;
- INVALID_ORDER_ID: an invoice item names a PO the vendor does not have;
- INVALID_ITEM: the PO has no such line;
- NET_COST_MISMATCH: netCost differs from the PO's cost;
- INVALID_QUANTITY / INVALID_NET_COST: zero or negative;
- MISSING_PURCHASE_ORDER_NUMBER: an invoice item without its PO;
- INVOICE_TOTAL_MISMATCH: invoiceTotal is not the lines plus taxes and
  charges less allowances (item and invoice level);
- MISSING_CREDIT_NOTE_REFERENCE / INVALID_REFERENCE_INVOICE: a credit note
  item without the references its kind requires (AP: the original invoice,
  which must be one Amazon has; returns: the returns notice and the goods
  return date; co-op: the co-op reference or Amazon's debit note).

This is written independently of the client-side rules in
``vendor_api.operations.invoices`` so that one checks the other in tests.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from vendor_api.sandbox.server import SandboxRequest
from vendor_api.sandbox.state import Grant, SandboxState
from vendor_api.sandbox.vendor.common import (
    business_error,
    decimal_or_none,
    find_line,
    transaction_accepted,
    visible,
)

CENT = Decimal("0.01")


def _amount(money: dict | None) -> Decimal:
    return decimal_or_none((money or {}).get("amount")) or Decimal("0")


def _total(rows: list | None, key: str) -> Decimal:
    return sum((_amount(row.get(key)) for row in rows or []), Decimal("0"))


def _cents(value: Decimal) -> Decimal | None:
    try:
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None


def _same_cents(first: Decimal, second: Decimal) -> bool:
    """Equal to the cent; amounts too large to round are never equal."""
    a, b = _cents(first), _cents(second)
    return a is not None and a == b


def _received_invoice_ids(state: SandboxState) -> set[str]:
    """Invoice numbers Amazon has, or is still processing."""
    with state.lock:
        ids = set(state.invoices)
        for received in state.submissions:
            if received["kind"] != "invoice":
                continue
            transaction = state.transactions.get(received["transactionId"])
            if transaction is not None and transaction.status == "Processing":
                ids.update(i.get("id") for i in received["body"].get("invoices") or [])
    return ids


def _credit_note_errors(state: SandboxState, invoice_id: str, item: dict) -> list[dict]:
    details = item.get("creditNoteDetails") or {}
    sequence = item.get("itemSequenceNumber")
    if details.get("returnsReferenceNumber") or details.get("goodsReturnDate"):
        missing = [k for k in ("returnsReferenceNumber", "goodsReturnDate") if not details.get(k)]
        if missing:
            return [business_error(
                "MISSING_CREDIT_NOTE_REFERENCE",
                f"Returns credit note {invoice_id} item {sequence} is missing "
                f"{', '.join(missing)}.")]
        return []
    if details.get("coopReferenceNumber") or details.get("debitNoteNumber"):
        return []
    reference = details.get("referenceInvoiceNumber")
    if not reference:
        return [business_error(
            "MISSING_CREDIT_NOTE_REFERENCE",
            f"Credit note {invoice_id} item {sequence} has no referenceInvoiceNumber, "
            "returnsReferenceNumber, coopReferenceNumber or debitNoteNumber.")]
    with state.lock:
        known = reference in state.invoices
    if not known:
        return [business_error(
            "INVALID_REFERENCE_INVOICE",
            f"Credit note {invoice_id} references invoice {reference}, which was not received.")]
    return []


def _item_errors(state: SandboxState, grant: Grant, invoice: dict, item: dict) -> list[dict]:
    invoice_id = invoice["id"]
    sequence = item.get("itemSequenceNumber")
    errors = []
    quantity = item["invoicedQuantity"]["amount"]
    cost = decimal_or_none(item["netCost"].get("amount"))
    if quantity <= 0:
        errors.append(business_error(
            "INVALID_QUANTITY",
            f"Invoiced quantity of invoice {invoice_id} item {sequence} must be greater than "
            "zero."))
    if cost is None or cost <= 0:
        errors.append(business_error(
            "INVALID_NET_COST",
            f"Net cost of invoice {invoice_id} item {sequence} must be greater than zero."))
    if invoice["invoiceType"] == "CreditNote":
        return errors + _credit_note_errors(state, invoice_id, item)
    number = item.get("purchaseOrderNumber")
    if not number:
        return errors + [business_error(
            "MISSING_PURCHASE_ORDER_NUMBER",
            f"Invoice {invoice_id} item {sequence} has no purchaseOrderNumber.")]
    po = state.orders.get(number)
    if po is None or not visible(po, grant):
        return errors + [business_error("INVALID_ORDER_ID", f"Invalid order ID {number}.")]
    line = po.line(str(sequence)) or find_line(po, {**item, "itemSequenceNumber": None})
    if line is None:
        return errors + [business_error(
            "INVALID_ITEM", f"Purchase order {number} has no line {sequence}.")]
    if cost is not None and cost != line.net_cost:
        errors.append(business_error(
            "NET_COST_MISMATCH",
            f"Net cost {cost} on invoice {invoice_id} differs from the purchase order cost "
            f"{line.net_cost}."))
    return errors


def _computed_total(invoice: dict) -> Decimal:
    computed = Decimal("0")
    for item in invoice.get("items") or []:
        line = _amount(item["netCost"]) * item["invoicedQuantity"]["amount"]
        computed += _cents(line) or line
        computed += _total(item.get("taxDetails"), "taxAmount")
        computed += _total(item.get("chargeDetails"), "chargeAmount")
        computed -= _total(item.get("allowanceDetails"), "allowanceAmount")
    computed += _total(invoice.get("taxDetails"), "taxAmount")
    computed += _total(invoice.get("chargeDetails"), "chargeAmount")
    computed -= _total(invoice.get("allowanceDetails"), "allowanceAmount")
    return computed


def submit_invoices(request: SandboxRequest, grant: Grant, state: SandboxState):
    body = request.json()
    errors: list[dict] = []
    accepted = []
    received = _received_invoice_ids(state)
    in_request: set[str] = set()
    for invoice in body.get("invoices", []):
        invoice_id = invoice["id"]
        if invoice_id in received or invoice_id in in_request:
            errors.append(
                business_error("DUPLICATE_INVOICE", f"Invoice {invoice_id} was already submitted.")
            )
            continue
        in_request.add(invoice_id)
        invoice_errors = []
        for item in invoice.get("items") or []:
            invoice_errors.extend(_item_errors(state, grant, invoice, item))
        total = _amount(invoice["invoiceTotal"])
        computed = _computed_total(invoice)
        if invoice.get("items") and not _same_cents(computed, total):
            invoice_errors.append(business_error(
                "INVOICE_TOTAL_MISMATCH",
                f"Invoice {invoice_id} total {total} is inconsistent with its lines, taxes, "
                f"charges and allowances ({computed}).",
            ))
        if invoice_errors:
            errors.extend(invoice_errors)
        else:
            accepted.append(invoice)

    def apply() -> None:
        with state.lock:
            for invoice in accepted:
                # Never overwrite: one invoice number is one invoice at Amazon.
                state.invoices.setdefault(invoice["id"], invoice)

    return transaction_accepted(body, state, kind="invoice", errors=errors, apply=apply)
