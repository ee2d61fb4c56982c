"""The tenant context: who the current code works for.

One context variable holds the current tenant (two narrower ones, the user
and an API key prefix, open only the tables that decide the tenant). The default manager of
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


# Two narrower keys for row-level security on the tables read before a
# tenant is known (acorn/rls.py): the signed-in user, whose memberships the
# tenant switcher lists, and the prefix of the API key being looked up.
_current_user_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "acorn_current_user_id", default=None
)
_current_api_key_prefix: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "acorn_current_api_key_prefix", default=None
)


def rls_context() -> tuple[str, str, str]:
    """(tenant id, user id, API key prefix) for the database; '' when unset."""
    tenant_id = current_tenant_id()
    user_id = _current_user_id.get()
    prefix = _current_api_key_prefix.get()
    return (
        "" if tenant_id is None else str(tenant_id),
        "" if user_id is None else str(user_id),
        prefix or "",
    )


@contextmanager
def user_scope(user_id: int | None):
    """Let the block read ``user_id``'s own memberships in every tenant."""
    token = _current_user_id.set(user_id)
    try:
        yield
    finally:
        _current_user_id.reset(token)


@contextmanager
def api_key_lookup_scope(prefix: str):
    """Let the block read the API key row with ``prefix`` (authentication)."""
    token = _current_api_key_prefix.set(prefix)
    try:
        yield
    finally:
        _current_api_key_prefix.reset(token)


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
        # Imported here: the database backend imports this module before the
        # models can load (breaks the cycle).
        from acorn.models import Tenant

        tenant = Tenant.objects.get(pk=tenant_id, is_active=True)
        with tenant_scope(tenant, atomic=False):
            return func(*args, tenant_id=tenant_id, **kwargs)

    return wrapper
