import pytest
from django.db import connection

from acorn.models import AuditEntry
from acorn.services import audit_record, tenant_create
from acorn.tenancy import TenantContextMissing, tenant_scope


@pytest.mark.django_db
def test_smoke():
    a = tenant_create(slug="a", name="A")
    b = tenant_create(slug="b", name="B")
    with tenant_scope(a):
        audit_record(actor=None, action="action", object_type="x", summary="a1")
    with tenant_scope(b):
        audit_record(actor=None, action="action", object_type="x", summary="b1")
        assert [e.summary for e in AuditEntry.objects.all()] == ["b1"]
        with connection.cursor() as c:
            c.execute("select count(*) from acorn_auditentry")
            assert c.fetchone()[0] == 1
    with pytest.raises(TenantContextMissing):
        list(AuditEntry.objects.all())
    with connection.cursor() as c:
        c.execute("select count(*) from acorn_auditentry")
        assert c.fetchone()[0] == 0
        c.execute("select current_user")
        assert c.fetchone()[0] == "acorn_app"
