"""Row-level security: the database wall between tenants (PostgreSQL)."""

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.urls import reverse
from rest_framework.test import APIClient

from acorn.models import AuditEntry, Membership, Role, TenantAPIKey
from acorn.rls import LOOKUP_POLICY_NAME, LOOKUP_PREDICATES, POLICY_NAME, tenant_tables
from acorn.services import api_key_create, audit_record, membership_set
from acorn.tenancy import api_key_lookup_scope, tenant_scope, user_scope
from acorn.tests.factories import UserFactory


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
    """Each table with a tenant_id column, with no exemption, has RLS
    enabled and forced, and the tenant policy on USING and WITH CHECK."""
    tables = tenant_tables(connection)
    assert {"acorn_auditentry", "acorn_membership", "acorn_tenantapikey"} <= set(tables)
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
        if not (enabled and forced and using_ok and check_ok)
    ]
    assert missing == []
    assert len(rows) == len(tables)


@pytest.mark.django_db
def test_lookup_policies_widen_reads_only_on_the_two_lookup_tables():
    """The extra ways in are SELECT-only policies on memberships (by user)
    and API keys (by prefix); no other table has one."""
    rows = _fetch(
        "SELECT tablename, cmd, qual FROM pg_policies WHERE policyname = %s ORDER BY tablename",
        [LOOKUP_POLICY_NAME],
    )
    assert [(table, cmd) for table, cmd, _qual in rows] == [
        ("acorn_membership", "SELECT"),
        ("acorn_tenantapikey", "SELECT"),
    ]
    assert "acorn.user_id" in rows[0][2]
    assert "acorn.api_key_prefix" in rows[1][2]
    assert set(LOOKUP_PREDICATES) == {"acorn_membership", "acorn_tenantapikey"}


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


# --- The lookup tables: memberships by user, API keys by prefix -------------


def _two_users_in_two_tenants(tenant_a, tenant_b):
    """ann: admin of A and viewer of B; bob: operations in A only."""
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    membership_set(tenant=tenant_a, user=ann, role=Role.ADMIN)
    membership_set(tenant=tenant_b, user=ann, role=Role.VIEWER)
    membership_set(tenant=tenant_a, user=bob, role=Role.OPERATIONS)
    return ann, bob


def _membership_rows():
    return sorted(
        _fetch(
            "SELECT u.username, t.slug FROM acorn_membership m "
            "JOIN auth_user u ON u.id = m.user_id JOIN acorn_tenant t ON t.id = m.tenant_id"
        )
    )


@pytest.mark.django_db
def test_memberships_without_context_are_invisible(tenant_a, tenant_b):
    _two_users_in_two_tenants(tenant_a, tenant_b)
    assert _membership_rows() == []
    assert Membership.objects.count() == 0


@pytest.mark.django_db
def test_a_user_in_context_sees_only_their_own_memberships(tenant_a, tenant_b):
    # Given two users, one in two tenants
    ann, bob = _two_users_in_two_tenants(tenant_a, tenant_b)
    # When ann is the user in context (no tenant yet: the switcher)
    with user_scope(ann.pk), transaction.atomic():
        # Then she sees her memberships in both tenants and not bob's
        assert _membership_rows() == [("ann", "alpha"), ("ann", "bravo")]
        assert not Membership.objects.filter(user=bob).exists()
    with user_scope(bob.pk), transaction.atomic():
        assert _membership_rows() == [("bob", "alpha")]


@pytest.mark.django_db
def test_a_tenant_in_context_sees_its_members_and_the_users_own_rows(tenant_a, tenant_b):
    ann, bob = _two_users_in_two_tenants(tenant_a, tenant_b)
    # The members page of A: every member of A
    with tenant_scope(tenant_a):
        assert _membership_rows() == [("ann", "alpha"), ("bob", "alpha")]
    # bob signed in, in B's scope: B's members plus his own row, no more
    with user_scope(bob.pk), tenant_scope(tenant_b):
        assert _membership_rows() == [("ann", "bravo"), ("bob", "alpha")]


@pytest.mark.django_db
def test_the_user_in_context_cannot_write_memberships_of_another_tenant(tenant_a, tenant_b):
    """Reading one's own rows is all the user setting allows: joining,
    changing or deleting a membership needs that tenant in context."""
    ann, bob = _two_users_in_two_tenants(tenant_a, tenant_b)
    with user_scope(bob.pk):
        with pytest.raises(ProgrammingError, match="row-level security"):
            with transaction.atomic():
                Membership.objects.create(tenant=tenant_b, user=bob, role=Role.ADMIN)
        with transaction.atomic():
            changed = _fetch("UPDATE acorn_membership SET role = 'admin' RETURNING id")
            deleted = _fetch("DELETE FROM acorn_membership RETURNING id")
        assert (changed, deleted) == ([], [])
    with user_scope(bob.pk), transaction.atomic():
        assert Membership.objects.get().role == Role.OPERATIONS


def _key_rows():
    return sorted(row[0] for row in _fetch("SELECT name FROM acorn_tenantapikey"))


@pytest.mark.django_db
def test_an_api_key_row_is_invisible_unless_its_prefix_is_set(tenant_a, tenant_b):
    # Given a key in each tenant
    key_a, _plain_a = api_key_create(tenant=tenant_a, name="alpha-bi")
    api_key_create(tenant=tenant_b, name="bravo-bi")
    # Then no key is visible without context, nor with another prefix
    assert _key_rows() == []
    with api_key_lookup_scope("nosuchpx"), transaction.atomic():
        assert _key_rows() == []
    # And the lookup by its prefix sees exactly that key
    with api_key_lookup_scope(key_a.prefix), transaction.atomic():
        assert _key_rows() == ["alpha-bi"]
        # ... but cannot revoke it or any other key without the tenant
        assert _fetch("UPDATE acorn_tenantapikey SET revoked = true RETURNING name") == []
    # And the tenant's own pages list its keys only
    with tenant_scope(tenant_b):
        assert _key_rows() == ["bravo-bi"]
        assert TenantAPIKey.objects.count() == 1


@pytest.mark.django_db
def test_api_key_authentication_finds_its_key_through_the_prefix(tenant_a, api_client_for):
    """The authentication class sets the prefix for its lookup: a valid key
    answers with its tenant and is marked used; a wrong secret is refused."""
    api = api_client_for(tenant_a)
    response = api.get(reverse("api:tenant_detail"))
    assert response.status_code == 200, response.content
    assert response.json()["slug"] == tenant_a.slug
    with tenant_scope(tenant_a):
        key = TenantAPIKey.objects.get()
    assert key.last_used_at is not None
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.prefix}.not-the-secret")
    assert forged.get(reverse("api:tenant_detail")).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_an_iterator_as_the_first_query_of_a_scope_sees_the_tenants_rows(tenant_a):
    """QuerySet.iterator() reads through a server-side cursor; the tenant
    setting must still be applied first (it was silently not: 0 rows)."""
    with tenant_scope(tenant_a):
        audit_record(actor=None, action="action", object_type="probe", summary="iterator")
    with tenant_scope(tenant_a):
        rows = list(AuditEntry.objects.filter(summary="iterator").iterator())
        assert len(rows) == 1
        assert AuditEntry.objects.filter(summary="iterator").count() == 1
