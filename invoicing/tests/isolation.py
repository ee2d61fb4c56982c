"""Cross-tenant probes for invoicing's pages (see tests/isolation.py)."""

from __future__ import annotations

from tests.isolation import ProbeTarget


def _legal_entity(tenant):
    from invoicing.services import legal_entity_set, tax_registration_add

    name = f"Legal name of {tenant.slug}"
    legal_entity_set(tenant=tenant, data={
        "legal_name": name, "address_line1": "1 Probe Street", "city": "Berlin",
        "country_code": "DE",
    })
    tax_registration_add(tenant=tenant, scheme="other", country_code="DE",
                         number=f"TAX-{tenant.slug.upper()}")
    return ProbeTarget(marker=f"TAX-{tenant.slug.upper()}")


def _draft_invoice(tenant):
    from acorn.tenancy import tenant_scope
    from invoicing.tests.factories import InvoiceLineFactory

    with tenant_scope(tenant):
        return InvoiceLineFactory(invoice__tenant=tenant).invoice


def _invoice_submit(tenant):
    # A draft: the POST is refused with a message (nothing reaches Amazon);
    # another tenant's POST must not find the invoice at all (404).
    invoice = _draft_invoice(tenant)
    return ProbeTarget(marker=invoice.purchase_order_number, method="post",
                       kwargs={"invoice_id": invoice.pk})


def _invoice_bulk_submit(tenant):
    invoice = _draft_invoice(tenant)
    return ProbeTarget(marker=invoice.purchase_order_number, method="post",
                       data={"invoice_ids": [str(invoice.pk)]})


PROBES = {
    "invoicing:legal_entity": _legal_entity,
    "invoicing:invoice_submit": _invoice_submit,
    "invoicing:invoice_bulk_submit": _invoice_bulk_submit,
}
