"""Services enter their tenant's scope (and one transaction) themselves,
so a caller from a view, a task or a test gets the same walls."""

from __future__ import annotations

import functools

from acorn.tenancy import tenant_scope


def in_tenant_scope(func):
    @functools.wraps(func)
    def wrapper(*args, tenant, **kwargs):
        with tenant_scope(tenant):
            return func(*args, tenant=tenant, **kwargs)

    return wrapper
