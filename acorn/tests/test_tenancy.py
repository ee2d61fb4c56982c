"""The app-level wall: the fail-closed manager and the tenant scope."""

import pytest

from acorn.models import AuditEntry
from acorn.services import audit_record
from acorn.tenancy import TenantContextMissing, current_tenant_id, tenant_scope, tenant_task


@pytest.mark.django_db
def test_default_manager_refuses_without_tenant():
    with pytest.raises(TenantContextMissing, match="No tenant in context"):
        list(AuditEntry.objects.all())


@pytest.mark.django_db
def test_default_manager_filters_to_current_tenant(tenant_a, tenant_b):
    with tenant_scope(tenant_a):
        audit_record(actor=None, action="action", object_type="x", summary="a")
    with tenant_scope(tenant_b):
        audit_record(actor=None, action="action", object_type="x", summary="b")
        assert list(AuditEntry.objects.values_list("summary", flat=True)) == ["b"]
        # The escape hatch is explicit; RLS still limits it to B here.
        assert list(AuditEntry.objects.unscoped().values_list("summary", flat=True)) == ["b"]


@pytest.mark.django_db
def test_scope_is_left_even_when_the_block_raises(tenant_a):
    with pytest.raises(ValueError, match="boom"):
        with tenant_scope(tenant_a):
            assert current_tenant_id() == tenant_a.pk
            raise ValueError("boom")
    assert current_tenant_id() is None


@pytest.mark.django_db
def test_tenant_task_enters_and_leaves_scope(tenant_a):
    seen = []

    @tenant_task
    def body(*, tenant_id):
        seen.append(current_tenant_id())

    body(tenant_id=tenant_a.pk)
    assert seen == [tenant_a.pk]
    assert current_tenant_id() is None


@pytest.mark.django_db
def test_tenant_task_refuses_an_inactive_tenant(tenant_a):
    from acorn.models import Tenant

    tenant_a.is_active = False
    tenant_a.save()

    @tenant_task
    def body(*, tenant_id):
        raise AssertionError("must not run")

    with pytest.raises(Tenant.DoesNotExist):
        body(tenant_id=tenant_a.pk)
