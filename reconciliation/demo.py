"""Demo data of the reconciliation app: a Vendor Central remittance export
produced from the demo's own issued invoices (full payments, a shortage
claim, an ASN chargeback, a return (RTV) deduction and one short payment
nobody explained), imported through the import service, classified into
deductions with their dispute windows; then the return comes back into
stock with a returns credit note, matched to its RTV deduction.
Idempotent: the same file again is the same import."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

ZERO = Decimal("0")
HEADER = ("Payment Number,Payment Date,Payment Amount,Payment Currency,Invoice Number,"
          "Invoice Date,Description,Invoice Amount,Terms Discount Taken,Amount Paid,"
          "Remaining Amount\n")


def _row(payment_number, payment_date, payment_amount, currency, number, invoice_date,
         description, invoice_amount, paid) -> str:
    fmt = "%m/%d/%Y"
    return ",".join([payment_number, payment_date.strftime(fmt), f"{payment_amount}", currency,
                     number, invoice_date.strftime(fmt), description,
                     f"{invoice_amount}" if invoice_amount is not None else "", "0" if
                     invoice_amount is not None else "", f"{paid}", ""]) + "\n"


def demo_remittance(*, invoices, first_lines) -> bytes:
    """The export for the demo's invoices: invoice 1 paid in full minus a
    one-unit shortage, an RTV of one unit and a 25.00 ASN chargeback;
    invoice 2 (if any) paid 10.00 short with no explanation."""
    currency = invoices[0].currency
    invoices = [i for i in invoices if i.currency == currency]
    pay_date = max(i.issue_date for i in invoices) + dt.timedelta(days=30)
    unit = first_lines[0]["net_unit_cost"]
    lines = []
    first = invoices[0]
    lines.append((first.number, first.issue_date, "", first.amount_due, first.amount_due))
    lines.append((f"{first.number}SC", pay_date, "Shortage claim", None, -unit))
    lines.append((f"{first.number}RTV", pay_date, "Return to vendor", None, -unit))
    lines.append(("8840021VCBSINV", pay_date, "ASN accuracy chargeback", None,
                  Decimal("-25.00")))
    for invoice in invoices[1:]:
        short = Decimal("10.00") if invoice is invoices[1] else ZERO
        lines.append((invoice.number, invoice.issue_date, "", invoice.amount_due,
                      invoice.amount_due - short))
    total = sum(line[4] for line in lines)
    body = "".join(_row("DEMO-PAY-0001", pay_date, total, currency, number, date, description,
                        amount, paid) for number, date, description, amount, paid in lines)
    return (HEADER + body).encode()


def seed(*, tenant) -> dict:
    from invoicing.models import InvoiceLine
    from invoicing.selectors import invoice_list_for_matching
    from reconciliation.services import remittance_import_create
    from reconciliation.services.deductions import (
        deductions_from_remittances,
        dispute_settings_get,
        dispute_windows_alert,
    )

    # The selector streams with a server-side cursor; as the first
    # statement of a transaction it runs before the backend has set the
    # tenant for row-level security and sees nothing, so the settings row
    # is read first (reported to the lead).
    with transaction.atomic():
        dispute_settings_get(tenant=tenant)
        invoices = sorted((i for i in invoice_list_for_matching(tenant=tenant)
                           if i.kind == "invoice" and i.issue_date), key=lambda i: i.number)
    if not invoices:
        # The invoicing seeder issues invoices once POs have shipped; run
        # demo_setup again after shipping.
        return {"imported": False}
    first_lines = list(InvoiceLine.objects.filter(tenant=tenant, invoice_id=invoices[0].id)
                       .order_by("line_number").values("asin", "net_unit_cost", "quantity"))
    if not first_lines:
        return {"imported": False}
    data = demo_remittance(invoices=invoices, first_lines=first_lines)
    remittance_import_create(tenant=tenant, data=data, filename="demo-remittance.csv")
    result = deductions_from_remittances(tenant=tenant)
    _return_seed(tenant=tenant, invoice=invoices[0], line=first_lines[0])
    dispute_windows_alert(tenant=tenant)
    return {"imported": True, **result}


def _return_seed(*, tenant, invoice, line) -> None:
    """One unit of the first invoice's first line comes back: stock, a
    returns credit note, matched to the RTV deduction."""
    from acorn.exceptions import ApplicationError
    from inventory.selectors import warehouse_list
    from reconciliation.services.returns import (
        return_credit_note,
        return_receive,
        return_record,
    )

    event, _created = return_record(
        tenant=tenant, source="manual", return_reference=f"DEMO-RTV-{invoice.number}",
        asin=line["asin"], quantity=1, amount=line["net_unit_cost"], currency=invoice.currency,
        return_date=invoice.issue_date + dt.timedelta(days=20),
        purchase_order_number=invoice.purchase_order_number)
    warehouse = warehouse_list(tenant=tenant).first()
    try:
        if warehouse is not None and event.product_id and event.received_at is None:
            return_receive(tenant=tenant, return_id=event.pk, warehouse=warehouse)
        if not event.credit_note_id:
            return_credit_note(tenant=tenant, return_id=event.pk)
    except ApplicationError:
        # Kept on the return (credit_note_error) and shown on its page.
        pass
