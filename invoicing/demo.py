"""Demo data of the invoicing app: the demo brand's legal entity, its tax
number, the default tax profiles and, where the demo already has shipped
POs (run ``demo_setup`` again after shipping some), a couple of issued
invoices so the pages show data. Idempotent."""

from __future__ import annotations

from invoicing.selectors import (
    invoice_list,
    legal_entity_get,
    tax_registration_list,
    uninvoiced_shipped_purchase_orders,
)
from invoicing.services import legal_entity_set, tax_registration_add
from invoicing.services.checks import blocking, invoice_issue_checked
from invoicing.services.drafts import invoices_draft_bulk
from invoicing.services.tax_profiles import tax_profiles_default_seed

DEMO_ENTITY = {
    "legal_name": "ACORN Demo Brand Inc.",
    "address_line1": "1 Demo Street",
    "city": "Allentown",
    "state_or_region": "PA",
    "postal_code": "18101",
    "country_code": "US",
    "email": "billing@demo.example",
}
# A Pennsylvania sales tax licence number in the state's 8-digit form.
DEMO_TAX_NUMBER = {"scheme": "us_sales_tax", "country_code": "US", "state": "PA",
                   "number": "12345678"}
DEMO_INVOICES = 2


def seed(*, tenant) -> None:
    if legal_entity_get(tenant=tenant) is None:
        legal_entity_set(tenant=tenant, data=DEMO_ENTITY)
    if not tax_registration_list(tenant=tenant).exists():
        tax_registration_add(tenant=tenant, **DEMO_TAX_NUMBER)
    tax_profiles_default_seed(tenant=tenant)
    invoices_seed(tenant=tenant)


def invoices_seed(*, tenant, count: int = DEMO_INVOICES) -> list:
    """Invoice and issue up to ``count`` shipped POs, once (a tenant that
    has invoices already is left alone). Drafts the check blocks stay
    drafts, so the demo shows what the check finds."""
    if invoice_list(tenant=tenant).exists():
        return []
    rows = uninvoiced_shipped_purchase_orders(tenant=tenant)[:count]
    results = invoices_draft_bulk(
        tenant=tenant,
        pairs=[(row["shipment_id"], row["po_line__purchase_order_id"]) for row in rows],
    )
    issued = []
    for result in results:
        if result.invoice is not None and not blocking(result.invoice.check_results):
            issued.append(invoice_issue_checked(tenant=tenant, invoice_id=result.invoice.pk))
    return issued
