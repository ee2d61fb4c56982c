"""Every remittance format yields the same normalised records, from
fixtures written after the documented formats, with their messy cases."""

from decimal import Decimal
from pathlib import Path

import pytest

from reconciliation.models import LineKind, RemittanceSource
from reconciliation.parsers import RemittanceParseError, remittance_parse, source_detect
from reconciliation.parsers.classify import line_classify
from reconciliation.parsers.values import ValueError_, date_parse, money_parse

FIXTURES = Path(__file__).parent / "fixtures"


def parse(name: str, currency_default: str = ""):
    data = (FIXTURES / name).read_bytes()
    return remittance_parse(data, source_detect(data, name), currency_default=currency_default)


@pytest.mark.parametrize(("text", "amount", "currency"), [
    ("$1,234.56", "1234.56", None),
    ("1.234,56 €", "1234.56", "EUR"),
    ("(12.00)", "-12.00", None),
    ("($42.00)", "-42.00", None),
    ("12.00-", "-12.00", None),
    ("-34,50", "-34.50", None),
    ("EUR 5", "5", "EUR"),
    ("1 234,56", "1234.56", None),
    ("¥1,234", "1234", "JPY"),
    ("£0.99", "0.99", "GBP"),
    ("1,250.00 USD", "1250.00", "USD"),
])
def test_amounts_as_remittances_print_them(text, amount, currency):
    value, found = money_parse(text)
    assert isinstance(value, Decimal)
    assert (value, found) == (Decimal(amount), currency)


@pytest.mark.parametrize("text", ["twelve", "1,23,4", "", "1e5", "NaN", "12.3.4,5"])
def test_what_is_not_an_amount_is_refused(text):
    with pytest.raises(ValueError_):
        money_parse(text)


@pytest.mark.parametrize(("text", "day_first", "expected"), [
    ("2026-01-05", False, (2026, 1, 5)),
    ("20260105", False, (2026, 1, 5)),
    ("01/05/2026", False, (2026, 1, 5)),
    ("01/05/2026", True, (2026, 5, 1)),
    ("15.01.2026", False, (2026, 1, 15)),
    ("01-Sep-2020", False, (2020, 9, 1)),
    ("Sep 8, 2026", False, (2026, 9, 8)),
    ("2026-01-15 00:00:00", False, (2026, 1, 15)),
    ("25/12/2025", False, (2025, 12, 25)),
])
def test_dates_in_the_formats_vendor_central_uses(text, day_first, expected):
    assert date_parse(text, day_first=day_first).timetuple()[:3] == expected


@pytest.mark.parametrize(("number", "description", "kind", "base"), [
    ("INV-000102", "", LineKind.INVOICE_PAYMENT, "INV-000102"),
    ("INV-000102SC", "", LineKind.SHORTAGE_CLAIM, "INV-000102"),
    ("INV-000102SCR", "", LineKind.SHORTAGE_CLAIM_REVERSAL, "INV-000102"),
    ("INV-000102SCRSC", "", LineKind.SHORTAGE_CLAIM_REVISED, "INV-000102"),
    ("1234567VCBSINV", "", LineKind.CHARGEBACK, ""),
    ("1234-56789012", "", LineKind.COOP, ""),
    ("100045-PROVISION FOR RECEIVABLES", "", LineKind.PROVISION, "100045"),
    ("100045-PROVISION FOR RECEIVABLESR", "", LineKind.PROVISION_REVERSAL, "100045"),
    ("IPAPUS1234567", "", LineKind.PRICE_PROTECTION, ""),
    ("INV-7PQV", "", LineKind.PRICE_CLAIM, "INV-7"),
    ("INV-7PPV", "", LineKind.PRICE_CLAIM, "INV-7"),
    ("INV-7RTV", "", LineKind.RETURN, "INV-7"),
    ("ADJUSTMENT", "", LineKind.OTHER, ""),
    ("88123", "Co-op marketing accrual", LineKind.COOP, ""),
])
def test_line_kinds_from_the_documented_suffixes(number, description, kind, base):
    assert line_classify(number, description) == (kind, base)


def test_vendor_central_csv_us():
    result = parse("vc_export_us.csv")
    assert result.errors == []
    [payment] = result.payments
    assert (payment.payment_number, payment.currency, payment.declared_amount) == (
        "88001234", "USD", Decimal("1858.56"))
    assert payment.lines_total == payment.declared_amount
    second = payment.lines[1]
    assert (second.gross_amount, second.discount_taken, second.amount_paid) == (
        Decimal("700.00"), Decimal("14.00"), Decimal("686.00"))
    assert payment.lines[2].amount_paid == Decimal("-42.00")


def test_vendor_central_csv_german_cp1252_semicolons_and_euro_amounts():
    result = parse("vc_export_de_cp1252.csv")
    assert result.errors == []
    [payment] = result.payments
    assert payment.currency == "EUR"
    assert payment.payment_date.isoformat() == "2026-01-15"
    assert [line.amount_paid for line in payment.lines] == [
        Decimal("1234.56"), Decimal("-34.50"), Decimal("12.00"), Decimal("-50.00")]


