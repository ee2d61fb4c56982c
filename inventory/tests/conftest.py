import pytest

from acorn.tenancy import tenant_scope
from acorn.tests.factories import TenantFactory
from inventory.tests.factories import ProductFactory, WarehouseFactory


@pytest.fixture
def tenant(db):
    return TenantFactory(slug="acme", name="Acme")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(slug="globex", name="Globex")


@pytest.fixture
def scope(tenant):
    """The test body runs in ``tenant``'s scope (as a request would)."""
    with tenant_scope(tenant):
        yield tenant


@pytest.fixture
def warehouse(scope):
    return WarehouseFactory(tenant=scope, code="MAIN")


@pytest.fixture
def product(scope):
    return ProductFactory(tenant=scope, sku="ABC-1")
