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


def test_a_shipment_with_two_pos_gives_two_invoices(live, live_account, sandbox, fast_retries):
    from channels.models import AckAutoSend, AckStatus, Gs1Settings, PurchaseOrder
    from channels.services.purchase_orders import purchase_orders_sync
    from channels.services.submissions import submissions_poll
    from channels.tests.services.test_acknowledgement_flow import stock_catalog

    # Given two accepted POs for the same fulfilment centre, shipped together
    seller_setup(live)
    sandbox.state.vendors["DEMO1"].ship_to = ("ABE2",)
    sandbox.state.generate(vendor_code="DEMO1", count=2, days=1)
    warehouse, _products = stock_catalog(live, live_account, sandbox)
    live_account.ack_auto_send = AckAutoSend.ALWAYS
    live_account.save()
    Gs1Settings.objects.create(tenant=live, company_prefix="0614141", extension_digit=3)
    purchase_orders_sync(tenant=live, account=live_account, **fast_retries)
    submissions_poll(tenant=live)
    pos = list(PurchaseOrder.objects.filter(ack_status=AckStatus.ACCEPTED).order_by("number"))
    assert len(pos) == 2
    specs = [{"po_line_id": line.pk, "quantity": line.planned_accept}
             for po in pos for line in po.lines.filter(planned_accept__gt=0)]
    shipment = shipment_create(tenant=live, warehouse=warehouse, lines=specs)
    shipment_ship(tenant=live, shipment_id=shipment.pk)
    # When the shipment is invoiced
    results = invoices_from_shipment(tenant=live, shipment_id=shipment.pk)
    # Then each PO gets its own invoice with only its own lines
    assert sorted(r.purchase_order_number for r in results) == [po.number for po in pos]
    for result in results:
        assert result.created and not result.error
        numbers = set(result.invoice.lines.values_list("purchase_order_number", flat=True))
        assert numbers == {result.purchase_order_number}


def test_concurrent_requests_make_one_invoice(live, live_account, sandbox, fast_retries):
    """Four clicks at once: one draft; the others answer with it (the
    partial unique constraint settles the race, not a read before write)."""
    import threading

    from django.db import connection

    seller_setup(live)
    shipment, po, _lines = shipped(live, live_account, sandbox, fast_retries)
    barrier = threading.Barrier(4)
    outcomes, errors = [], []

    def draft():
        try:
            barrier.wait()
            outcomes.append(invoice_draft_from_shipment(
                tenant=live, shipment_id=shipment.pk, purchase_order_id=po.pk))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=draft) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(created for _invoice, created in outcomes) == [False, False, False, True]
    assert len({invoice.pk for invoice, _created in outcomes}) == 1
    assert Invoice.objects.filter(shipment=shipment).count() == 1
