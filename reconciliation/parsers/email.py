"""The "Remittance Advice" e-mail Amazon sends to the remittance contact.

The body (HTML in practice, plain text when forwarded or pasted) carries a
block of payment facts (supplier site, payment number, payment date,
payment amount/currency) and a table of invoice lines with the export's
columns. Read with the stdlib ``email`` package (an .eml upload) or given
as pasted text; HTML tables are flattened with the stdlib HTML parser.
"""

from __future__ import annotations

import email
import email.policy
import re
from html.parser import HTMLParser

from reconciliation.parsers.records import ParseResult, PaymentRecord, RemittanceParseError
from reconciliation.parsers.tabular import REQUIRED, header_map, table_parse
from reconciliation.parsers.values import (
    ValueError_,
    date_parse,
    money_parse,
    text_decode,
)

_FACTS = {
    "payment_number": ("payment number", "payment no", "remittance number", "payment #"),
    "payment_date": ("payment date", "remittance date"),
    "payment_amount": ("payment amount", "total payment", "remittance amount", "amount"),
    "payment_currency": ("payment currency", "currency"),
    "payee_name": ("supplier site", "vendor", "supplier", "payee"),
}
_FACT_INDEX = {alias: key for key, aliases in _FACTS.items() for alias in aliases}


class _TableFlattener(HTMLParser):
    """HTML -> rows of cell texts; text outside tables becomes one-cell rows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._loose: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "tr":
            self._flush_loose()
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag in ("br", "p", "div") and self._row is None:
            self._flush_loose()

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "table":
            self.rows.append([])

    def handle_data(self, data):
        if self._skip:
            return
        if self._cell is not None:
            self._cell.append(data)
        elif self._row is None:
            self._loose.append(data)

    def _flush_loose(self):
        text = " ".join("".join(self._loose).split())
        if text:
            self.rows.extend([part] for part in text.split("\n") if part)
        self._loose = []

    def close(self):
        super().close()
        self._flush_loose()


def _tokens(line: str) -> list[tuple[int, int, str]]:
    """Cells of a space-aligned line: runs separated by two or more spaces."""
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", line)]


def _plain_rows(text: str) -> list[list[str]]:
    """Plain-text body -> rows. Tab- or pipe-separated lines split on their
    separator; space-aligned tables are cut by the header's column spans
    (an empty column leaves no gap in the spaces, only in the alignment)."""
    rows: list[list[str]] = []
    spans: list[tuple[int, int]] | None = None
    for line in text.expandtabs(8).splitlines() if "\t" not in text else text.splitlines():
        stripped = line.strip().strip("|")
        if not stripped:
            rows.append([])
            spans = None
            continue
        if "\t" in stripped:
            rows.append([c.strip() for c in stripped.split("\t")])
            continue
        if "|" in stripped:
            rows.append([c.strip() for c in stripped.split("|")])
            continue
        tokens = _tokens(line)
        if spans is None:
            cells = [t[2] for t in tokens]
            if len(cells) > 1 and all(k in header_map(cells) for k in REQUIRED):
                starts = [t[0] for t in tokens]
                spans = [(start, starts[i + 1] if i + 1 < len(starts) else 10**6)
                         for i, start in enumerate(starts)]
                rows.append(cells)
            elif ":" in stripped or len(cells) == 1:
                rows.append([stripped])
            else:
                rows.append(cells)
            continue
        cells = [""] * len(spans)
        for start, end, value in tokens:
            overlaps = [max(0, min(end, s_end) - max(start, s_start))
                        for s_start, s_end in spans]
            best = max(range(len(spans)), key=lambda i: (overlaps[i], -abs(spans[i][0] - start)))
            cells[best] = (cells[best] + " " + value).strip()
        rows.append(cells)
    return rows


def message_body(data: bytes) -> tuple[str, bool]:
    """(body text, is_html) of an .eml, or the pasted text itself."""
    head = data[:2048].decode("latin-1").lower()
    if re.search(r"^(subject|from|mime-version|content-type|received):", head, re.M):
        message = email.message_from_bytes(data, policy=email.policy.default)
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        part = html or plain
        if part is None:
            raise RemittanceParseError("no_body", "The e-mail has no text or HTML body.")
        try:
            content = part.get_content()
        except (LookupError, UnicodeDecodeError):
            content = text_decode(part.get_payload(decode=True) or b"")
        return content, part is html
    text = text_decode(data)
    return text, bool(re.search(r"<(table|html|tr)\b", text[:20000], re.I))


def email_parse(data: bytes, *, currency_default: str = "") -> ParseResult:
    body, is_html = message_body(data)
    if is_html:
        flattener = _TableFlattener()
        flattener.feed(body)
        flattener.close()
        rows = flattener.rows
    else:
        rows = _plain_rows(body)
    facts = _facts_read(rows)
    if not facts.payment_number:
        raise RemittanceParseError("no_payment_number", "The e-mail names no payment number.")
    table_start = next((i for i, row in enumerate(rows)
                        if all(key in header_map(row) for key in REQUIRED)), None)
    if table_start is None:
        raise RemittanceParseError("no_lines", "The e-mail has no table of invoice lines.")
    return table_parse(rows[table_start:], first_line=table_start + 1, defaults=facts,
                       currency_default=currency_default)


def _facts_read(rows: list[list[str]]) -> PaymentRecord:
    found: dict[str, str] = {}
    for row in rows:
        pairs = []
        if len(row) == 1 and ":" in row[0]:
            pairs.append(row[0].split(":", 1))
        elif len(row) == 2:
            pairs.append(row)
        for key_text, value in pairs:
            key = _FACT_INDEX.get(" ".join(key_text.lower().strip(" :").split()))
            if key and key not in found and value.strip():
                found[key] = value.strip()[:120]
    amount, amount_currency = None, None
    if "payment_amount" in found:
        try:
            amount, amount_currency = money_parse(found["payment_amount"])
        except ValueError_:
            raise RemittanceParseError(
                "bad_payment_amount", "The payment amount is not an amount.") from None
    payment_date = None
    if "payment_date" in found:
        try:
            payment_date = date_parse(found["payment_date"])
        except ValueError_:
            raise RemittanceParseError(
                "bad_payment_date", "The payment date is not a date.") from None
    currency = (found.get("payment_currency", "")[:3].upper() or amount_currency or "")
    return PaymentRecord(
        payment_number=found.get("payment_number", "")[:64], currency=currency,
        payment_date=payment_date, declared_amount=amount,
        payee_name=found.get("payee_name", "")[:200],
    )
