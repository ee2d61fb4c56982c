"""The tenant context: who the current code works for.

One context variable holds the current tenant. The default manager of
every tenant-owned model refuses to query without it (fail closed); the
PostgreSQL backend copies it into each transaction for row-level security
(fail closed again). Dashboards, the API and Celery tasks enter the context
through ``tenant_scope`` and always leave it.
"""

from __future__ import annotations

import contextvars
import functools
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import models, transaction


class TenantContextMissing(RuntimeError):
    """A tenant-owned table was queried with no tenant in context."""


@dataclass(frozen=True, slots=True)
class TenantRef:
    id: int
    slug: str


_current_tenant: contextvars.ContextVar[TenantRef | None] = contextvars.ContextVar(
    "acorn_current_tenant", default=None
)


def current_tenant_id() -> int | None:
    ref = _current_tenant.get()
    return ref.id if ref else None


def current_tenant() -> TenantRef | None:
    return _current_tenant.get()


def require_tenant_id() -> int:
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise TenantContextMissing(
            "No tenant in context: enter tenant_scope(tenant) first, or use "
            "Model.all_tenants / .unscoped() deliberately."
        )
    return tenant_id


@contextmanager
def tenant_scope(tenant, *, atomic: bool = True):
    """Run the block for ``tenant``; restore the previous context after.

    With ``atomic`` (the default) the block is one transaction, so the
    database sees the tenant for everything it runs.
    """
    ref = TenantRef(id=tenant.pk, slug=tenant.slug)
    token = _current_tenant.set(ref)
    try:
        if atomic:
            with transaction.atomic():
                yield tenant
        else:
            yield tenant
    finally:
        _current_tenant.reset(token)


@contextmanager
def no_tenant():
    """Clear the tenant for a block (platform work across tenants)."""
    token = _current_tenant.set(None)
    try:
        yield
    finally:
        _current_tenant.reset(token)


class TenantQuerySet(models.QuerySet):
    pass


class TenantScopedManager(models.Manager.from_queryset(TenantQuerySet)):
    """Filters by the current tenant; raises when there is none."""

    def get_queryset(self):
        tenant_id = require_tenant_id()
        return super().get_queryset().filter(tenant_id=tenant_id)

    def unscoped(self):
        """Every tenant's rows. A visible, greppable escape hatch."""
        return super().get_queryset()


class AllTenantsManager(models.Manager.from_queryset(TenantQuerySet)):
    """Every tenant's rows: admin, migrations and Django internals only."""


def tenant_task(func):
    """Celery task body decorator: enter the scope of ``tenant_id``.

    Tasks take ``tenant_id`` as their first keyword argument; the scope is
    entered before the body runs and left afterwards, whatever happens.
    """

    @functools.wraps(func)
    def wrapper(*args, tenant_id: int, **kwargs):
        from acorn.models import Tenant

        tenant = Tenant.objects.get(pk=tenant_id, is_active=True)
        with tenant_scope(tenant, atomic=False):
            return func(*args, tenant_id=tenant_id, **kwargs)

    return wrapper
