"""Key rotation over real encrypted columns (Amazon account secrets)."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection


def _stored_secret(account_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT lwa_client_secret FROM channels_amazonvendoraccount WHERE id = %s",
            [account_id],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_rotate_command_re_encrypts_every_tenants_secrets(settings, tenant_a, tenant_b):
    """rotate_field_keys re-encrypts real rows of every tenant under the new
    first key; afterwards the old key can be dropped."""
    from acorn.tenancy import tenant_scope
    from channels.models import AmazonVendorAccount
    from channels.tests.factories import AmazonVendorAccountFactory

    # Given an account with secrets in each of two tenants
    accounts = {}
    for tenant in (tenant_a, tenant_b):
        with tenant_scope(tenant):
            accounts[tenant.pk] = AmazonVendorAccountFactory(
                tenant=tenant, lwa_client_secret=f"secret-of-{tenant.slug}"
            ).pk
    old_keys = list(settings.ACORN_FIELD_ENCRYPTION_KEYS)
    before = {}
    for tenant in (tenant_a, tenant_b):
        with tenant_scope(tenant):
            before[tenant.pk] = _stored_secret(accounts[tenant.pk])
    # When a new key is put first and the command runs
    new_key = Fernet.generate_key().decode()
    settings.ACORN_FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]
    call_command("rotate_field_keys")
    # Then each tenant's row holds a new token the new key alone opens
    settings.ACORN_FIELD_ENCRYPTION_KEYS = [new_key]
    for tenant in (tenant_a, tenant_b):
        with tenant_scope(tenant):
            stored = _stored_secret(accounts[tenant.pk])
            assert stored != before[tenant.pk] and "secret-of" not in stored
            account = AmazonVendorAccount.objects.get(pk=accounts[tenant.pk])
            assert account.lwa_client_secret == f"secret-of-{tenant.slug}"
