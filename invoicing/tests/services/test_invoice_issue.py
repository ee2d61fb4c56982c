"""Issuing gives gap-free numbers per tenant and series, atomically."""

import threading

import pytest
from django.db import connection

from acorn.exceptions import ApplicationError, ConflictError
from acorn.tenancy import tenant_scope
from invoicing.models import Invoice, InvoiceStatus, NumberSeries
from invoicing.services import invoice_issue
from invoicing.tests.factories import InvoiceFactory, InvoiceLineFactory, NumberSeriesFactory


@pytest.mark.django_db
def test_issue_numbers_drafts_in_order_and_freezes_them(tenant_a):
    with tenant_scope(tenant_a):
        series = NumberSeriesFactory(tenant=tenant_a, prefix="INV-2026-", padding=4)
        first = InvoiceLineFactory(invoice__tenant=tenant_a, invoice__series=series).invoice
        second = InvoiceLineFactory(invoice__tenant=tenant_a, invoice__series=series).invoice
    issued = invoice_issue(tenant=tenant_a, invoice_id=second.pk)
    assert (issued.number, issued.status) == ("INV-2026-0001", InvoiceStatus.ISSUED)
    # 10 x 9.99 = 99.90, VAT 19 % = 18.981 -> 18.98
    assert str(issued.tax_inclusive_total.normalize()) == "118.88"
    assert invoice_issue(tenant=tenant_a, invoice_id=first.pk).number == "INV-2026-0002"
    with pytest.raises(ConflictError, match="already issued"):
        invoice_issue(tenant=tenant_a, invoice_id=first.pk)


@pytest.mark.django_db
def test_a_refused_issue_takes_no_number(tenant_a):
    with tenant_scope(tenant_a):
        series = NumberSeriesFactory(tenant=tenant_a, prefix="X-", padding=1)
        empty = InvoiceFactory(tenant=tenant_a, series=series)
        full = InvoiceLineFactory(invoice__tenant=tenant_a, invoice__series=series).invoice
    with pytest.raises(ApplicationError, match="at least one line"):
        invoice_issue(tenant=tenant_a, invoice_id=empty.pk)
    assert invoice_issue(tenant=tenant_a, invoice_id=full.pk).number == "X-1"


@pytest.mark.django_db
def test_the_totals_are_computed_when_issued(tenant_a):
    from decimal import Decimal as D

    with tenant_scope(tenant_a):
        line = InvoiceLineFactory(invoice__tenant=tenant_a, quantity=3,
                                  net_unit_cost=D("9.995"), tax_rate=D("19"))
    invoice = invoice_issue(tenant=tenant_a, invoice_id=line.invoice_id)
    assert (invoice.line_total, invoice.tax_total, invoice.amount_due) == (
        D("29.99"), D("5.70"), D("35.69"))
    with tenant_scope(tenant_a):
        assert [(t.taxable_amount, t.tax_amount) for t in invoice.tax_lines.all()] == [
            (D("29.99"), D("5.70"))]


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_issues_give_twenty_consecutive_numbers(tenant_a):
    with tenant_scope(tenant_a):
        series = NumberSeriesFactory(tenant=tenant_a, prefix="C-", padding=3)
        ids = [InvoiceLineFactory(invoice__tenant=tenant_a, invoice__series=series).invoice_id
               for _ in range(20)]
    barrier = threading.Barrier(20)
    errors = []

    def issue(invoice_id):
        try:
            barrier.wait()
            invoice_issue(tenant=tenant_a, invoice_id=invoice_id)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(pk,)) for pk in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with tenant_scope(tenant_a):
        numbers = sorted(Invoice.objects.values_list("number", flat=True))
        assert NumberSeries.objects.get(pk=series.pk).next_number == 21
    assert numbers == [f"C-{n:03d}" for n in range(1, 21)]
