"""Remittance parsers: every format yields the same ``ParseResult``."""

from __future__ import annotations

import re

from reconciliation.models import RemittanceSource
from reconciliation.parsers.edifact import edifact_parse
from reconciliation.parsers.email import email_parse
from reconciliation.parsers.records import (
    LineRecord,
    ParseResult,
    PaymentRecord,
    RemittanceParseError,
    RowError,
)
from reconciliation.parsers.tabular import csv_parse, xlsx_parse
from reconciliation.parsers.x12 import x12_parse

PARSERS = {
    RemittanceSource.CSV: csv_parse,
    RemittanceSource.XLSX: xlsx_parse,
    RemittanceSource.EMAIL: email_parse,
    RemittanceSource.EDIFACT: edifact_parse,
    RemittanceSource.X12: x12_parse,
}


def source_detect(data: bytes, filename: str = "") -> str:
    """The format from the content first (names lie), the name second."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \r\n\t")
    name = filename.lower()
    if head.startswith(b"PK\x03\x04"):
        return RemittanceSource.XLSX
    if head.startswith(b"ISA"):
        return RemittanceSource.X12
    if head.startswith((b"UNA", b"UNB")):
        return RemittanceSource.EDIFACT
    if name.endswith(".eml") or _looks_like_mail(head):
        return RemittanceSource.EMAIL
    if b"<table" in head.lower() or b"<html" in head.lower():
        return RemittanceSource.EMAIL
    # Pasted e-mail text: "Payment Number: ..." as a label, not a column.
    if re.search(rb"(?im)^\s*(remittance advice|payment (number|no\.?|#)\s*:)", head):
        return RemittanceSource.EMAIL
    return RemittanceSource.CSV


def _looks_like_mail(head: bytes) -> bool:
    lowered = head[:1024].lower()
    return any(lowered.startswith(k) or b"\n" + k in lowered
               for k in (b"subject:", b"from:", b"mime-version:", b"received:"))


def remittance_parse(data: bytes, source_type: str, *, currency_default: str = "") -> ParseResult:
    return PARSERS[source_type](data, currency_default=currency_default)


__all__ = [
    "LineRecord", "PARSERS", "ParseResult", "PaymentRecord", "RemittanceParseError", "RowError",
    "remittance_parse", "source_detect",
]
