"""Demo data of the invoicing app: the demo brand's legal entity."""

from __future__ import annotations

from invoicing.selectors import legal_entity_get, tax_registration_list
from invoicing.services import legal_entity_set, tax_registration_add

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


def seed(*, tenant) -> None:
    if legal_entity_get(tenant=tenant) is None:
        legal_entity_set(tenant=tenant, data=DEMO_ENTITY)
    if not tax_registration_list(tenant=tenant).exists():
        tax_registration_add(tenant=tenant, **DEMO_TAX_NUMBER)
