"""``migrate`` as the owner role (DATABASE_OWNER_URL), then RLS and grants.

The application role cannot alter tables it does not own, by design.
"""

from django.core.management.commands import migrate

from acorn.db.roles import owner_connection


class Command(migrate.Command):
    def handle(self, *args, **options):
        with owner_connection(options.get("database") or "default"):
            return super().handle(*args, **options)
