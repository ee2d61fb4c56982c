"""The matching engine: remittance lines -> invoices and credit notes.

In order, each line takes the first that applies:
1. exact: the line's invoice number is an issued document's number
   (case-insensitive) in the same currency -> auto, confidence 1.
2. suffix: the line's kind (SC, SCR, SCRSC, PQV/PPV, RTV, provision ...)
   names a base invoice number that exists -> auto, confidence 0.95.
3. heuristics, always for review: the number without punctuation/leading
   zeros (0.85); the line's PO with one document of that PO in the
   currency (0.80, 0.90 when the amount agrees too); one open document of
   exactly that amount in the currency (0.60).
A line whose currency differs from the document's is never matched
automatically. Lines that name none of our documents (chargebacks, co-op,
price protection) stay unmatched: deductions explained by their kind.

Set-based: one read of the open lines, one of the rejected pairs, one of
the candidate documents (invoicing's selector), one bulk insert; re-running
finds no line without a live match and adds nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from acorn.exceptions import ApplicationError
from acorn.models import AuditAction
from acorn.services import audit_record
from invoicing.selectors import InvoiceForMatching, invoice_list_for_matching
from reconciliation.models import (
    LineKind,
    Match,
    MatchMethod,
    MatchStatus,
    Payment,
    RemittanceLine,
)
from reconciliation.parsers.classify import INVOICE_LINKED
from reconciliation.services.bulk import copy_insert
from reconciliation.services.scope import in_tenant_scope

MATCH_COLUMNS = [
    "tenant_id", "line_id", "invoice_id", "amount", "currency", "method", "confidence",
    "status", "reason", "created_at", "updated_at",
]
LIVE = (MatchStatus.AUTO, MatchStatus.NEEDS_REVIEW, MatchStatus.CONFIRMED)
AUTO_THRESHOLD = Decimal("0.95")
_TOKENS = re.compile(r"[A-Z]+|[0-9]+")


def number_key(number: str) -> str:
    """Upper case, alphanumerics only, leading zeros dropped: "inv-0042" and
    "INV42" meet here (a heuristic, so only ever suggested)."""
    return "".join(token.lstrip("0") or "0" if token[0].isdigit() else token
                   for token in _TOKENS.findall((number or "").upper()))


def _line_candidates(line, invoices_by_number, invoices_by_key, invoices_by_po,
                     invoices_by_amount, rejected) -> tuple | None:
    """(invoice, method, confidence, reason) for one line, or None."""
    line_id, kind, raw, base, currency, amount, po = line

    def usable(invoice: InvoiceForMatching | None) -> bool:
        return invoice is not None and (line_id, invoice.id) not in rejected

    exact = invoices_by_number.get(raw.upper())
    if usable(exact):
        if exact.currency == currency:
            return exact, MatchMethod.EXACT, Decimal("1.000"), "exact_number"
        return exact, MatchMethod.EXACT, Decimal("0.500"), "currency_differs"
    if base and base.upper() != raw.upper() and kind in INVOICE_LINKED | {
            LineKind.PROVISION, LineKind.PROVISION_REVERSAL}:
        target = invoices_by_number.get(base.upper())
        if usable(target):
            if target.currency == currency:
                return target, MatchMethod.SUFFIX, Decimal("0.950"), f"suffix_{kind}"
            return target, MatchMethod.SUFFIX, Decimal("0.500"), "currency_differs"
    if kind not in INVOICE_LINKED and kind != LineKind.OTHER:
        return None
    key_matches = [inv for inv in invoices_by_key().get(number_key(base or raw), ())
                   if inv.currency == currency and usable(inv)]
    if len(key_matches) == 1:
        return key_matches[0], MatchMethod.HEURISTIC, Decimal("0.850"), "number_similar"
    if po:
        same_po = [inv for inv in invoices_by_po.get(po.upper(), ())
                   if inv.currency == currency and usable(inv)]
        if len(same_po) == 1:
            agrees = same_po[0].amount_due == abs(amount)
            return (same_po[0], MatchMethod.HEURISTIC,
                    Decimal("0.900") if agrees else Decimal("0.800"), "purchase_order")
        agreeing = [inv for inv in same_po if inv.amount_due == abs(amount)]
        if len(agreeing) == 1:
            return agreeing[0], MatchMethod.HEURISTIC, Decimal("0.750"), "purchase_order_amount"
    if kind == LineKind.INVOICE_PAYMENT and amount > 0:
        same_amount = [inv for inv in invoices_by_amount.get((currency, amount), ())
                       if usable(inv)]
        if len(same_amount) == 1:
            return same_amount[0], MatchMethod.HEURISTIC, Decimal("0.600"), "amount_only"
    return None


@in_tenant_scope
def payments_match(*, tenant, payment_ids=None, actor=None) -> dict[str, int]:
    """Match every line of ``payment_ids`` (all of the tenant's when None)
    that has no live match. Returns counts by outcome."""
    lines_qs = RemittanceLine.objects.filter(tenant=tenant).exclude(
        matches__status__in=LIVE)
    if payment_ids is not None:
        lines_qs = lines_qs.filter(payment_id__in=list(payment_ids))
    lines = list(lines_qs.values_list(
        "id", "kind", "invoice_number_raw", "base_invoice_number", "currency", "amount_paid",
        "purchase_order_number").order_by("id"))
    counts = {"lines": len(lines), "auto": 0, "needs_review": 0, "unmatched": 0}
    if not lines:
        return counts
    rejected = set(Match.objects.filter(
        tenant=tenant, status=MatchStatus.REJECTED, line_id__in=[line[0] for line in lines]
    ).values_list("line_id", "invoice_id")) if len(lines) <= 5000 else set(
        Match.objects.filter(tenant=tenant, status=MatchStatus.REJECTED)
        .values_list("line_id", "invoice_id"))
    wanted_numbers = {line[2] for line in lines} | {line[3] for line in lines if line[3]}
    wanted_pos = {line[6] for line in lines if line[6]}
    needs_all = any(line[1] in (LineKind.INVOICE_PAYMENT, LineKind.OTHER) for line in lines)
    invoices = invoice_list_for_matching(
        tenant=tenant,
        numbers=None if needs_all else wanted_numbers,
        purchase_order_numbers=None if needs_all else wanted_pos,
    )
    invoices_by_number: dict[str, InvoiceForMatching] = {}
    invoices_by_po: dict[str, list] = defaultdict(list)
    invoices_by_amount: dict[tuple, list] = defaultdict(list)
    for invoice in invoices:
        invoices_by_number[invoice.number.upper()] = invoice
        if invoice.purchase_order_number:
            invoices_by_po[invoice.purchase_order_number.upper()].append(invoice)
        invoices_by_amount[(invoice.currency, invoice.amount_due)].append(invoice)
    key_index: dict[str, list] = {}

    def invoices_by_key() -> dict[str, list]:
        # Built the first time a line needs the heuristic, not before.
        if not key_index:
            for invoice in invoices:
                key_index.setdefault(number_key(invoice.number), []).append(invoice)
            key_index.setdefault("", [])
        return key_index

    now = timezone.now()
    new_matches = []
    kinds_to_payment = []
    for line in lines:
        found = _line_candidates(line, invoices_by_number, invoices_by_key, invoices_by_po,
                                 invoices_by_amount, rejected)
        if found is None:
            counts["unmatched"] += 1
            continue
        invoice, method, confidence, reason = found
        status = MatchStatus.AUTO if confidence >= AUTO_THRESHOLD else MatchStatus.NEEDS_REVIEW
        counts["auto" if status == MatchStatus.AUTO else "needs_review"] += 1
        # An invoice number that happens to end in "SC" is a payment of that
        # invoice when the number exists as written.
        if method == MatchMethod.EXACT and line[1] != LineKind.INVOICE_PAYMENT \
                and invoice.kind == "invoice":
            kinds_to_payment.append(line[0])
        new_matches.append((
            tenant.pk, line[0], invoice.id, line[5], line[4], method, confidence, status,
            reason, now, now,
        ))
    # ON CONFLICT DO NOTHING: a concurrent run that matched the same line
    # first wins (one live match per line is a database constraint).
    copy_insert(model=Match, columns=MATCH_COLUMNS, rows=new_matches,
                on_conflict_do_nothing=True)
    if kinds_to_payment:
        RemittanceLine.objects.filter(tenant=tenant, id__in=kinds_to_payment).update(
            kind=LineKind.INVOICE_PAYMENT, base_invoice_number=F("invoice_number_raw"))
    payments = Payment.objects.filter(tenant=tenant)
    if payment_ids is not None:
        payments = payments.filter(id__in=list(payment_ids))
    payments.update(matched_at=now)
    return counts


def _live_match_for_review(*, tenant, match_id: int) -> Match:
    match = (Match.objects.select_for_update().select_related("line")
             .filter(tenant=tenant, pk=match_id).first())
    if match is None:
        raise ApplicationError(_("No such match."))
    if match.status not in LIVE:
        raise ApplicationError(_("This match was already rejected."))
    return match


@in_tenant_scope
def match_confirm(*, tenant, match_id: int, actor) -> Match:
    match = _live_match_for_review(tenant=tenant, match_id=match_id)
    before = {"status": match.status}
    match.status = MatchStatus.CONFIRMED
    match.decided_by = actor if getattr(actor, "pk", None) else None
    match.decided_at = timezone.now()
    match.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=match,
                 summary="remittance match confirmed", before=before,
                 after={"status": match.status})
    return match


@in_tenant_scope
def match_reject(*, tenant, match_id: int, actor) -> Match:
    """Reject a suggestion; the line goes back to the engine, which will
    not suggest the same document again."""
    match = _live_match_for_review(tenant=tenant, match_id=match_id)
    before = {"status": match.status}
    # One rejected row per (line, document) is history enough.
    Match.objects.filter(tenant=tenant, line_id=match.line_id, invoice_id=match.invoice_id,
                         status=MatchStatus.REJECTED).delete()
    match.status = MatchStatus.REJECTED
    match.decided_by = actor if getattr(actor, "pk", None) else None
    match.decided_at = timezone.now()
    match.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=match,
                 summary="remittance match rejected", before=before,
                 after={"status": match.status})
    return match


@in_tenant_scope
def match_reassign(*, tenant, line_id: int, invoice_number: str, actor) -> Match:
    """Apply a line to the document a person names (manual, confirmed);
    its current live match, if any, is rejected."""
    line = (RemittanceLine.objects.select_for_update()
            .filter(tenant=tenant, pk=line_id).first())
    if line is None:
        raise ApplicationError(_("No such remittance line."))
    found = invoice_list_for_matching(tenant=tenant, numbers=[invoice_number.strip()])
    found = [inv for inv in found if inv.number.upper() == invoice_number.strip().upper()]
    if not found:
        raise ApplicationError(_("No issued invoice or credit note has that number."))
    invoice = found[0]
    if invoice.currency != line.currency:
        raise ApplicationError(_("The document is in another currency than the line."))
    now = timezone.now()
    for current in Match.objects.filter(tenant=tenant, line=line, status__in=LIVE):
        Match.objects.filter(tenant=tenant, line=line, invoice_id=current.invoice_id,
                             status=MatchStatus.REJECTED).delete()
        current.status = MatchStatus.REJECTED
        current.decided_by = actor if getattr(actor, "pk", None) else None
        current.decided_at = now
        current.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    match = Match.objects.create(
        tenant=tenant, line=line, invoice_id=invoice.id, amount=line.amount_paid,
        currency=line.currency, method=MatchMethod.MANUAL, confidence=Decimal("1.000"),
        status=MatchStatus.CONFIRMED, reason="manual",
        decided_by=actor if getattr(actor, "pk", None) else None, decided_at=now,
    )
    audit_record(actor=actor, action=AuditAction.CREATE, instance=match,
                 summary="remittance line applied by hand",
                 after={"invoice": invoice.number, "line": line.pk})
    return match
