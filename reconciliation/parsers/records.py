"""The normalised records every remittance parser yields.

CSV/XLSX exports, e-mails, EDIFACT REMADV and X12 820 all become
``PaymentRecord`` objects with ``LineRecord`` lines, so the import service and
the matching engine know one shape. Amounts are Decimal, signed as the
remittance carries them (deductions negative); never a float.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


class RemittanceParseError(Exception):
    """The file as a whole cannot be read (not a row-level problem)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class RowError:
    """A problem on one line of the source. ``message`` names the field and
    the rule, never the whole cell (a cell may be huge or hostile)."""

    line: int | None
    field: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "code": self.code,
                "message": self.message}


@dataclass
class LineRecord:
    source_line: int
    invoice_number: str
    amount_paid: Decimal
    currency: str
    description: str = ""
    type_code: str = ""
    invoice_date: dt.date | None = None
    discount_taken: Decimal = Decimal("0")
    gross_amount: Decimal | None = None
    purchase_order_number: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class PaymentRecord:
    payment_number: str
    currency: str
    payment_date: dt.date | None = None
    # The payment's own amount where the source states it; None when the
    # source only lists lines (then the lines' sum is the payment).
    declared_amount: Decimal | None = None
    external_id: str = ""
    payer_name: str = ""
    payee_name: str = ""
    marketplace_id: str = ""
    lines: list[LineRecord] = field(default_factory=list)

    @property
    def lines_total(self) -> Decimal:
        return sum((line.amount_paid for line in self.lines), Decimal("0"))

    @property
    def amount(self) -> Decimal:
        return self.lines_total if self.declared_amount is None else self.declared_amount


@dataclass
class ParseResult:
    payments: list[PaymentRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
