"""EN 16931 arithmetic of invoicing.services.totals (no database)."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.services.totals import (
    AllowanceChargeInput,
    LineInput,
    amount_round,
    totals_compute,
)


def test_lines_of_two_rates_with_a_freight_charge_and_a_discount():
    totals = totals_compute(currency="EUR", lines=[
        LineInput(3, D("9.995"), "S", D("19")),    # 29.985 -> 29.99
        LineInput(7, D("1.2345"), "S", D("19")),   # 8.6415 -> 8.64
        LineInput(2, D("4.50"), "S", D("7")),      # 9.00
    ], allowance_charges=[
        AllowanceChargeInput(True, D("5.00"), "S", D("19")),    # freight
        AllowanceChargeInput(False, D("1.00"), "S", D("7")),    # discount
    ])
    assert totals.line_amounts == [D("29.99"), D("8.64"), D("9.00")]
    assert totals.line_total == D("47.63")
    assert (totals.charge_total, totals.allowance_total) == (D("5.00"), D("1.00"))
    assert totals.tax_exclusive_total == D("51.63")
    # 19 %: (29.99 + 8.64 + 5.00) = 43.63 -> 8.2897 -> 8.29; 7 %: 8.00 -> 0.56
    assert [(b.category, b.rate, b.taxable_amount, b.tax_amount) for b in totals.breakdown] == [
        ("S", D("7"), D("8.00"), D("0.56")), ("S", D("19"), D("43.63"), D("8.29"))]
    assert totals.tax_total == D("8.85")
    assert totals.tax_inclusive_total == totals.amount_due == D("60.48")


def test_yen_has_no_decimals_and_kwd_is_capped_at_two():
    totals = totals_compute(currency="JPY", lines=[LineInput(3, D("333.5"), "O", D("0"))])
    assert totals.line_total == D("1001")
    assert amount_round(D("1.2345"), "KWD") == D("1.23")


def test_floats_are_refused():
    with pytest.raises(TypeError):
        amount_round(1.5, "EUR")


money = st.decimals(min_value=D("0.0001"), max_value=D("99999"), places=4)
rates = st.sampled_from([D("0"), D("5.5"), D("7"), D("19"), D("20"), D("21")])


@given(st.lists(st.tuples(st.integers(1, 10_000), money, rates), min_size=1, max_size=30))
def test_the_cen_totals_rules_hold_for_any_lines(rows):
    """BR-CO-10, 13, 14, 15: the totals add up, whatever the lines."""
    totals = totals_compute(currency="EUR", lines=[LineInput(q, p, "S", r) for q, p, r in rows])
    assert totals.line_total == sum(totals.line_amounts)
    assert totals.tax_exclusive_total == totals.line_total
    assert totals.tax_total == sum(b.tax_amount for b in totals.breakdown)
    assert totals.tax_inclusive_total == totals.tax_exclusive_total + totals.tax_total
    assert all(a.as_tuple().exponent >= -2 for a in totals.line_amounts)
