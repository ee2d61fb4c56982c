"""Invoicing tests build on channels' real flow: the sandbox, its LWA
grant and accounts pointing at it (the same fixtures channels uses)."""

import pytest

from acorn.tenancy import tenant_scope
from channels.tests.conftest import (  # noqa: F401 (fixtures)
    fast_retries,
    grant,
    live,
    live_account,
    sandbox,
    scope,
    tenant,
)


@pytest.fixture
def in_tenant_a(tenant_a):
    """Tenant A in context, for the test's own reads (views and the API
    enter theirs from the URL or the key)."""
    with tenant_scope(tenant_a):
        yield tenant_a
