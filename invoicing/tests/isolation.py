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


PROBES = {
    "invoicing:legal_entity": _legal_entity,
}
