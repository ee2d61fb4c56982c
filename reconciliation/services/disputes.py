"""The dispute clock's statuses and the recoveries that close it.

Statuses: new -> disputed -> won | partially won | lost; lost and
partially won may be disputed again (Amazon allows a re-dispute after a
denial, vendor-domain.md §2); anything open may be written off. Every
change is a ``DeductionEvent`` and an audit entry.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record
from reconciliation.deduction_models import (
    Deduction,
    DeductionEvent,
    DeductionRecovery,
    DeductionStatus,
)
from reconciliation.models import Match, MatchStatus, RemittanceLine

S = DeductionStatus
ALLOWED = {
    S.NEW: {S.DISPUTED, S.LOST, S.WRITTEN_OFF, S.WON},
    S.DISPUTED: {S.WON, S.PARTIALLY_WON, S.LOST, S.WRITTEN_OFF},
    S.PARTIALLY_WON: {S.DISPUTED, S.WRITTEN_OFF, S.WON},
    S.LOST: {S.DISPUTED, S.WRITTEN_OFF},
    S.WON: set(),
    S.WRITTEN_OFF: set(),
}


def _amount(value, *, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ApplicationError(_("%(field)s is not an amount.") % {"field": field}) from None
    if not amount.is_finite() or amount < 0:
        raise ApplicationError(_("%(field)s must be zero or more.") % {"field": field})
    return amount


@transaction.atomic
def deduction_status_set(
    *, tenant, deduction_id: int, status: str, actor, amount_disputed=None,
    amount_recovered=None, dispute_reference: str = "", note: str = "",
) -> Deduction:
    deduction = (Deduction.objects.select_for_update()
                 .filter(tenant=tenant, pk=deduction_id).first())
    if deduction is None:
        raise NotFoundError(_("No such deduction."))
    try:
        status = S(status)
    except ValueError:
        raise ApplicationError(_("Unknown status.")) from None
    before = deduction.status
    if status not in ALLOWED[S(before)]:
        raise ApplicationError(_("A deduction that is %(from)s cannot become %(to)s.") % {
            "from": S(before).label, "to": status.label})
    disputed = _amount(amount_disputed, field=_("Amount disputed"))
    recovered = _amount(amount_recovered, field=_("Amount recovered"))
    if status == S.DISPUTED:
        deduction.amount_disputed = disputed if disputed is not None else deduction.amount_open
        deduction.disputed_at = timezone.now()
        if dispute_reference:
            deduction.dispute_reference = dispute_reference[:80]
    if status == S.WON:
        recovered = recovered if recovered is not None else deduction.amount
    if status == S.PARTIALLY_WON and recovered is None and deduction.amount_recovered == 0:
        raise ApplicationError(_("Say how much was recovered."))
    if recovered is not None:
        deduction.amount_recovered = max(deduction.amount_recovered, recovered)
    if max(deduction.amount_disputed, deduction.amount_recovered) > deduction.amount:
        raise ApplicationError(_("Amounts cannot exceed the deduction (%(amount)s).") % {
            "amount": deduction.amount})
    deduction.status = status
    if status in (S.WON, S.PARTIALLY_WON, S.LOST, S.WRITTEN_OFF):
        deduction.resolved_at = timezone.now()
    else:
        deduction.resolved_at = None
    if note:
        deduction.note = note[:500]
    deduction.save()
    DeductionEvent.objects.create(
        tenant=tenant, deduction=deduction, from_status=before, to_status=status,
        amount_disputed=deduction.amount_disputed, amount_recovered=deduction.amount_recovered,
        note=note[:500], actor=actor if getattr(actor, "pk", None) else None)
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=deduction,
                 summary=f"Deduction {deduction.reference}: {before} -> {status}",
                 before={"status": before}, after={
                     "status": str(status), "amount_disputed": str(deduction.amount_disputed),
                     "amount_recovered": str(deduction.amount_recovered)})
    return deduction


def _recovery_candidates(*, tenant, line: RemittanceLine, deduction_type: str, invoice_id):
    queryset = Deduction.objects.select_for_update().filter(
        tenant=tenant, deduction_type=deduction_type, currency=line.currency,
        remittance_line__isnull=False).exclude(status__in=[S.WON, S.WRITTEN_OFF])
    if invoice_id:
        queryset = queryset.filter(invoice_id=invoice_id)
    elif line.base_invoice_number:
        queryset = queryset.filter(invoice_number=line.base_invoice_number)
    else:
        return []
    return [d for d in queryset.order_by("claim_date", "id") if d.amount_open > 0]


@transaction.atomic
def recoveries_match(*, tenant, payment_ids=None) -> int:
    """Apply every reversal line (SCR, provision reversal) not yet applied
    to the open deductions of its invoice and type, oldest first. A
    reversal with nothing to apply to stays unapplied (shown on the line)."""
    from reconciliation.services.deductions import RECOVERY_KINDS

    lines = (RemittanceLine.objects.filter(tenant=tenant, kind__in=list(RECOVERY_KINDS),
                                           amount_paid__gt=0)
             .filter(~Exists(DeductionRecovery.objects.filter(remittance_line=OuterRef("pk"))))
             .order_by("payment_id", "line_number"))
    if payment_ids is not None:
        lines = lines.filter(payment_id__in=list(payment_ids))
    lines = list(lines)
    live = dict(Match.objects.filter(tenant=tenant, line__in=lines).exclude(
        status=MatchStatus.REJECTED).values_list("line_id", "invoice_id"))
    applied = 0
    for line in lines:
        remaining = line.amount_paid
        for deduction in _recovery_candidates(tenant=tenant, line=line,
                                              deduction_type=RECOVERY_KINDS[line.kind],
                                              invoice_id=live.get(line.pk)):
            share = min(remaining, deduction.amount_open)
            if share <= 0:
                break
            # One recovery row per line (a line repays one deduction); the
            # rest of a larger reversal stays visible as unapplied.
            DeductionRecovery.objects.create(tenant=tenant, deduction=deduction,
                                             remittance_line=line, amount=share,
                                             currency=line.currency)
            before = deduction.status
            deduction.amount_recovered += share
            deduction.status = S.WON if deduction.amount_open <= 0 else S.PARTIALLY_WON
            deduction.resolved_at = timezone.now()
            deduction.save(update_fields=["amount_recovered", "status", "resolved_at",
                                          "updated_at"])
            DeductionEvent.objects.create(
                tenant=tenant, deduction=deduction, from_status=before, to_status=deduction.status,
                amount_disputed=deduction.amount_disputed,
                amount_recovered=deduction.amount_recovered,
                note=f"recovered by remittance line {line.invoice_number_raw}"[:500])
            audit_record(actor=None, action=AuditAction.UPDATE, instance=deduction,
                         summary=f"Recovery {share} {line.currency} from {line.invoice_number_raw}",
                         before={"status": before}, after={"status": deduction.status})
            applied += 1
            break
    return applied
