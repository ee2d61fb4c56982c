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


def _rendered_invoice(tenant):
    from invoicing.documents.render import invoice_render
    from invoicing.tests.document_cases import issued_case

    invoice = issued_case(tenant, "eu_domestic_s", lines=1)
    rendering = invoice_render(tenant=tenant, invoice_id=invoice.pk, language="en")
    assert rendering.status == "ok", rendering.reason
    return invoice


def _invoice_documents(tenant):
    invoice = _rendered_invoice(tenant)
    return ProbeTarget(marker=invoice.number, kwargs={"invoice_id": invoice.pk})


def _invoice_render(tenant):
    invoice = _rendered_invoice(tenant)
    return ProbeTarget(marker=invoice.number, kwargs={"invoice_id": invoice.pk},
                       method="post", data={"language": "de"})


def _invoice_pdf(tenant):
    invoice = _rendered_invoice(tenant)
    return ProbeTarget(marker="%PDF-", kwargs={"invoice_id": invoice.pk, "language": "en"})


def _invoice_xml(tenant):
    invoice = _rendered_invoice(tenant)
    return ProbeTarget(marker=f"<ram:ID>{invoice.number}</ram:ID>",
                       kwargs={"invoice_id": invoice.pk, "language": "en"})


def _document_settings(tenant):
    from invoicing.documents.settings import document_settings_set

    marker = f"Registered at the court of {tenant.slug}"
    document_settings_set(tenant=tenant, actor=None, footer_text=marker,
                          default_language="de")
    return ProbeTarget(marker=marker)


PROBES = {
    "invoicing:legal_entity": _legal_entity,
    "invoicing:document_settings": _document_settings,
    "invoicing:invoice_documents": _invoice_documents,
    "invoicing:invoice_render": _invoice_render,
    "invoicing:invoice_pdf": _invoice_pdf,
    "invoicing:invoice_xml": _invoice_xml,
}
