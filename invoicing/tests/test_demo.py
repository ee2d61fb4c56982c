"""invoicing.demo.seed: the demo brand's legal entity and tax number, once."""

import pytest

from acorn.tenancy import tenant_scope
from invoicing.demo import seed
from invoicing.models import LegalEntity, TaxRegistration


@pytest.mark.django_db
def test_demo_seed_is_idempotent(tenant_a):
    with tenant_scope(tenant_a):
        seed(tenant=tenant_a)
        seed(tenant=tenant_a)
        assert LegalEntity.objects.get().legal_name == "ACORN Demo Brand Inc."
        assert list(TaxRegistration.objects.values_list("state", "number")) == [("PA", "12345678")]
