"""Issued invoices and credit notes for reconciliation tests (the records
invoicing keeps; their totals set as issuing would have)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from acorn.tenancy import tenant_scope
from invoicing.models import CreditReason, DocumentKind, InvoiceStatus
from invoicing.tests.factories import InvoiceFactory


def issued_document(*, tenant, number: str, amount: str, currency: str = "USD",
                    purchase_order_number: str = "", kind: str = DocumentKind.INVOICE,
                    issue_date: dt.date | None = None, due_date: dt.date | None = None,
                    account=None):
    extra = {"account": account} if account is not None else {}
    with tenant_scope(tenant):
        return InvoiceFactory(
            tenant=tenant, kind=kind, status=InvoiceStatus.ISSUED, number=number,
            currency=currency, amount_due=Decimal(amount),
            tax_inclusive_total=Decimal(amount),
            purchase_order_number=purchase_order_number or f"PO-{number}",
            issue_date=issue_date or dt.date(2025, 12, 1), payment_due_date=due_date,
            credit_reason=CreditReason.PRICE if kind == DocumentKind.CREDIT_NOTE else "",
            **extra,
        )
