"""Test database setup: created and migrated as the owner role, used as the
application role, so row-level security is real in every test."""

import pytest
from django.db import connection

from acorn.db.roles import owner_connection


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_createdb,
    django_db_modify_db_settings,
):
    from django.test.utils import setup_databases, teardown_databases

    keepdb = request.config.getvalue("reuse_db") and not django_db_createdb
    with django_db_blocker.unblock():
        with owner_connection() as owner:
            db_cfg = setup_databases(verbosity=0, interactive=False, keepdb=keepdb)
            app_role = connection.settings_dict.get("USER")
            if owner.vendor == "postgresql":
                with owner.cursor() as cursor:
                    # Tests flush tables between transactional tests; the
                    # production app role never gets TRUNCATE (it ignores RLS).
                    cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{app_role}"')
            test_name = owner.settings_dict["NAME"]
        connection.settings_dict["NAME"] = test_name
    yield
    if not keepdb:
        with django_db_blocker.unblock(), owner_connection():
            teardown_databases(db_cfg, verbosity=0)