def test_utf16_tab_separated_with_title_line_reordered_columns_and_totals_row():
    result = parse("vc_export_uk_utf16.txt")
    assert result.errors == []
    [payment] = result.payments
    assert payment.currency == "GBP"
    assert len(payment.lines) == 4  # the "Total" row is not a line
    assert payment.lines_total == Decimal("450.00")


def test_utf8_bom_two_payments_one_of_them_unbalanced():
    result = parse("vc_export_two_payments_bom.csv")
    first, second = result.payments
    assert first.lines_total == first.declared_amount
    assert (second.declared_amount, second.lines_total) == (Decimal("999.00"), Decimal("245.00"))


def test_xlsx_export_with_typed_cells():
    result = parse("vc_export.xlsx")
    assert result.errors == []
    [payment] = result.payments
    assert source_detect((FIXTURES / "vc_export.xlsx").read_bytes()) == RemittanceSource.XLSX
    assert [type(line.amount_paid) for line in payment.lines] == [Decimal] * 3
    assert payment.lines[0].discount_taken == Decimal("20")
    assert payment.lines[0].invoice_date.isoformat() == "2025-12-01"
    assert payment.lines[2].purchase_order_number == "PO77777"


def test_bad_rows_are_reported_by_line_and_field_without_the_cell():
    result = parse("vc_export_bad_rows.csv")
    assert [(e.line, e.field, e.code) for e in result.errors] == [
        (3, "invoice_number", "required"), (4, "amount_paid", "not_a_number")]
    assert all("twelve" not in e.message for e in result.errors)


def test_remittance_advice_eml_html_tables():
    result = parse("remittance_advice.eml")
    [payment] = result.payments
    assert (payment.payment_number, payment.payee_name, payment.currency) == (
        "33009999", "ACME-US", "USD")
    assert payment.payment_date.isoformat() == "2026-09-01"
    assert payment.declared_amount == payment.lines_total == Decimal("1210.00")


def test_remittance_advice_pasted_text_with_an_empty_column():
    result = parse("remittance_advice_pasted.txt")
    [payment] = result.payments
    got = [(line.invoice_number, line.description, line.amount_paid) for line in payment.lines]
    assert got == [
        ("INV-000701", "", Decimal("100.00")),
        ("INV-000701SC", "Shortage claim", Decimal("-5.00"))]
    assert payment.lines[0].invoice_date.isoformat() == "2026-08-01"


def test_x12_820_bpr_trn_rmr_adx():
    result = parse("x12_820.edi")
    assert result.errors == []
    [payment] = result.payments
    assert (payment.payment_number, payment.currency, payment.declared_amount) == (
        "EFT20260115001", "USD", Decimal("1445.00"))
    assert payment.lines_total == payment.declared_amount
    numbers = [line.invoice_number for line in payment.lines]
    assert numbers == ["INV-000901", "INV-000902", "INV-000902SC", "9876543VCBSINV"]
    assert payment.lines[0].purchase_order_number == "5XYZ987"
    assert payment.lines[1].discount_taken == Decimal("5.00")
    assert "SC:-30.00" in payment.lines[2].extra["adjustments"]


def test_x12_820_other_separators():
    [payment] = parse("x12_820_pipes.edi").payments
    assert payment.payment_date.isoformat() == "2026-02-01"
    assert payment.lines_total == Decimal("75.00")


def test_x12_without_trn_is_a_row_error():
    data = (FIXTURES / "x12_820_pipes.edi").read_bytes().replace(b"TRN|1|EFT20260201002\n", b"")
    result = remittance_parse(data, RemittanceSource.X12)
    assert [e.code for e in result.errors] == ["required"]
    assert result.payments == []


def test_edifact_remadv_with_decimal_comma():
    result = parse("remadv_eu.edi")
    [payment] = result.payments
    assert (payment.payment_number, payment.currency, payment.external_id) == (
        "REMADV7001", "EUR", "PAYREF7001")
    assert payment.declared_amount == payment.lines_total == Decimal("1165.50")
    assert payment.lines[0].purchase_order_number == "4ABCD123"
    assert payment.lines[1].extra["adjustment_reason"] == "SC"


def test_edifact_two_messages_one_line_with_a_release_character():
    first, second = parse("remadv_two_messages.edi").payments
    assert first.lines[0].invoice_number == "INV+000802"
    assert (second.currency, second.lines_total) == ("GBP", Decimal("20.00"))


@pytest.mark.parametrize(("data", "source", "code"), [
    (b"hello", RemittanceSource.X12, "not_x12"),
    (b"UNA:+.? 'UNB+UNOC:3", RemittanceSource.EDIFACT, "edifact_syntax"),
    (b"PK\x03\x04garbage", RemittanceSource.XLSX, "not_xlsx"),
    (b"a,b,c\n1,2,3\n", RemittanceSource.CSV, "no_header"),
    (b"Subject: Remittance Advice\n\nnothing here", RemittanceSource.EMAIL, "no_payment_number"),
])
def test_unreadable_files_are_refused_with_a_code(data, source, code):
    with pytest.raises(RemittanceParseError) as caught:
        remittance_parse(data, source)
    assert caught.value.code == code
