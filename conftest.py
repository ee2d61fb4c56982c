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
    app_role = connection.settings_dict.get("USER")
    with django_db_blocker.unblock():
        with owner_connection() as owner:
            db_cfg = setup_databases(
                verbosity=0, interactive=False, keepdb=keepdb, serialized_aliases=set()
            )
            with owner.cursor() as cursor:
                # Tests flush tables between transactional tests; the
                # production app role never gets TRUNCATE (it ignores RLS).
                cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{app_role}"')
            test_name = owner.settings_dict["NAME"]
        connection.settings_dict["NAME"] = test_name
    yield
    if not keepdb:
        from django.db import OperationalError

        with django_db_blocker.unblock(), owner_connection():
            try:
                teardown_databases(db_cfg, verbosity=0)
            except OperationalError as exc:
                # A worker or server thread a test started may still hold a
                # session for a moment; the next --create-db run drops the
                # database anyway, so this is not a test failure.
                import warnings

                warnings.warn(f"Test database left in place: {exc}", stacklevel=1)


# --- Shared fixtures: two tenants, logins per role, API keys ---------------


@pytest.fixture
def tenant_a(db):
    from acorn.tests.factories import TenantFactory

    return TenantFactory(slug="alpha", name="Alpha Brand")


@pytest.fixture
def tenant_b(db):
    from acorn.tests.factories import TenantFactory

    return TenantFactory(slug="bravo", name="Bravo Brand")


@pytest.fixture
def member_client(client):
    """``member_client(tenant, role)``: a test client logged in as a member."""
    from acorn.tests.factories import UserFactory, membership_create

    def make(tenant, role="viewer"):
        user = UserFactory()
        membership_create(tenant=tenant, user=user, role=role)
        client.force_login(user)
        client.user = user
        return client

    return make


@pytest.fixture
def api_client_for():
    """``api_client_for(tenant, scopes=None)``: a DRF client with a key."""
    from rest_framework.test import APIClient

    from acorn.services import api_key_create

    def make(tenant, scopes=None):
        _key, plaintext = api_key_create(tenant=tenant, name="test", scopes=scopes)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
        return api

    return make


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in English: a request in Chinese (LocaleMiddleware
    activates the language for the thread) must not leak into the next
    test's form errors and messages."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
