"""The pre-send check over a real shipped PO: each mismatch type gives its
finding on the exact line, blocks issuing where it must, and warnings do
not block."""

from decimal import Decimal

import pytest

from acorn.exceptions import ApplicationError
from invoicing.models import InvoiceLine, InvoiceStatus, NumberSeries
from invoicing.services import (
    finding_text,
    invoice_check,
    invoice_draft_from_shipment,
    invoice_issue_checked,
)
from invoicing.tests.services.test_invoice_from_shipment import seller_setup, shipped

pytestmark = pytest.mark.django_db(transaction=True)


def _draft(live, account, sandbox, fast_retries, **options):
    seller_setup(live)
    shipment, po, lines = shipped(live, account, sandbox, fast_retries, **options)
    invoice, _created = invoice_draft_from_shipment(tenant=live, shipment_id=shipment.pk,
                                                    purchase_order_id=po.pk)
    return invoice, list(invoice.lines.order_by("line_number"))


def _codes(invoice):
    return {(f["level"], f["code"], f["line"]) for f in invoice.check_results}


def test_each_mismatch_is_found_on_its_line_and_blocks_issuing(live, live_account, sandbox,
                                                               fast_retries):
    invoice, lines = _draft(live, live_account, sandbox, fast_retries)
    assert len(lines) >= 3, "the sandbox PO needs three lines for this test"
    first, second, third = lines[:3]
    # When ops edit the draft: a wrong cost, a wrong unit and case pack, one unit too many
    InvoiceLine.objects.filter(pk=first.pk).update(net_unit_cost=first.net_unit_cost
                                                   + Decimal("0.50"))
    InvoiceLine.objects.filter(pk=second.pk).update(unit_of_measure="Cases", unit_size=6)
    InvoiceLine.objects.filter(pk=third.pk).update(quantity=third.quantity + 1)
    checked = invoice_check(tenant=live, invoice_id=invoice.pk)
    # Then each finding names its line
    codes = _codes(checked)
    assert ("block", "net_cost_mismatch", first.line_number) in codes
    assert ("block", "unit_of_measure_mismatch", second.line_number) in codes
    assert ("block", "case_pack_mismatch", second.line_number) in codes
    assert ("block", "quantity_over_shipped", third.line_number) in codes
    assert ("block", "quantity_over_acknowledged", third.line_number) in codes
    cost = next(f for f in checked.check_results if f["code"] == "net_cost_mismatch")
    assert cost["params"]["invoiced"] == str(first.net_unit_cost + Decimal("0.50"))
    assert "differs from the acknowledged cost" in finding_text(cost)
    # And issuing is refused, the findings stay and no number is used
    with pytest.raises(ApplicationError, match="blocking problem"):
        invoice_issue_checked(tenant=live, invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT and invoice.check_results
    assert NumberSeries.objects.get(code="INV").next_number == 1


def test_a_line_removed_from_the_invoice_is_a_warning(live, live_account, sandbox,
                                                      fast_retries):
    invoice, lines = _draft(live, live_account, sandbox, fast_retries)
    dropped = lines[-1]
    InvoiceLine.objects.filter(pk=dropped.pk).delete()
    checked = invoice_check(tenant=live, invoice_id=invoice.pk)
    shipped_not_invoiced = [f for f in checked.check_results
                            if f["code"] == "shipped_not_invoiced"]
    assert shipped_not_invoiced[0]["level"] == "warn"
    assert shipped_not_invoiced[0]["params"]["sequence"] == dropped.item_sequence_number
    # Warnings alone do not block issuing
    issued = invoice_issue_checked(tenant=live, invoice_id=invoice.pk)
    assert issued.status == InvoiceStatus.ISSUED


def test_fewer_units_than_shipped_warn(live, live_account, sandbox, fast_retries):
    invoice, lines = _draft(live, live_account, sandbox, fast_retries)
    InvoiceLine.objects.filter(pk=lines[0].pk).update(quantity=lines[0].quantity - 1)
    checked = invoice_check(tenant=live, invoice_id=invoice.pk)
    assert ("warn", "quantity_under_shipped", lines[0].line_number) in _codes(checked)
    assert not [f for f in checked.check_results if f["level"] == "block"]


def test_a_line_not_on_the_po_blocks(live, live_account, sandbox, fast_retries):
    invoice, lines = _draft(live, live_account, sandbox, fast_retries)
    InvoiceLine.objects.filter(pk=lines[0].pk).update(po_line=None)
    InvoiceLine.objects.filter(pk=lines[1].pk).update(purchase_order_number="OTHERPO1")
    codes = _codes(invoice_check(tenant=live, invoice_id=invoice.pk))
    assert ("block", "line_not_on_po", lines[0].line_number) in codes
    assert ("block", "po_number_mismatch", lines[1].line_number) in codes
