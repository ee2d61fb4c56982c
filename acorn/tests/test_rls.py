"""Row-level security: the database wall between tenants (PostgreSQL)."""

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from acorn.models import AuditEntry
from acorn.rls import POLICY_NAME, RLS_EXEMPT_TABLES, tenant_tables
from acorn.services import audit_record
from acorn.tenancy import tenant_scope


def _fetch(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _seed_entries(tenant_a, tenant_b):
    with tenant_scope(tenant_a):
        audit_record(actor=None, action="action", object_type="probe", summary="alpha-row")
    with tenant_scope(tenant_b):
        audit_record(actor=None, action="action", object_type="probe", summary="bravo-row")


@pytest.mark.django_db
def test_every_tenant_table_has_rls_force_and_policy():
    """Each table with a tenant_id column (bar the listed exemptions) has
    RLS enabled and forced, and the tenant policy on USING and WITH CHECK."""
    tables = tenant_tables(connection)
    assert "acorn_auditentry" in tables
    for exempt in RLS_EXEMPT_TABLES:
        assert exempt in tables, f"stale exemption {exempt}"
    rows = _fetch(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               p.qual IS NOT NULL AND p.qual LIKE '%%acorn.tenant_id%%',
               p.with_check IS NOT NULL AND p.with_check LIKE '%%acorn.tenant_id%%'
        FROM pg_class c
        LEFT JOIN pg_policies p ON p.tablename = c.relname AND p.policyname = %s
        WHERE c.relname = ANY(%s) AND c.relkind = 'r'
        """,
        [POLICY_NAME, tables],
    )
    missing = [
        name
        for name, enabled, forced, using_ok, check_ok in rows
        if name not in RLS_EXEMPT_TABLES and not (enabled and forced and using_ok and check_ok)
    ]
    assert missing == []
    assert len(rows) == len(tables)


@pytest.mark.django_db
def test_app_role_is_not_superuser_owner_or_bypass():
    """The application connects as a plain role: no superuser, no
    BYPASSRLS, and it owns none of the tenant tables."""
    ((role, superuser, bypass),) = _fetch(
        "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert (superuser, bypass) == (False, False)
    owned = _fetch(
        "SELECT relname FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles "
        "WHERE rolname = current_user) AND relkind = 'r'"
    )
    assert owned == []
    assert role == connection.settings_dict["USER"]


@pytest.mark.django_db
def test_raw_sql_without_tenant_sees_no_rows(tenant_a, tenant_b):
    # Given rows of two tenants
    _seed_entries(tenant_a, tenant_b)
    # When raw SQL runs with no tenant in context
    rows = _fetch("SELECT summary FROM acorn_auditentry")
    # Then the policy returns nothing at all
    assert rows == []


@pytest.mark.django_db
def test_raw_sql_with_tenant_sees_only_that_tenant(tenant_a, tenant_b):
    _seed_entries(tenant_a, tenant_b)
    with tenant_scope(tenant_a):
        assert _fetch("SELECT summary FROM acorn_auditentry") == [("alpha-row",)]
        # Even asking for the other tenant's rows by id finds nothing.
        assert _fetch("SELECT 1 FROM acorn_auditentry WHERE tenant_id = %s", [tenant_b.pk]) == []


@pytest.mark.django_db
def test_insert_for_another_tenant_is_refused(tenant_a, tenant_b):
    with tenant_scope(tenant_a):
        with pytest.raises(ProgrammingError, match="row-level security"):
            with transaction.atomic():
                AuditEntry.all_tenants.create(
                    tenant=tenant_b, action="action", object_type="x", summary="smuggled"
                )


@pytest.mark.django_db
def test_update_moving_a_row_to_another_tenant_is_refused(tenant_a, tenant_b):
    _seed_entries(tenant_a, tenant_b)
    with tenant_scope(tenant_a):
        with pytest.raises(ProgrammingError, match="row-level security"):
            with transaction.atomic():
                _fetch("UPDATE acorn_auditentry SET tenant_id = %s RETURNING id", [tenant_b.pk])


@pytest.mark.django_db
def test_savepoint_rollback_keeps_tenant_for_the_rest_of_the_transaction(tenant_a, tenant_b):
    """A rolled-back savepoint undoes set_config; the backend sets it again."""
    _seed_entries(tenant_a, tenant_b)
    with tenant_scope(tenant_a):
        try:
            with transaction.atomic():
                _fetch("SELECT 1 FROM acorn_auditentry")
                raise RuntimeError("roll back the savepoint")
        except RuntimeError:
            pass
        assert _fetch("SELECT summary FROM acorn_auditentry") == [("alpha-row",)]


def _setting_in_fresh_transaction() -> str:
    """What a new transaction with no tenant in context sees."""
    with transaction.atomic():
        ((value,),) = _fetch("SELECT coalesce(current_setting('acorn.tenant_id', true), '')")
    return value


@pytest.mark.django_db(transaction=True)
def test_thousand_alternating_transactions_never_carry_the_tenant(tenant_a, tenant_b, settings):
    """1,000 committed transactions alternating A and B on one persistent
    connection: each sees only its tenant, and none leaks to the next."""
    _seed_entries(tenant_a, tenant_b)
    backend_pid = _fetch("SELECT pg_backend_pid()")[0][0]
    leaks = wrong_rows = 0
    for index in range(1000):
        tenant = tenant_a if index % 2 == 0 else tenant_b
        with tenant_scope(tenant):
            rows = _fetch("SELECT DISTINCT tenant_id FROM acorn_auditentry")
            wrong_rows += rows != [(tenant.pk,)]
        leaks += _setting_in_fresh_transaction() != ""
    assert (leaks, wrong_rows) == (0, 0)
    # The same server session served every transaction (the pooled case).
    assert _fetch("SELECT pg_backend_pid()")[0][0] == backend_pid


@pytest.mark.django_db(transaction=True)
def test_negative_control_session_level_setting_is_caught(tenant_a):
    """The carry-over check does see a leak when the tenant is set per
    session (is_local = false), so the test above can fail."""
    with transaction.atomic():
        _fetch("SELECT set_config('acorn.tenant_id', %s, false)", [str(tenant_a.pk)])
    try:
        assert _setting_in_fresh_transaction() == str(tenant_a.pk)
    finally:
        _fetch("SELECT set_config('acorn.tenant_id', '', false)")
