"""Property tests over generated remittances (Hypothesis):
matched + unmatched = total per currency; shuffled input gives the same
result; re-import adds 0 rows; never a float; currencies never mixed."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acorn.tenancy import tenant_scope
from acorn.tests.factories import TenantFactory
from reconciliation import selectors
from reconciliation.models import Match, MatchStatus, Payment, RemittanceLine
from reconciliation.parsers import remittance_parse
from reconciliation.parsers.values import money_parse
from reconciliation.services import remittance_import_create
from reconciliation.tests.factories import issued_document

CURRENCIES = ["USD", "EUR", "GBP", "JPY"]
_serial = itertools.count()

cents = st.integers(min_value=1, max_value=10_000_000)


@st.composite
def formatted_amount(draw):
    value = Decimal(draw(cents)) / 100
    negative = draw(st.booleans())
    style = draw(st.sampled_from(["plain", "us", "eu", "paren", "trailing"]))
    whole, frac = f"{value:.2f}".split(".")
    grouped = f"{int(whole):,}"
    text = {
        "plain": f"{value:.2f}",
        "us": f"${grouped}.{frac}",
        "eu": f"{grouped.replace(',', '.')},{frac} €",
        "paren": f"({grouped}.{frac})",
        "trailing": f"{grouped}.{frac}-",
    }[style]
    if style in ("paren", "trailing"):
        return text, -value
    if negative:
        text = "-" + text
        value = -value
    return text, value


@given(formatted_amount())
@settings(max_examples=300)
def test_amounts_in_any_printed_style_read_back_exactly(case):
    text, expected = case
    value, _ = money_parse(text)
    assert isinstance(value, Decimal) and value == expected


@st.composite
def remittance(draw):
    """Invoices (number, amount, currency) and payments over them."""
    n_invoices = draw(st.integers(min_value=1, max_value=8))
    invoices = []
    for i in range(n_invoices):
        currency = draw(st.sampled_from(CURRENCIES))
        exponent = 0 if currency == "JPY" else 2
        amount = Decimal(draw(st.integers(min_value=100, max_value=10**6))).scaleb(-exponent)
        invoices.append((f"G-{i:04d}", amount, currency))
    payments = []
    for p in range(draw(st.integers(min_value=1, max_value=3))):
        currency = draw(st.sampled_from(CURRENCIES))
        exponent = 0 if currency == "JPY" else 2
        lines = []
        for _ in range(draw(st.integers(min_value=1, max_value=6))):
            kind = draw(st.sampled_from(["pay", "sc", "chargeback", "unknown", "partial"]))
            target = draw(st.sampled_from(invoices))
            small = Decimal(draw(st.integers(min_value=1, max_value=5000))).scaleb(-exponent)
            # Paying an invoice in another currency than its own happens
            # (and must never auto-match); the amount is in the payment's.
            if kind == "pay":
                same = target[2] == currency
                lines.append((target[0], target[1] if same else small))
            elif kind == "partial":
                lines.append((target[0], min(small, target[1]) if target[2] == currency
                              else small))
            elif kind == "sc":
                lines.append((target[0] + "SC", -small))
            elif kind == "chargeback":
                lines.append((f"{draw(st.integers(1000, 9999))}VCBSINV", -small))
            else:
                lines.append((f"X{draw(st.integers(1, 99))}", small))
        payments.append((f"H{p}", currency, lines))
    return invoices, payments


def _csv(payments, prefix: str, order: list[tuple[int, int]] | None = None) -> bytes:
    rows = [(p, j) for p, (_, _, lines) in enumerate(payments) for j in range(len(lines))]
    if order is not None:
        rows = order
    out = ["Payment Number,Invoice Number,Amount Paid,Currency"]
    for p, j in rows:
        number, currency, lines = payments[p]
        invoice_number, amount = lines[j]
        out.append(f"{prefix}{number},{invoice_number},{amount},{currency}")
    return ("\n".join(out) + "\n").encode()


def _outcome(tenant):
    with tenant_scope(tenant):
        matches = sorted(
            (m.line.payment.payment_number.split("-", 1)[1], m.line.invoice_number_raw,
             str(m.line.amount_paid), m.method, m.status, m.currency)
            for m in Match.objects.select_related("line__payment"))
        lines = RemittanceLine.objects.count()
    return matches, lines


@pytest.mark.django_db
@given(remittance(), st.randoms(use_true_random=False))
@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_generated_remittances_hold_the_ledger_invariants(case, rnd: random.Random):
    invoices, payments = case
    serial = next(_serial)
    first = TenantFactory(slug=f"prop-a-{serial}")
    second = TenantFactory(slug=f"prop-b-{serial}")
    for tenant in (first, second):
        for number, amount, currency in invoices:
            issued_document(tenant=tenant, number=number, amount=str(amount), currency=currency)
    data = _csv(payments, "R-")
    parsed = remittance_parse(data, "csv")
    assert not parsed.errors
    for payment in parsed.payments:
        for line in payment.lines:
            assert isinstance(line.amount_paid, Decimal)  # never a float
    remittance_import_create(tenant=first, data=data, filename="a.csv")
    order = [(p, j) for p, (_, _, lines) in enumerate(payments) for j in range(len(lines))]
    rnd.shuffle(order)
    remittance_import_create(tenant=second, data=_csv(payments, "R-", order), filename="b.csv")

    # Shuffled input gives the same result (line positions aside).
    assert _outcome(first) == _outcome(second)

    with tenant_scope(first):
        totals = {row["currency"]: row for row in selectors.ledger_totals(tenant=first)}
        expected: dict[str, Decimal] = {}
        for _number, currency, lines in payments:
            expected[currency] = expected.get(currency, Decimal("0")) + sum(
                (amount for _, amount in lines), Decimal("0"))
        # matched + unmatched = total, per currency, never across.
        assert set(totals) == set(expected)
        for currency, row in totals.items():
            assert row["total"] == expected[currency]
            assert row["matched"] + row["unmatched"] == row["total"]
            assert all(isinstance(row[k], Decimal) for k in ("total", "matched", "unmatched"))
        # A match never joins currencies unless it waits for a person.
        for match in Match.objects.select_related("line"):
            assert match.currency == match.line.currency
            if match.status == MatchStatus.AUTO:
                invoice_currency = {n: c for n, _, c in invoices}[
                    match.line.base_invoice_number or match.line.invoice_number_raw]
                assert invoice_currency == match.currency
        # A payment's lines sum to it (no declared amount: the sum is the amount).
        for payment in Payment.objects.all():
            assert payment.is_balanced and payment.amount == payment.lines_total
        before = (Payment.objects.count(), RemittanceLine.objects.count(), Match.objects.count())
    # Re-import (other bytes, same payments) adds 0 rows.
    again, created = remittance_import_create(tenant=first, data=data + b"\n", filename="c.csv")
    assert created and again.lines_created == 0
    with tenant_scope(first):
        after = (Payment.objects.count(), RemittanceLine.objects.count(), Match.objects.count())
        items = selectors.open_items(tenant=first, include_settled=True)
    assert after == before
    # Open items: balances per currency, Decimal throughout.
    for item in items:
        assert isinstance(item.balance, Decimal)
        assert item.balance == item.amount - item.paid - item.deducted - item.discount
