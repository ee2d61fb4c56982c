"""Reads of invoice documents (tenant explicit)."""

from __future__ import annotations

from invoicing.models import Invoice, InvoiceRendering


def invoice_get(*, tenant, invoice_id: int) -> Invoice | None:
    return Invoice.objects.filter(tenant=tenant, pk=invoice_id).first()


def rendering_get(*, tenant, invoice_id: int, language: str) -> InvoiceRendering | None:
    return (InvoiceRendering.objects.select_related("invoice")
            .filter(tenant=tenant, invoice_id=invoice_id, language=language).first())


def rendering_list(*, tenant, invoice_id: int) -> list[InvoiceRendering]:
    return list(InvoiceRendering.objects.filter(tenant=tenant, invoice_id=invoice_id)
                .order_by("language", "id"))
