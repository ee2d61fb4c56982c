"""Drafts get their amounts from their lines; issuing gives the number.

Numbers are gap-free per tenant and series: the series row is locked and
advanced in the transaction that issues the document, so a failed issue
rolls the counter back with it, and concurrent issues queue on the lock
(they never share or skip a number). Drafts have no number.
"""

from __future__ import annotations

import zoneinfo

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from acorn.exceptions import ApplicationError, ConflictError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record
from acorn.tenancy import tenant_scope
from invoicing.models import (
    DocumentKind,
    Invoice,
    InvoiceStatus,
    InvoiceTaxLine,
    NumberSeries,
)
from invoicing.services.totals import AllowanceChargeInput, LineInput, totals_compute

DEFAULT_SERIES = {
    DocumentKind.INVOICE: ("INV", "INV-"),
    DocumentKind.CREDIT_NOTE: ("CN", "CN-"),
}
NOT_DRAFT = gettext_noop("%(number)s is already issued: issued documents do not change.")
NO_LINES = gettext_noop("A document needs at least one line before it is issued.")


def _actor_label(actor) -> str:
    return (getattr(actor, "get_username", lambda: "")() or "system")[:200]


@transaction.atomic
def number_series_default(*, tenant, kind: str) -> NumberSeries:
    """The tenant's default series for ``kind``, created on first use."""
    series = NumberSeries.objects.filter(tenant=tenant, kind=kind, is_default=True).first()
    if series is None:
        code, prefix = DEFAULT_SERIES[DocumentKind(kind)]
        series, _created = NumberSeries.objects.get_or_create(
            tenant=tenant, code=code,
            defaults={"kind": kind, "prefix": prefix, "is_default": True},
        )
    return series


@transaction.atomic
def invoice_recalculate(*, invoice: Invoice) -> Invoice:
    """Store line amounts, the VAT breakdown and totals of a draft."""
    if invoice.status != InvoiceStatus.DRAFT:
        raise ConflictError(_(NOT_DRAFT) % {"number": invoice.number})
    lines = list(invoice.lines.order_by("line_number", "id"))
    extras = list(invoice.allowance_charges.all())
    totals = totals_compute(
        currency=invoice.currency,
        lines=[LineInput(line.quantity, line.net_unit_cost, line.tax_category, line.tax_rate)
               for line in lines],
        allowance_charges=[AllowanceChargeInput(x.is_charge, x.amount, x.tax_category,
                                                x.tax_rate) for x in extras],
    )
    for line, amount in zip(lines, totals.line_amounts, strict=True):
        if line.line_net_amount != amount:
            line.line_net_amount = amount
            line.save(update_fields=["line_net_amount", "updated_at"])
    profile = invoice.tax_profile
    InvoiceTaxLine.objects.filter(tenant=invoice.tenant, invoice=invoice).delete()
    InvoiceTaxLine.objects.bulk_create([
        InvoiceTaxLine(
            tenant=invoice.tenant, invoice=invoice, category=b.category, rate=b.rate,
            taxable_amount=b.taxable_amount, tax_amount=b.tax_amount,
            exemption_reason_code=(profile.exemption_reason_code
                                   if profile and profile.category == b.category else ""),
            exemption_reason=(profile.exemption_reason
                              if profile and profile.category == b.category else ""),
        )
        for b in totals.breakdown
    ])
    for name in ("line_total", "allowance_total", "charge_total", "tax_exclusive_total",
                 "tax_total", "tax_inclusive_total", "amount_due"):
        setattr(invoice, name, getattr(totals, name))
    invoice.save()
    return invoice


@transaction.atomic
def invoice_issue(*, tenant, invoice_id: int, actor=None, issue_date=None) -> Invoice:
    """Give a draft its number and date and freeze it."""
    with tenant_scope(tenant):
        invoice = Invoice.objects.select_for_update().filter(tenant=tenant, pk=invoice_id).first()
        if invoice is None:
            raise NotFoundError(_("No such invoice."))
        if invoice.status != InvoiceStatus.DRAFT:
            raise ConflictError(_(NOT_DRAFT) % {"number": invoice.number})
        if not invoice.lines.exists():
            raise ApplicationError(_(NO_LINES))
        invoice_recalculate(invoice=invoice)
        series = NumberSeries.objects.select_for_update().get(tenant=tenant, pk=invoice.series_id)
        number = series.format(series.next_number)
        NumberSeries.objects.filter(pk=series.pk).update(
            next_number=F("next_number") + 1, updated_at=timezone.now()
        )
        local_today = timezone.now().astimezone(zoneinfo.ZoneInfo(tenant.timezone)).date()
        invoice.number = number
        invoice.issue_date = issue_date or local_today
        invoice.status = InvoiceStatus.ISSUED
        invoice.issued_at = timezone.now()
        invoice.issued_by_label = _actor_label(actor)
        invoice.full_clean(exclude=["tenant", "series", "account", "purchase_order",
                                    "shipment", "tax_profile", "original_invoice"])
        invoice.save()
        audit_record(
            actor=actor, action=AuditAction.ACTION, instance=invoice,
            summary=f"{invoice.get_kind_display()} {number} issued",
            after={"number": number, "total": str(invoice.tax_inclusive_total)},
        )
    return invoice
