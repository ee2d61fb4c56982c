"""Mail-in of remittance-advice e-mails: ``manage.py remittance_mail_in
--tenant <slug> message.eml [...]`` or the message on standard input (a
mail server's pipe, e.g. a Postfix alias ``| manage.py remittance_mail_in
--tenant acme -``). Each message is imported like an upload: the same
message or the same payment twice adds nothing."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from acorn.exceptions import ApplicationError
from acorn.models import Tenant
from reconciliation.models import ImportStatus, RemittanceSource
from reconciliation.parsers import bounds


class Command(BaseCommand):
    help = "Import remittance-advice e-mails (.eml files or standard input) for one tenant."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("messages", nargs="+", help=".eml files, or - for standard input")

    def handle(self, *args, tenant, messages, **options):
        from reconciliation.services import remittance_import_create

        found = Tenant.objects.filter(slug=tenant, is_active=True).first()
        if found is None:
            raise CommandError(f"No active tenant {tenant!r}.")
        failures = 0
        for name in messages:
            if name == "-":
                data = sys.stdin.buffer.read(bounds.MAX_UPLOAD_BYTES + 1)
            else:
                try:
                    with open(name, "rb") as handle:
                        data = handle.read(bounds.MAX_UPLOAD_BYTES + 1)
                except OSError as exc:
                    raise CommandError(f"{name}: {exc.strerror}") from exc
            try:
                remittance_import, created = remittance_import_create(
                    tenant=found, data=data, filename=name if name != "-" else "mail-in.eml",
                    source_type=RemittanceSource.EMAIL, background=False)
            except ApplicationError as exc:
                failures += 1
                self.stderr.write(f"{name}: {exc.message}")
                continue
            if not created:
                self.stdout.write(f"{name}: already imported (import {remittance_import.pk})")
            elif remittance_import.status == ImportStatus.FAILED:
                failures += 1
                self.stderr.write(f"{name}: failed (import {remittance_import.pk}): " + "; ".join(
                    f"line {e['line']}: {e['field']} {e['code']}"
                    for e in remittance_import.errors[:10]))
            else:
                self.stdout.write(
                    f"{name}: import {remittance_import.pk}, "
                    f"{remittance_import.payments_created} payment(s), "
                    f"{remittance_import.lines_created} line(s)")
        if failures:
            raise CommandError(f"{failures} message(s) not imported.")
