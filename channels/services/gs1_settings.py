"""The tenant's GS1 company prefix and SSCC counter, set by admins."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from acorn.exceptions import ApplicationError
from acorn.models import AuditAction
from acorn.services import audit_record, audit_snapshot
from acorn.tenancy import tenant_scope
from channels.gs1 import SSCC_LENGTH
from channels.models import Gs1Settings


@transaction.atomic
def gs1_settings_set(
    *, tenant, company_prefix: str, extension_digit: int, next_serial: int | None = None,
    actor=None,
) -> Gs1Settings:
    """Create or change the GS1 settings; the serial counter never goes back.

    GS1 forbids reusing an SSCC within a year of its use (General
    Specifications §2.2.1), so ``next_serial`` may only be raised, e.g.
    to continue after the serials another system already issued.
    """
    company_prefix = company_prefix.strip()
    if not (company_prefix.isdigit() and 6 <= len(company_prefix) <= 12):
        raise ApplicationError(_("The GS1 company prefix must be 6 to 12 digits."))
    if not 0 <= int(extension_digit) <= 9:
        raise ApplicationError(_("The SSCC extension digit must be 0-9."))
    with tenant_scope(tenant):
        row = Gs1Settings.objects.select_for_update().filter(tenant=tenant).first()
        before = audit_snapshot(row) if row else {}
        row = row or Gs1Settings(tenant=tenant)
        if next_serial is not None and next_serial < row.next_serial:
            raise ApplicationError(
                _("The next serial cannot go back below %(serial)s: SSCCs are never reused.")
                % {"serial": row.next_serial}
            )
        serial = next_serial if next_serial is not None else row.next_serial
        serial_digits = SSCC_LENGTH - 2 - len(company_prefix)
        if serial >= 10**serial_digits:
            raise ApplicationError(
                _("Serial %(serial)s does not fit the %(digits)s digits this prefix leaves.")
                % {"serial": serial, "digits": serial_digits}
            )
        row.company_prefix = company_prefix
        row.extension_digit = int(extension_digit)
        row.next_serial = serial
        row.full_clean(exclude=["tenant"], validate_constraints=False)
        row.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE if before else AuditAction.CREATE,
            instance=row,
            before=before,
            after=audit_snapshot(row),
            summary="GS1 settings saved",
        )
    return row
