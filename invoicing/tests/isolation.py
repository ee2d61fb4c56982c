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


# --- Invoices, credit notes, tax profiles, number series ----------------------


def _invoice(tenant, *, issued=False):
    from acorn.tenancy import tenant_scope
    from invoicing.services.issue import invoice_issue, invoice_recalculate
    from invoicing.tests.factories import InvoiceFactory, InvoiceLineFactory

    with tenant_scope(tenant):
        invoice = InvoiceFactory(tenant=tenant,
                                 purchase_order_number=f"PO{tenant.slug.upper()}"[:20])
        InvoiceLineFactory(invoice=invoice, line_number=1)
        invoice_recalculate(invoice=invoice)
        if issued:
            invoice = invoice_issue(tenant=tenant, invoice_id=invoice.pk)
    return invoice


def _invoice_list(tenant):
    return ProbeTarget(marker=_invoice(tenant).purchase_order_number)


def _invoice_detail(tenant):
    invoice = _invoice(tenant)
    return ProbeTarget(marker=invoice.purchase_order_number, kwargs={"invoice_id": invoice.pk})


def _invoice_post(tenant):
    invoice = _invoice(tenant)
    return ProbeTarget(marker="", method="post", kwargs={"invoice_id": invoice.pk})


def _credit_note_create(tenant):
    invoice = _invoice(tenant, issued=True)
    return ProbeTarget(marker=invoice.number, kwargs={"invoice_id": invoice.pk})


def _credit_note_list(tenant):
    from invoicing.services import credit_note_create

    invoice = _invoice(tenant, issued=True)
    credit_note_create(tenant=tenant, original_invoice_id=invoice.pk, reason="coop",
                       amount=__import__("decimal").Decimal("1.00"),
                       references={"coopReferenceNumber": f"COOP-{tenant.slug}"})
    return ProbeTarget(marker=invoice.purchase_order_number)


def _shipped(tenant):
    from acorn.tenancy import tenant_scope
    from channels.models import Shipment
    from channels.tests.isolation import _shipment

    shipment = _shipment(tenant)
    with tenant_scope(tenant):
        Shipment.objects.filter(pk=shipment.pk).update(status="shipped")
    return shipment


def _invoice_bulk(tenant):
    return ProbeTarget(marker=_shipped(tenant).shipment_identifier)


def _invoice_from_shipment(tenant):
    shipment = _shipped(tenant)
    return ProbeTarget(marker=shipment.shipment_identifier, kwargs={"shipment_id": shipment.pk})


def _tax_profile(tenant):
    from invoicing.services.tax_profiles import tax_profile_create

    return tax_profile_create(tenant=tenant, data={
        "name": f"profile-of-{tenant.slug}", "marketplace_id": "A1PA6795UKMFR9",
        "ship_to_country": "DE", "category": "S", "rate": "19"})


def _tax_profile_list(tenant):
    return ProbeTarget(marker=_tax_profile(tenant).name)


def _tax_profile_edit(tenant):
    profile = _tax_profile(tenant)
    return ProbeTarget(marker=profile.name, kwargs={"profile_id": profile.pk})


def _series(tenant):
    from invoicing.services.series import number_series_create

    return number_series_create(tenant=tenant, code=f"S{tenant.slug.upper()}"[:20],
                                kind="invoice", prefix=f"{tenant.slug[:8]}-")


def _series_list(tenant):
    return ProbeTarget(marker=_series(tenant).code)


def _series_edit(tenant):
    series = _series(tenant)
    return ProbeTarget(marker=series.code, kwargs={"series_id": series.pk})


def _api_invoice_list(tenant):
    return ProbeTarget(marker=f'"purchase_order_number":"{_invoice(tenant).purchase_order_number}"')


def _api_invoice_detail(tenant):
    invoice = _invoice(tenant)
    return ProbeTarget(marker=f'"purchase_order_number":"{invoice.purchase_order_number}"',
                       kwargs={"invoice_id": invoice.pk})


def _api_credit_note_list(tenant):
    _credit_note_list(tenant)
    return ProbeTarget(marker=f'"coopReferenceNumber":"COOP-{tenant.slug}"')


PROBES.update({
    "invoicing:invoice_list": _invoice_list,
    "invoicing:invoice_detail": _invoice_detail,
    "invoicing:invoice_check": _invoice_post,
    "invoicing:invoice_issue": _invoice_post,
    "invoicing:credit_note_create": _credit_note_create,
    "invoicing:credit_note_list": _credit_note_list,
    "invoicing:invoice_bulk": _invoice_bulk,
    "invoicing:invoice_from_shipment": _invoice_from_shipment,
    "invoicing:tax_profile_list": _tax_profile_list,
    "invoicing:tax_profile_edit": _tax_profile_edit,
    "invoicing:series_list": _series_list,
    "invoicing:series_edit": _series_edit,
    "api:invoicing:invoice_list": _api_invoice_list,
    "api:invoicing:invoice_detail": _api_invoice_detail,
    "api:invoicing:credit_note_list": _api_credit_note_list,
})
