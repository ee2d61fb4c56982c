"""Vendor Central's payment/remittance export (CSV and XLSX) and any table
of remittance lines (the e-mail's invoice table uses the same columns).

Column sets: Vendor Central -> Payments -> Remittance -> "Export to a
Spreadsheet" lists, per line, the payment (number, date, amount, currency)
and the invoice (number, date, description, invoice amount, discount taken,
amount paid, remaining amount); Reason Automation's data dictionary of the
same report names invoice_amount, amount_in_payment_currency, amount_paid
and remaining_amount. Header spellings vary by marketplace language and
tool, so headers are matched by normalised aliases, in any order.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal

from reconciliation.parsers import bounds
from reconciliation.parsers.records import (
    LineRecord,
    ParseResult,
    PaymentRecord,
    RemittanceParseError,
    RowError,
)
from reconciliation.parsers.values import (
    ValueError_,
    cell_clean,
    date_parse,
    day_first_infer,
    money_parse,
    text_decode,
)

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "payment_number": ("payment number", "payment no", "payment #", "payment id",
                       "remittance number", "remittance no", "remittance id", "zahlungsnummer",
                       "numéro de paiement", "payment_number"),
    "payment_date": ("payment date", "remittance date", "zahlungsdatum", "date de paiement",
                     "payment_date"),
    "payment_amount": ("payment amount", "total payment", "remittance amount", "zahlungsbetrag",
                       "payment_amount"),
    "payment_currency": ("payment currency", "payment_currency", "currency", "währung",
                         "devise", "invoice currency"),
    "invoice_number": ("invoice number", "invoice no", "invoice #", "invoice id", "invoice",
                       "rechnungsnummer", "numéro de facture", "invoice_number"),
    "invoice_date": ("invoice date", "rechnungsdatum", "date de facture", "invoice_date"),
    "description": ("description", "invoice description", "beschreibung", "memo",
                    "transaction description"),
    "type_code": ("type", "transaction type", "invoice type", "code", "type code"),
    "gross_amount": ("invoice amount", "gross amount", "original amount", "rechnungsbetrag",
                     "montant de la facture", "invoice_amount"),
    "discount_taken": ("discount taken", "terms discount taken", "discount", "skonto",
                       "discount amount", "terms discount"),
    "amount_paid": ("amount paid", "paid amount", "net amount", "amount in payment currency",
                    "amount_in_payment_currency", "amount_paid", "gezahlter betrag",
                    "montant payé", "amount"),
    "remaining_amount": ("remaining amount", "remaining_amount", "balance", "open amount"),
    "purchase_order_number": ("po number", "purchase order", "purchase order number", "po",
                              "po #", "bestellnummer"),
    "vendor_code": ("vendor code", "supplier site", "vendor", "supplier"),
    "marketplace": ("marketplace", "marketplace id", "marketplace_id"),
}
_ALIAS_INDEX = {alias: key for key, aliases in COLUMN_ALIASES.items() for alias in aliases}
REQUIRED = ("invoice_number", "amount_paid")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def header_normalise(text: str) -> str:
    text = cell_clean(text).lstrip("\ufeff").lower()
    text = re.sub(r"[\s_]+", " ", text)
    return text.strip(" :*")


def header_map(header: list[str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _ALIAS_INDEX.get(header_normalise(cell))
        if key and key not in mapping:
            mapping[key] = index
    return mapping


def header_find(rows: list[list[str]], *, scan: int = 15) -> int | None:
    """Index of the header row: exports sometimes start with a title line
    or a blank row before the table."""
    for index, row in enumerate(rows[:scan]):
        mapping = header_map(row)
        if all(key in mapping for key in REQUIRED):
            return index
    return None


def csv_rows(data: bytes) -> list[list[str]]:
    text = text_decode(data)
    delimiter = delimiter_guess(text[:8192])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    for row in reader:
        rows.append(row)
        if len(rows) > bounds.MAX_ROWS + 20:
            raise RemittanceParseError("too_many_rows", f"More than {bounds.MAX_ROWS} rows.")
    return rows


def delimiter_guess(sample: str) -> str:
    """The delimiter that splits some early line into the most fields
    (csv.Sniffer is thrown by a title line above the table)."""
    lines = sample.splitlines()[:20]
    best, best_fields = ",", 1
    for candidate in (",", ";", "\t", "|"):
        fields = max((len(next(csv.reader([line], delimiter=candidate), []))
                      for line in lines if line), default=1)
        if fields > best_fields:
            best, best_fields = candidate, fields
    return best


def xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > bounds.MAX_DECOMPRESSED_BYTES:
                raise RemittanceParseError("too_large", "The workbook is too large unpacked.")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise RemittanceParseError("not_xlsx", "The file is not a readable XLSX workbook.") from exc
    rows: list[list[str]] = []
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            rows.append([cell_clean(value) for value in row])
            if len(rows) > bounds.MAX_ROWS + 20:
                raise RemittanceParseError("too_many_rows", f"More than {bounds.MAX_ROWS} rows.")
    finally:
        workbook.close()
    return rows


def table_parse(rows: list[list[str]], *, first_line: int = 1,
                defaults: PaymentRecord | None = None,
                currency_default: str = "") -> ParseResult:
    """Rows (header somewhere near the top) -> payments grouped by payment
    number, in the order they first appear. ``defaults`` supplies the
    payment where the table has no payment columns (the e-mail)."""
    result = ParseResult()
    header_index = header_find(rows)
    if header_index is None:
        raise RemittanceParseError(
            "no_header", "No header row with an invoice number and an amount paid column.")
    columns = header_map(rows[header_index])
    if "payment_number" not in columns and (defaults is None or not defaults.payment_number):
        raise RemittanceParseError("no_payment_number", "The file names no payment number.")
    body = [(first_line + header_index + 1 + offset, row)
            for offset, row in enumerate(rows[header_index + 1:])]
    dates = [row[columns[key]] for key in ("invoice_date", "payment_date") if key in columns
             for _, row in body if len(row) > columns[key]]
    day_first = day_first_infer(dates)
    payments: dict[str, PaymentRecord] = {}
    for line_number, row in body:
        if not any(cell_clean(cell) for cell in row):
            continue
        if _is_total_row(row, columns):
            continue
        result.rows += 1
        _row_read(row, line_number, columns, day_first, payments, defaults,
                  currency_default, result)
        if len(result.errors) >= bounds.MAX_ERRORS:
            break
    result.payments = list(payments.values())
    return result


def _is_total_row(row: list[str], columns: dict[str, int]) -> bool:
    number = _cell(row, columns, "invoice_number").lower()
    return number in ("total", "totals", "grand total", "summe", "gesamt")


def _cell(row: list[str], columns: dict[str, int], key: str) -> str:
    index = columns.get(key)
    if index is None or index >= len(row):
        return ""
    return cell_clean(row[index])


def _row_read(row, line_number, columns, day_first, payments, defaults, currency_default,
              result: ParseResult) -> None:
    errors: list[RowError] = []
    width = len(row)
    cells = {key: (row[index].strip() if isinstance(row[index], str) else cell_clean(row[index]))
             for key, index in columns.items() if index < width}

    def text(key: str, limit: int = 120) -> str:
        value = cells.get(key, "")
        if len(value) > limit:
            errors.append(RowError(line_number, key, "too_long",
                                   f"{key} is longer than {limit} characters."))
            return ""
        return value

    def money(key: str, required: bool = False) -> tuple[Decimal | None, str | None]:
        value = cells.get(key, "")
        if not value:
            if required:
                errors.append(RowError(line_number, key, "required", f"{key} is required."))
            return None, None
        try:
            return money_parse(value)
        except ValueError_ as exc:
            errors.append(RowError(line_number, key, exc.code, f"{key} is not an amount."))
            return None, None

    def date(key: str):
        value = cells.get(key, "")
        if not value:
            return None
        try:
            return date_parse(value, day_first=day_first)
        except ValueError_ as exc:
            errors.append(RowError(line_number, key, exc.code, f"{key} is not a date."))
            return None

    payment_number = text("payment_number", 64) or (defaults.payment_number if defaults else "")
    invoice_number = text("invoice_number")
    if not invoice_number:
        errors.append(RowError(line_number, "invoice_number", "required",
                               "invoice_number is required."))
    amount_paid, paid_currency = money("amount_paid", required=True)
    gross, gross_currency = money("gross_amount")
    discount, _ = money("discount_taken")
    remaining, _ = money("remaining_amount")
    payment_amount, payment_amount_currency = money("payment_amount")
    currency = (text("payment_currency", 3).upper() or paid_currency or payment_amount_currency
                or gross_currency or (defaults.currency if defaults else "") or currency_default)
    if not _CURRENCY_RE.match(currency or ""):
        errors.append(RowError(line_number, "payment_currency", "required",
                               "No currency for this line (column, symbol or account)."))
    invoice_date = date("invoice_date")
    payment_date = date("payment_date")
    description = text("description", 300)
    type_code = text("type_code", 40)
    purchase_order = text("purchase_order_number", 40)
    extra = {}
    for key in ("vendor_code", "marketplace"):
        if value := text(key, 80):
            extra[key] = value
    if remaining is not None:
        extra["remaining_amount"] = str(remaining)
    if errors:
        result.errors.extend(errors)
        return
    payment = payments.get(payment_number)
    if payment is None:
        payment = PaymentRecord(
            payment_number=payment_number, currency=currency,
            payment_date=payment_date or (defaults.payment_date if defaults else None),
            declared_amount=payment_amount if payment_amount is not None else (
                defaults.declared_amount if defaults else None),
            payer_name=defaults.payer_name if defaults else "",
            payee_name=defaults.payee_name if defaults else "",
            marketplace_id=extra.get("marketplace", defaults.marketplace_id if defaults else ""),
            external_id=defaults.external_id if defaults else "",
        )
        payments[payment_number] = payment
    elif payment.currency != currency:
        result.errors.append(RowError(line_number, "payment_currency", "mixed_currency",
                                      "A payment's lines are in more than one currency."))
        return
    elif payment_amount is not None and payment.declared_amount not in (None, payment_amount):
        result.errors.append(RowError(line_number, "payment_amount", "inconsistent",
                                      "The payment amount differs from earlier lines."))
        return
    payment.lines.append(LineRecord(
        source_line=line_number, invoice_number=invoice_number, amount_paid=amount_paid,
        currency=currency, description=description, type_code=type_code,
        invoice_date=invoice_date, discount_taken=discount or Decimal("0"),
        gross_amount=gross, purchase_order_number=purchase_order, extra=extra,
    ))


def csv_parse(data: bytes, *, currency_default: str = "") -> ParseResult:
    return table_parse(csv_rows(data), currency_default=currency_default)


def xlsx_parse(data: bytes, *, currency_default: str = "") -> ParseResult:
    return table_parse(xlsx_rows(data), currency_default=currency_default)
