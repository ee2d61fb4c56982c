"""PostgreSQL row-level security: the last wall between tenants.

Every table with a ``tenant_id`` column gets ENABLE + FORCE ROW LEVEL
SECURITY and one policy comparing the row's tenant with the transaction's
``acorn.tenant_id`` setting (see acorn/db/backends/postgresql/base.py). It
is applied after every ``migrate`` by discovering the columns in the
catalog, so a new tenant table cannot land without its policy; the test
suite checks the catalog as well. No table is exempt: the two read to
decide the tenant (memberships, API keys) also get a read-only policy for
exactly that lookup.

The application connects as a role that is not superuser, does not own the
tables and has no BYPASSRLS; migrations run as the owner role.
"""

from __future__ import annotations

import logging

from django.db import connections

logger = logging.getLogger(__name__)

POLICY_NAME = "acorn_tenant_isolation"
LOOKUP_POLICY_NAME = "acorn_tenant_lookup"
TENANT_PREDICATE = "tenant_id = nullif(current_setting('acorn.tenant_id', true), '')::bigint"

# Tables read before any tenant is known get a second, read-only way in,
# as narrow as the lookup: writes still need the row's tenant in context.
LOOKUP_PREDICATES = {
    # Login and the tenant switcher list the signed-in user's memberships
    # across tenants (acorn.middleware.RlsUserMiddleware sets the user).
    "acorn_membership": "user_id = nullif(current_setting('acorn.user_id', true), '')::bigint",
    # Authentication finds a key by its prefix to learn the tenant (the
    # hash is the secret); acorn.api.TenantAPIKeyAuthentication sets it.
    "acorn_tenantapikey": "prefix = nullif(current_setting('acorn.api_key_prefix', true), '')",
}


def tenant_tables(connection) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name
            FROM information_schema.columns c
            JOIN information_schema.tables t
              ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema()
              AND c.column_name = 'tenant_id'
              AND t.table_type = 'BASE TABLE'
            ORDER BY c.table_name
            """
        )
        return [row[0] for row in cursor.fetchall()]


def rls_apply(connection, app_role: str | None) -> list[str]:
    """Enable, force and attach the policies on every tenant table."""
    applied = []
    with connection.cursor() as cursor:
        for table in tenant_tables(connection):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY")  # noqa: S608
            cursor.execute(f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {quoted}")
            cursor.execute(
                f"CREATE POLICY {POLICY_NAME} ON {quoted} "
                f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
            )
            cursor.execute(f"DROP POLICY IF EXISTS {LOOKUP_POLICY_NAME} ON {quoted}")
            if table in LOOKUP_PREDICATES:
                # Permissive policies add up per command: this one widens
                # SELECT only, so UPDATE and DELETE stay within the tenant.
                cursor.execute(
                    f"CREATE POLICY {LOOKUP_POLICY_NAME} ON {quoted} FOR SELECT "
                    f"USING ({LOOKUP_PREDICATES[table]})"
                )
            applied.append(table)
        if app_role:
            role = connection.ops.quote_name(app_role)
            cursor.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
            )
            cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    return applied


def app_role_name() -> str | None:
    """The role of the application's own connection (DATABASE_URL)."""
    import dj_database_url
    from django.conf import settings

    url = getattr(settings, "DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    return dj_database_url.parse(url).get("USER") or None


def rls_apply_after_migrate(sender, using="default", **kwargs):
    connection = connections[using]
    # Only the last app's signal matters; running for each is idempotent
    # and cheap, but skip all but the acorn app to keep migrate quiet.
    if getattr(sender, "label", None) != "acorn":
        return
    role = app_role_name()
    if role and role == connection.settings_dict.get("USER"):
        # Not the owner: ``flush`` also sends post_migrate, and the app
        # role may not (and need not) alter tables.
        return
    applied = rls_apply(connection, role)
    logger.info("Row-level security applied to %s tables", len(applied))
