"""reconciliation.demo.seed: a remittance from the demo's own invoices
imports once, its deductions get windows, and the return becomes stock, a
credit note and a matched deduction."""

import pytest

from channels.tests.conftest import (  # noqa: F401 (fixtures)
    fast_retries,
    grant,
    live,
    live_account,
    sandbox,
    scope,
    tenant,
)
from reconciliation.deduction_models import Deduction, ReturnEvent
from reconciliation.demo import seed
from reconciliation.models import Payment, RemittanceImport


@pytest.mark.django_db
def test_without_invoices_the_seed_does_nothing(tenant_a):
    from acorn.tenancy import tenant_scope

    with tenant_scope(tenant_a):
        assert seed(tenant=tenant_a) == {"imported": False}
        assert not RemittanceImport.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_demo_remittance_from_the_demos_invoices(live, live_account, sandbox, fast_retries):  # noqa: F811
    from invoicing import demo as invoicing_demo
    from invoicing.tests.services.test_invoice_from_shipment import shipped

    invoicing_demo.seed(tenant=live)
    shipped(live, live_account, sandbox, fast_retries)
    [invoice] = invoicing_demo.invoices_seed(tenant=live)
    result = seed(tenant=live)
    assert result["imported"] and result["created"] == 3
    assert seed(tenant=live)["created"] == 0
    assert RemittanceImport.objects.count() == 1 and Payment.objects.count() == 1
    payment = Payment.objects.get()
    assert payment.is_balanced
    types = dict(Deduction.objects.values_list("deduction_type", "reference"))
    assert types == {"shortage": f"{invoice.number}SC", "return": f"{invoice.number}RTV",
                     "chargeback": "8840021VCBSINV"}
    assert all(d.dispute_due_date for d in Deduction.objects.all())
    event = ReturnEvent.objects.get()
    assert event.deduction.deduction_type == "return"
    assert event.received_at is not None and event.stock_movement_ids
    assert event.credit_note.original_invoice_id == invoice.pk
