"""EN 16931 arithmetic: line amounts, the VAT breakdown and the totals.

Pure functions over Decimals, so the record, the CII XML and Amazon's
payload all carry the same numbers. The rules (EN 16931-1 §6.4 and the
CEN business rules BR-CO-10..17, BR-DEC-*):
- amounts have at most 2 decimals (the currency's own precision if less);
- line net amount = quantity x net unit price, rounded (BT-131);
- per VAT category and rate: taxable amount = lines + charges - allowances
  (BT-116), tax = taxable x rate / 100, rounded once per category (BT-117);
- BT-109 = BT-106 - BT-107 + BT-108; BT-110 = sum of BT-117;
  BT-112 = BT-109 + BT-110; BT-115 = BT-112 (no prepayment).
Rounding is half up, as the CEN examples do.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from acorn.money import currency_exponent

HUNDRED = Decimal("100")
# EN 16931 allows at most two decimals on amounts (BR-DEC-*).
MAX_AMOUNT_DECIMALS = 2


def amount_round(value: Decimal, currency: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise TypeError(f"Amounts must be Decimal, not {type(value).__name__}.")
    places = min(currency_exponent(currency), MAX_AMOUNT_DECIMALS)
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class LineInput:
    quantity: int
    net_unit_cost: Decimal
    tax_category: str
    tax_rate: Decimal


@dataclass(frozen=True, slots=True)
class AllowanceChargeInput:
    is_charge: bool
    amount: Decimal
    tax_category: str
    tax_rate: Decimal


@dataclass(frozen=True, slots=True)
class TaxBreakdown:
    category: str
    rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    line_amounts: list[Decimal]
    line_total: Decimal
    allowance_total: Decimal
    charge_total: Decimal
    tax_exclusive_total: Decimal
    tax_total: Decimal
    tax_inclusive_total: Decimal
    amount_due: Decimal
    breakdown: list[TaxBreakdown] = field(default_factory=list)


def totals_compute(
    *, currency: str, lines: list[LineInput],
    allowance_charges: list[AllowanceChargeInput] | None = None,
) -> DocumentTotals:
    """Every amount of a document from its lines and allowances/charges."""
    allowance_charges = allowance_charges or []
    line_amounts = [
        amount_round(Decimal(line.quantity) * line.net_unit_cost, currency) for line in lines
    ]
    taxable: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line, amount in zip(lines, line_amounts, strict=True):
        taxable[(line.tax_category, line.tax_rate)] += amount
    allowance_total = charge_total = Decimal("0")
    for item in allowance_charges:
        amount = amount_round(item.amount, currency)
        if item.is_charge:
            charge_total += amount
            taxable[(item.tax_category, item.tax_rate)] += amount
        else:
            allowance_total += amount
            taxable[(item.tax_category, item.tax_rate)] -= amount
    breakdown = [
        TaxBreakdown(
            category=category, rate=rate, taxable_amount=base,
            tax_amount=amount_round(base * rate / HUNDRED, currency),
        )
        for (category, rate), base in sorted(taxable.items())
    ]
    line_total = sum(line_amounts, Decimal("0"))
    tax_exclusive = line_total - allowance_total + charge_total
    tax_total = sum((b.tax_amount for b in breakdown), Decimal("0"))
    tax_inclusive = tax_exclusive + tax_total
    return DocumentTotals(
        line_amounts=line_amounts, line_total=line_total, allowance_total=allowance_total,
        charge_total=charge_total, tax_exclusive_total=tax_exclusive, tax_total=tax_total,
        tax_inclusive_total=tax_inclusive, amount_due=tax_inclusive, breakdown=breakdown,
    )
