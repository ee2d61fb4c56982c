"""Reads of the reconciliation app: imports, payments, the review queue,
open items and their ageing. Tenant explicit, a fixed number of queries
per page; money summed per currency only."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from invoicing.selectors import invoice_list_for_matching
from reconciliation.deduction_selectors import deduction_overview_cards
from reconciliation.models import (
    LineKind,
    Match,
    MatchStatus,
    Payment,
    RemittanceImport,
    RemittanceLine,
)

ZERO = Decimal("0")
# Matches that move a balance: what the engine was sure of and what a
# person confirmed; suggestions waiting for review do not, yet.
SETTLING = (MatchStatus.AUTO, MatchStatus.CONFIRMED)
LIVE = (MatchStatus.AUTO, MatchStatus.NEEDS_REVIEW, MatchStatus.CONFIRMED)
AGEING_BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90")


def remittance_import_list(*, tenant) -> QuerySet[RemittanceImport]:
    return RemittanceImport.objects.filter(tenant=tenant).order_by("-created_at", "-id")


def remittance_import_get(*, tenant, import_id: int) -> RemittanceImport | None:
    return RemittanceImport.objects.filter(tenant=tenant, pk=import_id).first()


def payment_list(*, tenant, currency: str = "", account_id: int | None = None,
                 unbalanced: bool = False) -> QuerySet[Payment]:
    queryset = Payment.objects.filter(tenant=tenant)
    if currency:
        queryset = queryset.filter(currency=currency.upper())
    if account_id:
        queryset = queryset.filter(account_id=account_id)
    if unbalanced:
        queryset = queryset.filter(is_balanced=False)
    unmatched = (RemittanceLine.objects.filter(payment=OuterRef("pk"))
                 .exclude(Exists(_live_match_of_line())).values("payment")
                 .annotate(n=Count("id")).values("n"))
    return queryset.annotate(
        line_count=Count("lines", distinct=True),
        unmatched_count=Coalesce(Subquery(unmatched), 0),
    ).order_by("-payment_date", "-id")


def _live_match_of_line():
    return Match.objects.filter(line=OuterRef("pk"), status__in=LIVE)


def payment_with_lines(*, tenant, payment_queryset: QuerySet[Payment]) -> QuerySet[Payment]:
    """Payments with their lines and live matches in two more queries."""
    live = Match.objects.filter(tenant=tenant, status__in=LIVE).order_by("id")
    lines = (RemittanceLine.objects.filter(tenant=tenant).order_by("line_number")
             .prefetch_related(Prefetch("matches", queryset=live, to_attr="live_matches")))
    return payment_queryset.prefetch_related(Prefetch("lines", queryset=lines))


def payment_get(*, tenant, payment_id: int) -> Payment | None:
    queryset = Payment.objects.filter(tenant=tenant, pk=payment_id)
    return payment_with_lines(tenant=tenant, payment_queryset=queryset).first()


def invoice_numbers_by_id(*, tenant, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {inv.id: inv.number for inv in invoice_list_for_matching(tenant=tenant, ids=ids)
            if inv.id in ids}


def review_queue(*, tenant) -> QuerySet[Match]:
    return (Match.objects.filter(tenant=tenant, status=MatchStatus.NEEDS_REVIEW)
            .select_related("line", "line__payment").order_by("created_at", "id"))


def unmatched_lines(*, tenant) -> QuerySet[RemittanceLine]:
    """Lines no document explains yet, the other half of the review work."""
    return (RemittanceLine.objects.filter(tenant=tenant)
            .exclude(matches__status__in=LIVE).select_related("payment")
            .order_by("payment_id", "line_number"))


@dataclass(frozen=True)
class OpenItem:
    invoice_id: int
    number: str
    kind: str
    account_id: int
    currency: str
    issue_date: dt.date | None
    due_date: dt.date | None
    amount: Decimal
    paid: Decimal
    deducted: Decimal
    discount: Decimal
    balance: Decimal
    age_days: int
    bucket: str


def _bucket(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "days_1_30"
    if days_past_due <= 60:
        return "days_31_60"
    if days_past_due <= 90:
        return "days_61_90"
    return "over_90"


def open_items(*, tenant, account_id: int | None = None, currency: str = "",
               as_of: dt.date | None = None, include_settled: bool = False) -> list[OpenItem]:
    """Per issued invoice (credit notes count negative): amount, paid,
    deducted (signed: claims negative, reversals positive), discount taken,
    balance and age. Two queries whatever the number of documents."""
    as_of = as_of or timezone.localdate()
    applied = (
        Match.objects.filter(tenant=tenant, status__in=SETTLING)
        .values("invoice_id")
        .annotate(
            paid=Sum("amount", filter=Q(line__kind=LineKind.INVOICE_PAYMENT)),
            deducted=Sum("amount", filter=~Q(line__kind=LineKind.INVOICE_PAYMENT)),
            discount=Sum("line__discount_taken", filter=Q(line__kind=LineKind.INVOICE_PAYMENT)),
        )
    )
    by_invoice = {row["invoice_id"]: row for row in applied}
    items = []
    for invoice in invoice_list_for_matching(tenant=tenant):
        if account_id and invoice.account_id != account_id:
            continue
        if currency and invoice.currency != currency.upper():
            continue
        row = by_invoice.get(invoice.id, {})
        sign = -1 if invoice.kind == "credit_note" else 1
        amount = invoice.amount_due * sign
        paid = row.get("paid") or ZERO
        deducted = row.get("deducted") or ZERO
        discount = row.get("discount") or ZERO
        balance = amount - paid - deducted - discount
        if not include_settled and balance == 0:
            continue
        due = invoice.payment_due_date or invoice.issue_date
        age = (as_of - invoice.issue_date).days if invoice.issue_date else 0
        items.append(OpenItem(
            invoice_id=invoice.id, number=invoice.number, kind=invoice.kind,
            account_id=invoice.account_id, currency=invoice.currency,
            issue_date=invoice.issue_date, due_date=invoice.payment_due_date,
            amount=amount, paid=paid, deducted=deducted, discount=discount, balance=balance,
            age_days=age, bucket=_bucket((as_of - due).days if due else 0),
        ))
    items.sort(key=lambda item: (item.issue_date or dt.date.min, item.invoice_id))
    return items


def open_items_ageing(*, items: list[OpenItem]) -> list[dict]:
    """Balances per (account, currency) and ageing bucket; never across
    currencies."""
    table: dict[tuple[int, str], dict] = defaultdict(
        lambda: {bucket: ZERO for bucket in AGEING_BUCKETS} | {"total": ZERO, "count": 0})
    for item in items:
        row = table[(item.account_id, item.currency)]
        row[item.bucket] += item.balance
        row["total"] += item.balance
        row["count"] += 1
    return [{"account_id": account_id, "currency": currency, **values}
            for (account_id, currency), values in sorted(table.items())]


def ledger_totals(*, tenant) -> list[dict]:
    """Per currency: received, lines matched and unmatched (every cent of a
    payment is one or the other)."""
    rows = (RemittanceLine.objects.filter(tenant=tenant)
            .annotate(is_matched=Exists(_live_match_of_line()))
            .values("currency").annotate(
                total=Sum("amount_paid"),
                matched=Sum("amount_paid", filter=Q(is_matched=True)),
            ).order_by("currency"))
    return [{"currency": r["currency"], "total": r["total"] or ZERO,
             "matched": r["matched"] or ZERO,
             "unmatched": (r["total"] or ZERO) - (r["matched"] or ZERO)} for r in rows]


def overview_cards(*, tenant) -> list[dict]:
    """The reconciliation cards of the home page (acorn/overview.py)."""
    return deduction_overview_cards(tenant=tenant)
