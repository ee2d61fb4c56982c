"""Re-encrypt every EncryptedTextField value under the newest key.

Procedure: put the new key first in ACORN_FIELD_ENCRYPTION_KEYS, keep the
old ones after it, run this command, then drop the old keys.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from acorn.fields import EncryptedTextField, rotate_token
from acorn.models import Tenant
from acorn.tenancy import no_tenant, tenant_scope


def _rotate_table(model, fields) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    count = 0
    with connection.cursor() as cursor:
        for field in fields:
            column = connection.ops.quote_name(field.column)
            cursor.execute(
                f"SELECT {pk}, {column} FROM {table} "  # noqa: S608
                f"WHERE {column} IS NOT NULL AND {column} <> '' FOR UPDATE"
            )
            for row_pk, token in cursor.fetchall():
                cursor.execute(
                    f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                    [rotate_token(token), row_pk],
                )
                count += 1
    return count


class Command(BaseCommand):
    help = "Re-encrypt encrypted fields under the first key of ACORN_FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        targets = []
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if fields:
                tenant_owned = any(f.name == "tenant" for f in model._meta.concrete_fields)
                targets.append((model, fields, tenant_owned))
        total = 0
        # Row-level security hides other tenants' rows even from the table
        # owner (FORCE), so tenant tables are rotated one tenant at a time.
        for tenant in Tenant.objects.order_by("id"):
            with tenant_scope(tenant):
                for model, fields, tenant_owned in targets:
                    if tenant_owned:
                        total += _rotate_table(model, fields)
        with no_tenant():

            with transaction.atomic():
                for model, fields, tenant_owned in targets:
                    if not tenant_owned:
                        total += _rotate_table(model, fields)
        self.stdout.write(self.style.SUCCESS(f"Rotated {total} values."))
