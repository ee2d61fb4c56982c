"""Sandbox Vendor Invoices: submitInvoices (mirrors operations/invoices.py)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

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


def _tax_total(details: list | None) -> Decimal:
    return sum((_amount(tax.get("taxAmount")) for tax in details or []), Decimal("0"))


def _same_cents(first: Decimal, second: Decimal) -> bool:
    """Equal to the cent; amounts too large to round are never equal."""
    try:
        return first.quantize(CENT) == second.quantize(CENT)
    except InvalidOperation:
        return False


def submit_invoices(request: SandboxRequest, grant: Grant, state: SandboxState):
    body = request.json()
    errors: list[dict] = []
    accepted = []
    for invoice in body.get("invoices", []):
        invoice_id = invoice["id"]
        if invoice_id in state.invoices:
            errors.append(
                business_error("DUPLICATE_INVOICE", f"Invoice {invoice_id} was already submitted.")
            )
            continue
        computed = Decimal("0")
        for item in invoice.get("items") or []:
            number = item.get("purchaseOrderNumber")
            if invoice["invoiceType"] == "Invoice":
                po = state.orders.get(number or "")
                if po is None or not visible(po, grant):
                    errors.append(business_error("INVALID_ORDER_ID", f"Invalid order ID {number}."))
                    continue
                line = find_line(po, {**item, "itemSequenceNumber": None}) or po.line(
                    str(item["itemSequenceNumber"]))
                if line is None:
                    errors.append(business_error(
                        "INVALID_ITEM",
                        f"Purchase order {number} has no line {item['itemSequenceNumber']}."))
                    continue
                if _amount(item["netCost"]) != line.net_cost:
                    errors.append(business_error(
                        "NET_COST_MISMATCH",
                        f"Net cost {_amount(item['netCost'])} on invoice {invoice_id} differs "
                        f"from the purchase order cost {line.net_cost}.",
                    ))
            computed += _amount(item["netCost"]) * item["invoicedQuantity"]["amount"]
            computed += _tax_total(item.get("taxDetails"))
        computed += _tax_total(invoice.get("taxDetails"))
        computed += sum((_amount(c["chargeAmount"]) for c in invoice.get("chargeDetails") or []),
                        Decimal("0"))
        computed -= sum((_amount(a["allowanceAmount"]) for a in invoice.get("allowanceDetails")
                         or []), Decimal("0"))
        total = _amount(invoice["invoiceTotal"])
        if invoice.get("items") and not _same_cents(computed, total):
            errors.append(business_error(
                "INVOICE_TOTAL_MISMATCH",
                f"Invoice {invoice_id} total {total} is inconsistent with its lines, taxes, "
                f"charges and allowances ({computed}).",
            ))
            continue
        accepted.append(invoice)

    def apply() -> None:
        with state.lock:
            for invoice in accepted:
                state.invoices[invoice["id"]] = invoice

    return transaction_accepted(body, state, kind="invoice", errors=errors, apply=apply)
