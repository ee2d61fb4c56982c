"""Invoices from shipments through channels' real services: a PO synced
from the sandbox, acknowledged, shipped; the invoice bills the shipped
quantities at the acknowledged cost with the parties of the PO and the
tenant, once per PO and shipment."""

import pytest

from acorn.exceptions import ApplicationError
from acorn.models import AuditEntry
from channels.services.shipments import shipment_create, shipment_ship
from channels.tests.services.test_shipment_pallets import accepted_lines
from invoicing.models import Invoice, InvoiceStatus, TaxProfile
from invoicing.services import (
    invoice_draft_from_shipment,
    invoice_issue_checked,
    invoices_draft_bulk,
    invoices_from_shipment,
    legal_entity_set,
    tax_registration_add,
)
from invoicing.services.tax_profiles import tax_profiles_default_seed

pytestmark = pytest.mark.django_db(transaction=True)


def seller_setup(tenant):
    legal_entity_set(tenant=tenant, data={
        "legal_name": "Acme Tea Inc.", "address_line1": "9 Leaf Road", "city": "Allentown",
        "state_or_region": "PA", "postal_code": "18101", "country_code": "US",
    })
    tax_registration_add(tenant=tenant, scheme="us_sales_tax", country_code="US", state="PA",
                         number="12345678")
    tax_profiles_default_seed(tenant=tenant)


def shipped(live, account, sandbox, fast_retries, *, short_by=0, lot=""):
    """A shipped shipment of an accepted PO; the first line ships
    ``short_by`` units fewer than accepted."""
    warehouse, po, lines = accepted_lines(live, account, sandbox, fast_retries)
    specs = []
    for index, line in enumerate(lines):
        quantity = line.planned_accept - (short_by if index == 0 else 0)
        specs.append({"po_line_id": line.pk, "quantity": quantity, "country_of_origin": "CN",
                      "lot_number": lot})
    shipment = shipment_create(tenant=live, warehouse=warehouse, lines=specs)
    shipment_ship(tenant=live, shipment_id=shipment.pk)
    return shipment, po, lines


def test_invoice_bills_shipped_quantities_at_acknowledged_cost(live, live_account, sandbox,
                                                               fast_retries):
    # Given a shipped PO whose first line shipped 2 short, and the seller set up
    seller_setup(live)
    shipment, po, lines = shipped(live, live_account, sandbox, fast_retries, short_by=2)
    po.refresh_from_db()
    # When the shipment is invoiced
    invoice, created = invoice_draft_from_shipment(tenant=live, shipment_id=shipment.pk,
                                                   purchase_order_id=po.pk)
    # Then one draft bills what shipped, at the acknowledged cost
    assert created and invoice.status == InvoiceStatus.DRAFT and invoice.number == ""
    billed = list(invoice.lines.order_by("line_number"))
    assert [ln.quantity for ln in billed] == (
        [lines[0].planned_accept - 2] + [ln.planned_accept for ln in lines[1:]])
    for line, po_line in zip(billed, lines, strict=True):
        assert line.net_unit_cost == (po_line.ack_net_cost or po_line.net_cost)
        assert line.asin == po_line.asin and line.vendor_sku == po_line.vendor_product_id
        assert (line.lot_number, line.country_of_origin) == ("", "CN")  # from the ASN item
        assert line.gtin == po_line.product.gtin
        assert (line.tax_category, line.tax_rate) == ("O", 0)
    # And the parties come from the tenant and the PO, not from code
    assert invoice.seller["name"] == "Acme Tea Inc."
    assert invoice.seller["tax_numbers"][0]["number"] == "12345678"
    assert invoice.buyer["name"] == po.bill_to["address"]["name"]
    assert invoice.buyer["party_id"] == po.bill_to["partyId"]
    assert invoice.ship_to["party_id"] == po.ship_to["partyId"]
    assert invoice.tax_profile.marketplace_id == live_account.marketplace_id
    assert invoice.tax_inclusive_total == sum(ln.line_net_amount for ln in billed)
    # And the check warns about the short line but blocks nothing
    codes = {(f["level"], f["code"]) for f in invoice.check_results}
    assert ("warn", "quantity_under_shipped") not in codes  # billed == shipped
    assert not [f for f in invoice.check_results if f["level"] == "block"]
    assert AuditEntry.objects.filter(object_type__icontains="invoice").exists()
    # When it is issued
    issued = invoice_issue_checked(tenant=live, invoice_id=invoice.pk)
    assert issued.status == InvoiceStatus.ISSUED and issued.number == "INV-000001"


def test_same_po_and_shipment_never_get_two_live_invoices(live, live_account, sandbox,
                                                          fast_retries):
    seller_setup(live)
    shipment, po, _lines = shipped(live, live_account, sandbox, fast_retries)
    first = invoices_from_shipment(tenant=live, shipment_id=shipment.pk)
    again = invoices_from_shipment(tenant=live, shipment_id=shipment.pk)
    assert [r.created for r in first] == [True]
    assert [r.created for r in again] == [False]
    assert again[0].invoice.pk == first[0].invoice.pk
    assert Invoice.objects.filter(shipment=shipment).count() == 1
    # And the database refuses a second live one written past the service
    from django.db import IntegrityError, transaction

    original = first[0].invoice
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            tenant=live, kind="invoice", series=original.series, currency="USD",
            account=original.account, purchase_order=po, shipment=shipment,
        )


def test_no_matching_tax_profile_is_a_clear_error_per_po(live, live_account, sandbox,
                                                         fast_retries):
    seller_setup(live)
    TaxProfile.objects.filter(tenant=live, marketplace_id=live_account.marketplace_id).delete()
    shipment, po, _lines = shipped(live, live_account, sandbox, fast_retries)
    with pytest.raises(ApplicationError, match="No tax profile matches marketplace"):
        invoice_draft_from_shipment(tenant=live, shipment_id=shipment.pk,
                                    purchase_order_id=po.pk)
    (result,) = invoices_draft_bulk(tenant=live, pairs=[(shipment.pk, po.pk)])
    assert result.invoice is None and "ATVPDKIKX0DER" in result.error
    assert not Invoice.objects.exists()


def test_draft_shipment_is_not_invoiced(live, live_account, sandbox, fast_retries):
    seller_setup(live)
    warehouse, po, lines = accepted_lines(live, live_account, sandbox, fast_retries)
    shipment = shipment_create(tenant=live, warehouse=warehouse, lines=[
        {"po_line_id": ln.pk, "quantity": ln.planned_accept} for ln in lines])
    with pytest.raises(ApplicationError, match="has not shipped yet"):
        invoice_draft_from_shipment(tenant=live, shipment_id=shipment.pk,
                                    purchase_order_id=po.pk)
