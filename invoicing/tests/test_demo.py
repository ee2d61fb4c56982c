"""invoicing.demo.seed: the demo brand's legal entity, tax number and tax
profiles once; with shipped POs, a couple of issued invoices."""

import pytest

from acorn.tenancy import tenant_scope
from invoicing.demo import invoices_seed, seed
from invoicing.models import Invoice, LegalEntity, TaxProfile, TaxRegistration


@pytest.mark.django_db
def test_demo_seed_is_idempotent(tenant_a):
    with tenant_scope(tenant_a):
        seed(tenant=tenant_a)
        seed(tenant=tenant_a)
        assert LegalEntity.objects.get().legal_name == "ACORN Demo Brand Inc."
        assert list(TaxRegistration.objects.values_list("state", "number")) == [("PA", "12345678")]
        assert sorted(TaxProfile.objects.values_list("category", flat=True)) == ["K", "O", "S"]
        assert not Invoice.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_demo_issues_invoices_for_shipped_pos(live, live_account, sandbox, fast_retries):
    from invoicing.tests.services.test_invoice_from_shipment import shipped

    seed(tenant=live)
    shipped(live, live_account, sandbox, fast_retries)
    issued = invoices_seed(tenant=live)
    assert [invoice.number for invoice in issued] == ["INV-000001"]
    assert invoices_seed(tenant=live) == []
    assert Invoice.objects.count() == 1
