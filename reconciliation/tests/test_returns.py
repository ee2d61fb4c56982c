"""The returns loop over real parts: a return report line -> the RTV
deduction it paid for -> stock back through inventory's ledger -> a
returns credit note through invoicing."""

import datetime as dt
from decimal import Decimal

import pytest

from acorn.exceptions import ApplicationError
from acorn.tenancy import tenant_scope
from inventory.tests.factories import ProductFactory, WarehouseFactory
from invoicing.services.issue import invoice_issue, invoice_recalculate
from invoicing.tests.factories import InvoiceFactory, InvoiceLineFactory
from reconciliation.deduction_models import DeductionType, ReturnEvent
from reconciliation.services.returns import (
    return_credit_note,
    return_receive,
    return_record,
    returns_report_import,
)
from reconciliation.tests.isolation_deductions import deduction_make

REPORT = (
    "\ufeffReturn ID,Purchase Order,ASIN,Quantity,Cost,Currency,Return Date\n"
    "RET-501,PO777,B000000001,3,29.97,EUR,2026-01-10\n"
).encode()


@pytest.fixture
def issued(tenant_a):
    with tenant_scope(tenant_a):
        invoice = InvoiceFactory(tenant=tenant_a, purchase_order_number="PO777")
        InvoiceLineFactory(invoice=invoice, line_number=1, quantity=10, asin="B000000001",
                           net_unit_cost=Decimal("9.99"))
        invoice_recalculate(invoice=invoice)
        return invoice_issue(tenant=tenant_a, invoice_id=invoice.pk)


@pytest.mark.django_db
def test_report_return_matches_rtv_deduction_stock_and_credit_note(tenant_a, issued):
    from inventory.models import StockMovement

    rtv = deduction_make(tenant_a, reference="RTV-PO777", deduction_type=DeductionType.RETURN,
                         currency="EUR", amount="29.97", purchase_order_number="PO777")
    with tenant_scope(tenant_a):
        product = ProductFactory(tenant=tenant_a)
        warehouse = WarehouseFactory(tenant=tenant_a)
        result = returns_report_import(tenant=tenant_a, data=REPORT)
        assert result == {"created": 1, "skipped": 0, "errors": []}
        assert returns_report_import(tenant=tenant_a, data=REPORT)["skipped"] == 1
        event = ReturnEvent.objects.get()
        assert event.deduction_id == rtv.pk and event.quantity == 3
        # No product on the PO mapping: receiving says why instead of guessing.
        with pytest.raises(ApplicationError, match="no product"):
            return_receive(tenant=tenant_a, return_id=event.pk, warehouse=warehouse)
        event.product = product
        event.save()
        received = return_receive(tenant=tenant_a, return_id=event.pk, warehouse=warehouse)
        again = return_receive(tenant=tenant_a, return_id=event.pk, warehouse=warehouse)
        assert received.stock_movement_ids == again.stock_movement_ids
        movement = StockMovement.objects.get(pk=received.stock_movement_ids[0])
        assert (movement.kind, movement.quantity) == ("return", 3)
        with_credit = return_credit_note(tenant=tenant_a, return_id=event.pk)
        credit = with_credit.credit_note
        assert credit.kind == "credit_note" and credit.original_invoice_id == issued.pk
        assert credit.credit_reason == "return" and credit.line_total == Decimal("29.97")
        assert credit.credit_references["returnsReferenceNumber"] == "RET-501"
        assert return_credit_note(tenant=tenant_a, return_id=event.pk).credit_note_id == credit.pk


@pytest.mark.django_db
def test_bad_report_rows_change_nothing(tenant_a):
    bad = REPORT + b"RET-502,PO777,B000000001,three,1.00,EUR,2026-01-10\n"
    with tenant_scope(tenant_a):
        result = returns_report_import(tenant=tenant_a, data=bad)
        assert result["created"] == 0
        assert result["errors"] == [{"line": 3, "field": "quantity",
                                     "message": "not a whole number of units"}]
        assert not ReturnEvent.objects.exists()


@pytest.mark.django_db
def test_credit_note_refusal_is_kept_on_the_return(tenant_a):
    with tenant_scope(tenant_a):
        event, _ = return_record(tenant=tenant_a, source="manual", return_reference="RET-9",
                                 asin="B0NOTBILLED", quantity=1, amount="1", currency="EUR",
                                 return_date=dt.date(2026, 1, 1), purchase_order_number="PO1")
        with pytest.raises(ApplicationError):
            return_credit_note(tenant=tenant_a, return_id=event.pk)
        event.refresh_from_db()
        assert "No issued invoice" in event.credit_note_error
